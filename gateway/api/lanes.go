package api

import (
	"context"
	"errors"
	"strconv"

	"github.com/gofiber/fiber/v2"

	"github.com/hookgate/hookgate/gateway/webhooks"
	"github.com/hookgate/hookgate/store"
)

// handleHeldLanes is GET /api/v1/webhooks/{webhookId}/lanes: the work
// orders of an ordered webhook whose lane waits for a dead delivery
// (ordering_on_dead = "hold"), with the blocking delivery and how many
// wait behind it. Empty for a webhook without held lanes.
func (s *Server) handleHeldLanes(c *fiber.Ctx) error {
	ctx := c.UserContext()
	w, err := s.hooks.Find(ctx, ClaimsOf(c).CompanyID, c.Params("webhookId"))
	if err != nil {
		return err
	}
	lanes, err := s.lanes()
	if err != nil {
		return err
	}
	held, err := lanes.HeldLanes(ctx, w.WebhookID)
	if err != nil {
		return err
	}
	out := make([]fiber.Map, len(held))
	for i, l := range held {
		out[i] = heldLaneView(l)
	}
	return s.okOne(c, fiber.Map{"webhookId": w.WebhookID, "ordering": webhooks.OrderingOf(w),
		"orderingOnDead": webhooks.OnDeadOf(w), "heldLanes": out})
}

func heldLaneView(l store.HeldLane) fiber.Map {
	return fiber.Map{"workOrderId": l.WorkOrderID, "deliveryUuid": l.DeliveryID, "sequence": l.Sequence,
		"deadReason": l.DeadReason, "deadAt": apiTime(l.DeadAt), "waiting": l.Waiting}
}

// handleReleaseLane is POST /api/v1/webhooks/{webhookId}/lanes/{workOrderId}/release:
// the held lane goes on past its dead delivery, which stays dead (and can
// still be retried, outside the lane's order).
func (s *Server) handleReleaseLane(c *fiber.Ctx) error {
	wo, err := strconv.ParseInt(c.Params("workOrderId"), 10, 64)
	if err != nil || wo <= 0 {
		return badRequest("'workOrderId' must be a positive integer, not " + quote(c.Params("workOrderId")))
	}
	ctx := c.UserContext()
	w, err := s.hooks.Find(ctx, ClaimsOf(c).CompanyID, c.Params("webhookId"))
	if err != nil {
		return err
	}
	d, err := s.releaseLane(ctx, w.WebhookID, wo)
	if errors.Is(err, store.ErrNotFound) {
		return Errorf(fiber.StatusNotFound, "work order "+strconv.FormatInt(wo, 10)+" has no held lane on webhook "+w.WebhookID+
			" (GET /api/v1/webhooks/"+w.WebhookID+"/lanes lists them)")
	}
	if err != nil {
		return err
	}
	return s.okOne(c, fiber.Map{"workOrderId": wo, "deliveryUuid": d.ID, "released": true})
}

// lanes is the store's held-lane part; both drivers have it.
func (s *Server) lanes() (store.Lanes, error) {
	l, ok := s.store.(store.Lanes)
	if !ok {
		return nil, Errorf(fiber.StatusNotImplemented, "this storage driver keeps no held lanes")
	}
	return l, nil
}

// releaseLane calls the gateway's ReleaseLane (which wakes the
// dispatcher), or the store's when none was given.
func (s *Server) releaseLane(ctx context.Context, webhookID string, wo int64) (*store.Delivery, error) {
	if s.release != nil {
		return s.release(ctx, webhookID, wo)
	}
	l, err := s.lanes()
	if err != nil {
		return nil, err
	}
	return l.ReleaseLane(ctx, webhookID, wo, s.clock.Now())
}
