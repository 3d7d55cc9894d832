package api

import (
	"github.com/gofiber/fiber/v2"
)

// anyScope passes a token holding one of scopes, else 403.
func anyScope(scopes ...string) fiber.Handler {
	return func(c *fiber.Ctx) error {
		cl := ClaimsOf(c)
		for _, s := range scopes {
			if cl.HasScope(s) {
				return c.Next()
			}
		}
		return Errorf(fiber.StatusForbidden, "this token lacks the "+scopes[0]+" scope")
	}
}

// Scope checks: webhooks:write may also read what it changes; events:publish
// alone reaches none of these routes.
var (
	canRead  = anyScope(ScopeWebhooksRead, ScopeWebhooksWrite)
	canWrite = RequireScope(ScopeWebhooksWrite)
)

// publicRoutes are the management routes that need no bearer token: the
// OpenAPI document and pre-signed delivery-log URLs (which carry their own
// signature). They are rate limited per address.
func (s *Server) publicRoutes(app *fiber.App) {
	app.Use("/api/v1/webhooks", s.rateLimit)
	app.Use("/api/v1/transforms", s.rateLimit)
	app.Get("/api/v1/openapi.json", s.rateLimit, s.handleOpenAPI)
	app.Get("/api/v1/webhooks/delivery-logs/:deliveryId/log", s.handleLogFile)
}

// apiRoutes are the management API behind the bearer token. Fixed paths
// (events, delivery-logs) come before /{webhookId}, which would match them.
func (s *Server) apiRoutes(authed fiber.Router) {
	authed.Get("/v1/webhooks/events", canRead, s.handleEvents)
	authed.Get("/v1/webhooks/delivery-logs", canRead, s.handleListLogs)
	authed.Get("/v1/webhooks/delivery-logs/:deliveryId", canRead, s.handleLogDetails)
	authed.Patch("/v1/webhooks/delivery-logs/:deliveryId/retry", canWrite, s.handleRetry)
	authed.Get("/v1/webhooks", canRead, s.handleListWebhooks)
	authed.Post("/v1/webhooks", canWrite, s.handleCreateWebhook)
	authed.Get("/v1/webhooks/:webhookId", canRead, s.handleGetWebhook)
	authed.Put("/v1/webhooks/:webhookId", canWrite, s.handleUpdateWebhook)
	authed.Delete("/v1/webhooks/:webhookId", canWrite, s.handleDeleteWebhook)
	authed.Get("/v1/webhooks/:webhookId/history", canRead, s.handleHistory)
	authed.Post("/v1/webhooks/:webhookId/test", canWrite, s.handleTestWebhook)
	authed.Post("/v1/webhooks/:webhookId/recover", canWrite, s.handleRecover)
	authed.Get("/v1/webhooks/:webhookId/lanes", canRead, s.handleHeldLanes)
	authed.Post("/v1/webhooks/:webhookId/lanes/:workOrderId/release", canWrite, s.handleReleaseLane)
	authed.Delete("/v1/webhooks/:webhookId/:attributeType/:attributeName", canWrite, s.handleDeleteAttribute)
	authed.Post("/v1/transforms/preview", canRead, s.handlePreview)
	authed.Get("/v1/stats", s.rateLimit, canRead, s.handleStats)
	authed.Get("/v1/sinks", s.rateLimit, canRead, s.handleListSinks)
}
