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
	"github.com/hookgate/hookgate/gateway/webhooks"
	"github.com/hookgate/hookgate/store"
)

// configNamespace makes the UUID of an HCL webhook a function of its block
// label, so the same block keeps the same webhookId across restarts.
var configNamespace = uuid.MustParse("5f0b7a4e-8a52-4a8e-9a0e-0c1f7d9e3b21")

// ConfigWebhookID is the webhookId of the HCL block `webhook "name"`.
func ConfigWebhookID(name string) string {
	return uuid.NewSHA1(configNamespace, []byte("webhook:"+name)).String()
}

// ReloadSummary counts what applying the HCL webhooks changed.
type ReloadSummary struct {
	Created, Updated, Deleted, Unchanged int
	// Deactivated counts API webhooks whose company may no longer use
	// their sink (webhooks/sinks.go).
	Deactivated int
}

// reconcileConfigWebhooks applies the webhook blocks of the config the
// gateway started with.
func (g *Gateway) reconcileConfigWebhooks(ctx context.Context) error {
	_, err := g.applyConfigWebhooks(ctx, g.cfg.File, g.cfg.Webhooks)
	return err
}

// applyConfigWebhooks makes the store hold exactly the given blocks among
// the webhooks whose source is config: new blocks are created, changed ones
// updated (keeping a generated secret), removed ones deleted. Each change is
// recorded in history as the system (user 0) with the file and block as the
// reason, and the index the fan-out reads is updated at once. API webhooks
// whose sink their company may no longer use are deactivated.
//
// With a shared store one replica at a time applies them (an advisory
// lock): replicas starting or reloading together would otherwise both
// create a new block and record its history twice. The next one in finds
// every block unchanged.
func (g *Gateway) applyConfigWebhooks(ctx context.Context, file string, blocks []config.Webhook) (ReloadSummary, error) {
	var sum ReloadSummary
	err := g.exclusive(ctx, lockReconcile, func(ctx context.Context) error {
		var err error
		sum, err = g.applyConfigWebhooksLocked(ctx, file, blocks)
		return err
	})
	return sum, err
}

// applyConfigWebhooksLocked is applyConfigWebhooks under the reconcile lock.
func (g *Gateway) applyConfigWebhooksLocked(ctx context.Context, file string, blocks []config.Webhook) (ReloadSummary, error) {
	var sum ReloadSummary
	g.mgmt.mu.Lock()
	defer g.mgmt.mu.Unlock()
	existing, err := g.store.ListWebhooks(ctx, store.WebhookFilter{})
	if err != nil {
		return sum, err
	}
	stale := map[string]*store.Webhook{}
	for _, w := range existing {
		if w.Source == store.SourceConfig {
			stale[w.WebhookID] = w
		}
	}
	now := g.clock.Now()
	for _, cw := range blocks {
		id := ConfigWebhookID(cw.Name)
		old := stale[id]
		delete(stale, id)
		w := g.webhookFromConfig(cw, id)
		if old == nil {
			if w.Secret == "" {
				w.Secret = newSecret()
			}
			w.Version, w.CreatedAt, w.UpdatedAt = 1, now, now
			hist := webhooks.Stamp([]*store.HistoryEntry{{Action: webhooks.ActionCreated, Changes: webhooks.Snapshot(w)}}, w, webhooks.SystemUser, now, "defined in "+w.SourceRef)
			if err := g.saveWebhook(ctx, nil, w, hist, ""); err != nil {
				return sum, err
			}
			sum.Created++
			continue
		}
		if w.Secret == "" {
			w.Secret = old.Secret
		}
		w.PreviousSecret, w.PreviousSecretExpiresAt = old.PreviousSecret, old.PreviousSecretExpiresAt
		webhooks.RotateSecret(old, w, g.configGrace(cw), now) // a changed secret: the old one signs too for a while
		w.ID, w.CreatedAt, w.Version, w.UpdatedAt = old.ID, old.CreatedAt, old.Version, old.UpdatedAt
		if sameWebhook(old, w) {
			sum.Unchanged++
			continue
		}
		ref := w.SourceRef
		nextVersion(old, w, now)
		w.SourceRef = ref // the block may have moved within the file
		// A change of SourceRef alone (the block moved) is saved without history.
		hist := webhooks.Stamp(webhooks.Diff(old, w), w, webhooks.SystemUser, now, "reloaded from "+ref)
		noteGrace(hist, w)
		if err := g.saveWebhook(ctx, old, w, hist, "webhook set to "+string(w.Status)+" in "+ref+": not sent"); err != nil {
			return sum, err
		}
		sum.Updated++
	}
	for _, w := range stale {
		reason := "removed from " + file
		hist := webhooks.Stamp([]*store.HistoryEntry{{Action: webhooks.ActionDeleted, Changes: webhooks.Snapshot(w)}}, w, webhooks.SystemUser, now, reason)[0]
		if err := g.removeWebhook(ctx, w, hist, "webhook "+reason+": not sent"); err != nil && !errors.Is(err, store.ErrNotFound) {
			return sum, err
		}
		sum.Deleted++
	}
	sum.Deactivated, err = g.revokeSinksLocked(ctx, existing, file)
	return sum, err
}

func (g *Gateway) webhookFromConfig(cw config.Webhook, id string) *store.Webhook {
	return &store.Webhook{
		WebhookID: id, CompanyID: cw.CompanyID, UserID: cw.UserID, URL: cw.URL,
		Method: strings.ToLower(cw.Method), Status: store.WebhookStatus(cw.Status), Events: slices.Clone(cw.Events),
		Secret: cw.Secret, NotificationEmail: cw.NotificationEmail, ModelProperties: slices.Clone(cw.ModelProperties),
		Headers: maps.Clone(cw.Headers), PayloadTemplate: cw.PayloadTemplate, Sink: cw.Sink,
		SignatureFormat: cw.SignatureFormat,
		Source:          store.SourceConfig,
		SourceRef:       fmt.Sprintf("%s:%d webhook %q", cw.Range.Filename, cw.Range.Start.Line, cw.Name),
	}
}

// sameWebhook compares everything a config block sets.
func sameWebhook(a, b *store.Webhook) bool {
	return a.CompanyID == b.CompanyID && a.UserID == b.UserID && a.URL == b.URL && a.Method == b.Method &&
		a.Status == b.Status && slices.Equal(a.Events, b.Events) && a.Secret == b.Secret &&
		a.NotificationEmail == b.NotificationEmail && slices.Equal(a.ModelProperties, b.ModelProperties) &&
		maps.Equal(a.Headers, b.Headers) && a.PayloadTemplate == b.PayloadTemplate && a.Sink == b.Sink &&
		webhooks.SignatureFormatOf(a) == webhooks.SignatureFormatOf(b) && a.SourceRef == b.SourceRef
}
