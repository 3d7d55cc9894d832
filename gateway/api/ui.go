package api

import (
	"strings"

	"github.com/gofiber/fiber/v2"
	"github.com/gofiber/fiber/v2/middleware/adaptor"

	"github.com/hookgate/hookgate/dashboard"
)

// mountUI serves the web dashboard at /ui. The dashboard calls this same
// app in-process (adaptor.FiberApp) with the user's bearer token, so every
// page goes through the API's auth, scopes, isolation, validation and rate
// limits: it has no back door into the store.
func (s *Server) mountUI(app *fiber.App) {
	ui := dashboard.New(dashboard.Options{
		API:       adaptor.FiberApp(app),
		BasePath:  "/ui",
		Secure:    strings.HasPrefix(strings.ToLower(s.cfg.Server.PublicURL), "https://"),
		PublicURL: s.cfg.Server.PublicURL,
		TraceURL:  s.cfg.Telemetry.TraceURL,
		Now:       s.clock.Now,
		Logger:    s.log,
	})
	app.Use("/ui", adaptor.HTTPHandler(ui))
}
