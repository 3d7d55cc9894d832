package gateway

import (
	"time"

	"github.com/gofiber/fiber/v2"
	"github.com/gofiber/fiber/v2/middleware/adaptor"
	"github.com/gofiber/fiber/v2/middleware/recover"
	"github.com/prometheus/client_golang/prometheus/promhttp"

	"github.com/hookgate/hookgate/gateway/api"
)

// newApp builds the Fiber app and its routes.
func (g *Gateway) newApp() *fiber.App {
	app := fiber.New(fiber.Config{
		AppName:               "hookgate",
		BodyLimit:             int(g.cfg.Server.BodyLimit),
		ErrorHandler:          api.ErrorHandler(g.cfg.Server.BodyLimit, g.clock, g.log),
		DisableStartupMessage: true,
		ReadTimeout:           g.cfg.Server.ReadTimeout,
		IdleTimeout:           g.cfg.Server.IdleTimeout,
		// Handlers copy what they keep (bytes.Clone); Immutable would copy every value.
		Immutable: false,
		// Bodies are read after the headers are judged (bodies.go): no
		// allocation follows an announced length before the token is checked.
		StreamRequestBody:            true,
		DisablePreParseMultipartForm: true,
	})
	app.Server().HeaderReceived = g.headerReceived
	app.Use(recover.New())
	app.Use(g.bodyGate)
	app.Get("/healthz", func(c *fiber.Ctx) error { return c.JSON(fiber.Map{"status": "ok"}) })
	app.Get("/readyz", g.handleReady)
	app.Get("/metrics", adaptor.HTTPHandler(promhttp.HandlerFor(g.metrics.registry, promhttp.HandlerOpts{})))
	app.Post("/authentication/api/oauth/token", g.rateLimit, g.handleToken)
	g.publicRoutes(app)

	authed := app.Group("/api", g.requireToken, g.readBody)
	authed.Post("/v1/events", api.RequireScope(api.ScopePublish), g.handlePublish)
	g.apiRoutes(authed)
	g.mountUI(app)
	app.Use(func(c *fiber.Ctx) error {
		return api.Errorf(fiber.StatusNotFound, "no route for "+c.Method()+" "+c.Path())
	})
	return app
}

func (g *Gateway) handleReady(c *fiber.Ctx) error {
	if !g.ready.Load() {
		return c.Status(fiber.StatusServiceUnavailable).JSON(fiber.Map{"status": "starting or stopping"})
	}
	return c.JSON(fiber.Map{"status": "ready"})
}

// ok writes a success envelope {metadata:{timestamp}, result}.
func (g *Gateway) ok(c *fiber.Ctx, status int, result any) error {
	return c.Status(status).JSON(fiber.Map{
		"metadata": fiber.Map{"timestamp": g.clock.Now().UTC().Format(time.RFC3339Nano)},
		"result":   result,
	})
}
