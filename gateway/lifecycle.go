package gateway

import (
	"context"
	"errors"
	"time"

	"github.com/gofiber/fiber/v2"

	"github.com/hookgate/hookgate/gateway/webhooks"
	"github.com/hookgate/hookgate/store"
)

// errWebhookNotFound is the spec's 404. Another company's webhook gets the
// same answer as one that does not exist: a token learns nothing of other
// companies, not even that an id is taken.
var errWebhookNotFound = errorf(fiber.StatusNotFound, "Webhook not found")

// findWebhook returns the caller's company's webhook or the 404.
func (g *Gateway) findWebhook(ctx context.Context, company int64, webhookID string) (*store.Webhook, error) {
	w, err := g.store.GetWebhook(ctx, webhookID)
	if errors.Is(err, store.ErrNotFound) || (err == nil && w.CompanyID != company) {
		return nil, errWebhookNotFound
	}
	return w, err
}

// writable refuses changes to a webhook that may not change over the API:
// one defined in HCL (409, naming the file and block) or an archived one
// (422: archiving is permanent).
func writable(w *store.Webhook) error {
	if w.Source == store.SourceConfig {
		return errorf(fiber.StatusConflict, "webhook "+w.WebhookID+" is defined in "+w.SourceRef+
			" and is read-only over the API: edit that block and reload the gateway (SIGHUP or `hookgate reload`)")
	}
	if w.Status == store.StatusArchived {
		return errorf(fiber.StatusUnprocessableEntity, "webhook "+w.WebhookID+
			" is archived and read-only: an archived webhook cannot be changed, reactivated or deleted; create a new webhook instead")
	}
	return nil
}

// saveWebhook stores next (a new version of old, or a new webhook when old
// is nil) with its history in one transaction, then updates the in-memory
// index the fan-out reads. A webhook that stops being active has its
// pending deliveries dead-lettered with reason, so none is dropped silently;
// they can be recovered later (POST /webhooks/{id}/recover).
func (g *Gateway) saveWebhook(ctx context.Context, old, next *store.Webhook, hist []*store.HistoryEntry, reason string) error {
	if err := g.store.PutWebhookChanges(ctx, next, hist); err != nil {
		return err
	}
	stored := *next // the index keeps its own copy
	g.index.Put(&stored)
	if old != nil && old.Status == store.StatusActive && next.Status != store.StatusActive {
		g.deadLetterPending(ctx, next.WebhookID, reason)
	}
	return nil
}

// removeWebhook deletes w (its logs and history stay) and dead-letters its
// pending deliveries.
func (g *Gateway) removeWebhook(ctx context.Context, w *store.Webhook, hist *store.HistoryEntry, reason string) error {
	if err := g.store.DeleteWebhook(ctx, w.WebhookID, hist); err != nil {
		return err
	}
	g.index.Remove(w.WebhookID)
	g.transformer.Forget(w.WebhookID)
	g.deadLetterPending(ctx, w.WebhookID, reason)
	return nil
}

// deadLetterPending is best effort: should it fail, the deliveries left
// pending are still not lost, because the worker that claims one finds the
// webhook not active and dead-letters it ("not sent").
func (g *Gateway) deadLetterPending(ctx context.Context, webhookID, reason string) {
	n, err := g.store.DeadLetterPending(context.WithoutCancel(ctx), webhookID, reason, g.clock.Now())
	if err != nil {
		g.log.Error("dead-lettering pending deliveries", "webhook", webhookID, "err", err)
		return
	}
	if n > 0 {
		g.log.Info("dead-lettered pending deliveries", "webhook", webhookID, "count", n, "reason", reason)
	}
}

// statusReason explains in a dead letter why a webhook stopped delivering.
func statusReason(status store.WebhookStatus, user int64) string {
	verb := "set to " + string(status)
	if status == store.StatusArchived {
		verb = "archived"
	}
	return "webhook " + verb + " by user " + itoa(user) + ": not sent"
}

// deactivateLocked makes old inactive as the system (user 0) with reason
// in its history, and dead-letters its pending deliveries with it. The
// caller holds g.mgmt.mu.
func (g *Gateway) deactivateLocked(ctx context.Context, old *store.Webhook, reason string) (*store.Webhook, error) {
	now := g.clock.Now()
	next := cloneWebhook(old)
	next.Status = store.StatusInactive
	nextVersion(old, next, now)
	hist := webhooks.Stamp(webhooks.Diff(old, next), next, webhooks.SystemUser, now, reason)
	return next, g.saveWebhook(ctx, old, next, hist, "webhook "+reason+": not sent")
}

// nextVersion prepares next as the following version of old.
func nextVersion(old, next *store.Webhook, now time.Time) {
	next.ID, next.WebhookID, next.CompanyID = old.ID, old.WebhookID, old.CompanyID
	next.Source, next.SourceRef, next.CreatedAt = old.Source, old.SourceRef, old.CreatedAt
	next.Version, next.UpdatedAt = old.Version+1, now
}
