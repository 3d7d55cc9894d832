package gateway

import (
	"github.com/gofiber/fiber/v2"

	"github.com/hookgate/hookgate/gateway/api"
)

// anyScope passes a token holding one of scopes, else 403.
func anyScope(scopes ...string) fiber.Handler {
	return func(c *fiber.Ctx) error {
		cl := api.ClaimsOf(c)
		for _, s := range scopes {
			if cl.HasScope(s) {
				return c.Next()
			}
		}
		return api.Errorf(fiber.StatusForbidden, "this token lacks the "+scopes[0]+" scope")
	}
}

// Scope checks: webhooks:write may also read what it changes; events:publish
// alone reaches none of these routes.
var (
	canRead  = anyScope(api.ScopeWebhooksRead, api.ScopeWebhooksWrite)
	canWrite = api.RequireScope(api.ScopeWebhooksWrite)
)

// publicRoutes are the management routes that need no bearer token: the
// OpenAPI document and pre-signed delivery-log URLs (which carry their own
// signature). They are rate limited per address.
func (g *Gateway) publicRoutes(app *fiber.App) {
	app.Use("/api/v1/webhooks", g.rateLimit)
	app.Use("/api/v1/transforms", g.rateLimit)
	app.Get("/api/v1/openapi.json", g.rateLimit, g.handleOpenAPI)
	app.Get("/api/v1/webhooks/delivery-logs/:deliveryId/log", g.handleLogFile)
}

// apiRoutes are the management API behind the bearer token. Fixed paths
// (events, delivery-logs) come before /{webhookId}, which would match them.
func (g *Gateway) apiRoutes(authed fiber.Router) {
	authed.Get("/v1/webhooks/events", canRead, g.handleEvents)
	authed.Get("/v1/webhooks/delivery-logs", canRead, g.handleListLogs)
	authed.Get("/v1/webhooks/delivery-logs/:deliveryId", canRead, g.handleLogDetails)
	authed.Patch("/v1/webhooks/delivery-logs/:deliveryId/retry", canWrite, g.handleRetry)
	authed.Get("/v1/webhooks", canRead, g.handleListWebhooks)
	authed.Post("/v1/webhooks", canWrite, g.handleCreateWebhook)
	authed.Get("/v1/webhooks/:webhookId", canRead, g.handleGetWebhook)
	authed.Put("/v1/webhooks/:webhookId", canWrite, g.handleUpdateWebhook)
	authed.Delete("/v1/webhooks/:webhookId", canWrite, g.handleDeleteWebhook)
	authed.Get("/v1/webhooks/:webhookId/history", canRead, g.handleHistory)
	authed.Post("/v1/webhooks/:webhookId/test", canWrite, g.handleTestWebhook)
	authed.Post("/v1/webhooks/:webhookId/recover", canWrite, g.handleRecover)
	authed.Delete("/v1/webhooks/:webhookId/:attributeType/:attributeName", canWrite, g.handleDeleteAttribute)
	authed.Post("/v1/transforms/preview", canRead, g.handlePreview)
	authed.Get("/v1/stats", g.rateLimit, canRead, g.handleStats)
	authed.Get("/v1/sinks", g.rateLimit, canRead, g.handleListSinks)
}
