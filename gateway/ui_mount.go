package gateway

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
func (g *Gateway) mountUI(app *fiber.App) {
	ui := dashboard.New(dashboard.Options{
		API:       adaptor.FiberApp(app),
		BasePath:  "/ui",
		Secure:    strings.HasPrefix(strings.ToLower(g.cfg.Server.PublicURL), "https://"),
		PublicURL: g.cfg.Server.PublicURL,
		Now:       g.clock.Now,
		Logger:    g.log,
	})
	app.Use("/ui", adaptor.HTTPHandler(ui))
}
