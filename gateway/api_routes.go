package gateway

import (
	"github.com/gofiber/fiber/v2"
)

// anyScope passes a token holding one of scopes, else 403.
func anyScope(scopes ...string) fiber.Handler {
	return func(c *fiber.Ctx) error {
		cl := claimsOf(c)
		for _, s := range scopes {
			if cl.HasScope(s) {
				return c.Next()
			}
		}
		return errorf(fiber.StatusForbidden, "this token lacks the "+scopes[0]+" scope")
	}
}

// Scope checks: webhooks:write may also read what it changes; events:publish
// alone reaches none of these routes.
var (
	canRead  = anyScope(ScopeWebhooksRead, ScopeWebhooksWrite)
	canWrite = requireScope(ScopeWebhooksWrite)
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
func (g *Gateway) apiRoutes(api fiber.Router) {
	api.Get("/v1/webhooks/events", canRead, g.handleEvents)
	api.Get("/v1/webhooks/delivery-logs", canRead, g.handleListLogs)
	api.Get("/v1/webhooks/delivery-logs/:deliveryId", canRead, g.handleLogDetails)
	api.Patch("/v1/webhooks/delivery-logs/:deliveryId/retry", canWrite, g.handleRetry)
	api.Get("/v1/webhooks", canRead, g.handleListWebhooks)
	api.Post("/v1/webhooks", canWrite, g.handleCreateWebhook)
	api.Get("/v1/webhooks/:webhookId", canRead, g.handleGetWebhook)
	api.Put("/v1/webhooks/:webhookId", canWrite, g.handleUpdateWebhook)
	api.Delete("/v1/webhooks/:webhookId", canWrite, g.handleDeleteWebhook)
	api.Get("/v1/webhooks/:webhookId/history", canRead, g.handleHistory)
	api.Post("/v1/webhooks/:webhookId/test", canWrite, g.handleTestWebhook)
	api.Post("/v1/webhooks/:webhookId/recover", canWrite, g.handleRecover)
	api.Delete("/v1/webhooks/:webhookId/:attributeType/:attributeName", canWrite, g.handleDeleteAttribute)
	api.Post("/v1/transforms/preview", canRead, g.handlePreview)
	api.Get("/v1/stats", g.rateLimit, canRead, g.handleStats)
	api.Get("/v1/sinks", g.rateLimit, canRead, g.handleListSinks)
}
