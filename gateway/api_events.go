package gateway

import (
	"strings"

	"github.com/gofiber/fiber/v2"

	"github.com/hookgate/hookgate/events"
)

// handleEvents is GET /api/v1/webhooks/events: the 33 events with name,
// label, description and model; ?model= keeps one model (any case).
func (g *Gateway) handleEvents(c *fiber.Ctx) error {
	model := strings.TrimSpace(c.Query("model"))
	out := make([]events.Event, 0, 33)
	for _, e := range events.All() {
		if model == "" || strings.EqualFold(e.Model, model) {
			out = append(out, e)
		}
	}
	return g.okAll(c, out, len(out), fiber.Map{"model": nullIfEmpty(model)})
}
