package gateway

import (
	"context"
	"errors"
	"fmt"
	"maps"
	"slices"
	"strings"

	"github.com/google/uuid"

	"github.com/hookgate/hookgate/config"
	"github.com/hookgate/hookgate/store"
)

// configNamespace makes the UUID of an HCL webhook a function of its block
// label, so the same block keeps the same webhookId across restarts.
var configNamespace = uuid.MustParse("5f0b7a4e-8a52-4a8e-9a0e-0c1f7d9e3b21")

// ConfigWebhookID is the webhookId of the HCL block `webhook "name"`.
func ConfigWebhookID(name string) string {
	return uuid.NewSHA1(configNamespace, []byte("webhook:"+name)).String()
}

// reconcileConfigWebhooks makes the store hold exactly the webhooks of the
// HCL file among those whose source is config: new blocks are created,
// changed ones updated (keeping a generated secret), removed ones deleted.
func (g *Gateway) reconcileConfigWebhooks(ctx context.Context) error {
	existing, err := g.store.ListWebhooks(ctx, store.WebhookFilter{})
	if err != nil {
		return err
	}
	stale := map[string]*store.Webhook{}
	for _, w := range existing {
		if w.Source == store.SourceConfig {
			stale[w.WebhookID] = w
		}
	}
	now := g.clock.Now()
	for _, cw := range g.cfg.Webhooks {
		id := ConfigWebhookID(cw.Name)
		old := stale[id]
		delete(stale, id)
		w := g.webhookFromConfig(cw, id)
		if old == nil {
			if w.Secret == "" {
				w.Secret = uuid.NewString()
			}
			w.Version, w.CreatedAt, w.UpdatedAt = 1, now, now
			hist := &store.HistoryEntry{WebhookID: id, CompanyID: w.CompanyID, Action: "webhook_created",
				Changes: map[string]any{"url": w.URL, "events": w.Events, "status": w.Status, "source": w.SourceRef}, CreatedAt: now}
			if err := g.store.PutWebhook(ctx, w, hist); err != nil {
				return err
			}
			continue
		}
		if w.Secret == "" {
			w.Secret = old.Secret
		}
		w.ID, w.CreatedAt, w.Version, w.UpdatedAt = old.ID, old.CreatedAt, old.Version, old.UpdatedAt
		if sameWebhook(old, w) {
			continue
		}
		w.Version, w.UpdatedAt = old.Version+1, now
		hist := &store.HistoryEntry{WebhookID: id, CompanyID: w.CompanyID, Action: "webhook_updated",
			Changes: map[string]any{"source": w.SourceRef}, CreatedAt: now}
		if err := g.store.PutWebhook(ctx, w, hist); err != nil {
			return err
		}
	}
	for id, w := range stale {
		hist := &store.HistoryEntry{WebhookID: id, CompanyID: w.CompanyID, Action: "webhook_deleted",
			Changes: map[string]any{"reason": "removed from " + g.cfg.File}, CreatedAt: now}
		if err := g.store.DeleteWebhook(ctx, id, hist); err != nil && !errors.Is(err, store.ErrNotFound) {
			return err
		}
	}
	return nil
}

func (g *Gateway) webhookFromConfig(cw config.Webhook, id string) *store.Webhook {
	return &store.Webhook{
		WebhookID: id, CompanyID: cw.CompanyID, UserID: cw.UserID, URL: cw.URL,
		Method: strings.ToLower(cw.Method), Status: cw.Status, Events: slices.Clone(cw.Events),
		Secret: cw.Secret, NotificationEmail: cw.NotificationEmail, ModelProperties: slices.Clone(cw.ModelProperties),
		Headers: maps.Clone(cw.Headers), PayloadTemplate: cw.PayloadTemplate, Sink: cw.Sink,
		Source:    store.SourceConfig,
		SourceRef: fmt.Sprintf("%s:%d webhook %q", cw.Range.Filename, cw.Range.Start.Line, cw.Name),
	}
}

// sameWebhook compares everything a config block sets.
func sameWebhook(a, b *store.Webhook) bool {
	return a.CompanyID == b.CompanyID && a.UserID == b.UserID && a.URL == b.URL && a.Method == b.Method &&
		a.Status == b.Status && slices.Equal(a.Events, b.Events) && a.Secret == b.Secret &&
		a.NotificationEmail == b.NotificationEmail && slices.Equal(a.ModelProperties, b.ModelProperties) &&
		maps.Equal(a.Headers, b.Headers) && a.PayloadTemplate == b.PayloadTemplate && a.Sink == b.Sink &&
		a.SourceRef == b.SourceRef
}
