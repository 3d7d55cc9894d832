package api

import (
	"time"

	"github.com/gofiber/fiber/v2"
	"github.com/gofiber/fiber/v2/middleware/adaptor"
	"github.com/gofiber/fiber/v2/middleware/recover"
	"github.com/prometheus/client_golang/prometheus/promhttp"
)

// newApp builds the Fiber app and its routes.
func (s *Server) newApp() *fiber.App {
	app := fiber.New(fiber.Config{
		AppName:               "hookgate",
		BodyLimit:             int(s.cfg.Server.BodyLimit),
		ErrorHandler:          ErrorHandler(s.cfg.Server.BodyLimit, s.clock, s.log),
		DisableStartupMessage: true,
		ReadTimeout:           s.cfg.Server.ReadTimeout,
		IdleTimeout:           s.cfg.Server.IdleTimeout,
		// Handlers copy what they keep (bytes.Clone); Immutable would copy every value.
		Immutable: false,
		// Bodies are read after the headers are judged (bodies.go): no
		// allocation follows an announced length before the token is checked.
		StreamRequestBody:            true,
		DisablePreParseMultipartForm: true,
	})
	app.Server().HeaderReceived = s.headerReceived
	app.Use(recover.New())
	app.Use(s.bodyGate)
	app.Get("/healthz", func(c *fiber.Ctx) error { return c.JSON(fiber.Map{"status": "ok"}) })
	app.Get("/readyz", s.handleReady)
	app.Get("/metrics", adaptor.HTTPHandler(promhttp.HandlerFor(s.metrics, promhttp.HandlerOpts{})))
	app.Post("/authentication/api/oauth/token", s.rateLimit, s.handleToken)
	s.publicRoutes(app)

	authed := app.Group("/api", s.requireToken, s.readBody)
	authed.Post("/v1/events", RequireScope(ScopePublish), s.handlePublish)
	s.apiRoutes(authed)
	s.mountUI(app)
	app.Use(func(c *fiber.Ctx) error {
		return Errorf(fiber.StatusNotFound, "no route for "+c.Method()+" "+c.Path())
	})
	return app
}

func (s *Server) handleReady(c *fiber.Ctx) error {
	if !s.ready() {
		return c.Status(fiber.StatusServiceUnavailable).JSON(fiber.Map{"status": "starting or stopping"})
	}
	return c.JSON(fiber.Map{"status": "ready"})
}

// ok writes a success envelope {metadata:{timestamp}, result}.
func (s *Server) ok(c *fiber.Ctx, status int, result any) error {
	return c.Status(status).JSON(fiber.Map{
		"metadata": fiber.Map{"timestamp": s.clock.Now().UTC().Format(time.RFC3339Nano)},
		"result":   result,
	})
}
