package webhooks

import (
	"context"
	"errors"
	"fmt"
	"maps"
	"slices"
	"strconv"
	"strings"
	"time"

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

// ReloadSummary is what applying the HCL webhooks changed: the blocks by
// name (in file order; deleted ones sorted), as `hookgate reload` prints them.
type ReloadSummary struct {
	Created   []string `json:"created"`
	Updated   []string `json:"updated"`
	Deleted   []string `json:"deleted"`
	Unchanged []string `json:"unchanged"`
	// Deactivated counts API webhooks whose company may no longer use
	// their sink (sinks.go).
	Deactivated int `json:"deactivated"`
}

// ApplyConfig makes the store hold exactly the given blocks among the
// webhooks whose source is config: new blocks are created, changed ones
// updated (keeping a generated secret), removed ones deleted. Each change is
// recorded in history as the system (user 0) with the file and block as the
// reason, and the index the fan-out reads is updated at once. API webhooks
// whose sink their company may no longer use are deactivated. grace is how
// long a replaced secret signs when its block sets none
// (delivery.secret_grace_period).
//
// With a shared store the caller runs it on one replica at a time (an
// advisory lock): replicas starting or reloading together would otherwise
// both create a new block and record its history twice. The next one in
// finds every block unchanged.
func (s *Service) ApplyConfig(ctx context.Context, file string, blocks []config.Webhook, grace time.Duration) (ReloadSummary, error) {
	var sum ReloadSummary
	s.mu.Lock()
	defer s.mu.Unlock()
	existing, err := s.store.ListWebhooks(ctx, store.WebhookFilter{})
	if err != nil {
		return sum, err
	}
	stale := map[string]*store.Webhook{}
	for _, w := range existing {
		if w.Source == store.SourceConfig {
			stale[w.WebhookID] = w
		}
	}
	now := s.clock.Now()
	for _, cw := range blocks {
		id := ConfigWebhookID(cw.Name)
		old := stale[id]
		delete(stale, id)
		w := webhookFromConfig(cw, id)
		if old == nil {
			if err := s.createLocked(ctx, w, SystemUser, "defined in "+w.SourceRef, nil); err != nil {
				return sum, err
			}
			sum.Created = append(sum.Created, cw.Name)
			continue
		}
		_, changed, err := s.updateLocked(ctx, old, func(old, next *store.Webhook) (Change, error) {
			if w.Secret == "" {
				w.Secret = old.Secret
			}
			w.PreviousSecret, w.PreviousSecretExpiresAt = old.PreviousSecret, old.PreviousSecretExpiresAt
			w.ID, w.CreatedAt, w.Version, w.UpdatedAt = old.ID, old.CreatedAt, old.Version, old.UpdatedAt
			*next = *w
			// A change of SourceRef alone (the block moved) is saved without history.
			return Change{Actor: SystemUser, Reason: "reloaded from " + w.SourceRef,
				DeadLetter: "webhook set to " + string(w.Status) + " in " + w.SourceRef + ": not sent",
				Rotate:     true, Grace: configGrace(cw, grace), // a changed secret: the old one signs too for a while
				Same: sameWebhook}, nil
		})
		if err != nil {
			return sum, err
		}
		if changed {
			sum.Updated = append(sum.Updated, cw.Name)
		} else {
			sum.Unchanged = append(sum.Unchanged, cw.Name)
		}
	}
	for _, w := range stale {
		reason := "removed from " + file
		hist := Stamp([]*store.HistoryEntry{{Action: ActionDeleted, Changes: Snapshot(w)}}, w, SystemUser, now, reason)[0]
		if err := s.remove(ctx, w, hist, "webhook "+reason+": not sent"); err != nil && !errors.Is(err, store.ErrNotFound) {
			return sum, err
		}
		sum.Deleted = append(sum.Deleted, blockName(w))
	}
	slices.Sort(sum.Deleted) // stale is a map
	sum.Deactivated, err = s.revokeSinksLocked(ctx, existing, file)
	return sum, err
}

// revokeSinksLocked deactivates every active API webhook whose company may
// no longer use its sink (a companies list changed, or a reload removed the
// sink block),
// as the system with the reason in its history; its pending deliveries are
// dead-lettered with that reason. HCL webhooks cannot get here: a block
// like that is refused with the whole config. Deactivating rather than
// failing each delivery keeps the change visible in the API, the dashboard
// and the history, and stops fan-out to a webhook that cannot deliver; the
// company may choose another sink and reactivate it (an update checks the
// sink again). The caller holds the lock.
func (s *Service) revokeSinksLocked(ctx context.Context, existing []*store.Webhook, file string) (int, error) {
	n := 0
	for _, w := range existing {
		if w.Source == store.SourceConfig || w.Status != store.StatusActive || !s.sinks.Forbids(w.Sink, w.CompanyID) {
			continue
		}
		reason := fmt.Sprintf("deactivated: sink %q is not available to company %d under %s", w.Sink, w.CompanyID, file)
		if _, err := s.deactivateLocked(ctx, w, reason); err != nil {
			return n, err
		}
		s.log.Warn("webhook deactivated: its company may no longer use its sink", "webhook", w.WebhookID,
			"company", w.CompanyID, "sink", w.Sink, "config", file)
		n++
	}
	return n, nil
}

// configGrace is the grace period of an HCL webhook's secret change: its
// own secret_grace_period, else def (delivery.secret_grace_period).
func configGrace(cw config.Webhook, def time.Duration) time.Duration {
	if cw.SecretGracePeriod != nil {
		return *cw.SecretGracePeriod
	}
	return def
}

// blockName is the label of the block an HCL webhook came from, read back
// from its SourceRef (`file:line webhook "name"`); its webhookId when the
// reference is not in that form.
func blockName(w *store.Webhook) string {
	if _, quoted, ok := strings.Cut(w.SourceRef, " webhook "); ok {
		if name, err := strconv.Unquote(quoted); err == nil {
			return name
		}
	}
	return w.WebhookID
}

func webhookFromConfig(cw config.Webhook, id string) *store.Webhook {
	return &store.Webhook{
		WebhookID: id, CompanyID: cw.CompanyID, UserID: cw.UserID, URL: cw.URL,
		Method: strings.ToLower(cw.Method), Status: store.WebhookStatus(cw.Status), Events: slices.Clone(cw.Events),
		Secret: cw.Secret, NotificationEmail: cw.NotificationEmail, ModelProperties: slices.Clone(cw.ModelProperties),
		Headers: maps.Clone(cw.Headers), PayloadTemplate: cw.PayloadTemplate, Sink: cw.Sink,
		SignatureFormat: cw.SignatureFormat,
		RateLimit:       cw.Limit.Rate, RateBurst: cw.Limit.Burst, MaxInFlight: cw.MaxInFlight,
		Ordering: cw.Ordering, OrderingOnDead: cw.OrderingOnDead,
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
		SignatureFormatOf(a) == SignatureFormatOf(b) && a.SourceRef == b.SourceRef &&
		a.RateLimit == b.RateLimit && a.RateBurst == b.RateBurst && a.MaxInFlight == b.MaxInFlight &&
		OrderingOf(a) == OrderingOf(b) && OnDeadOf(a) == OnDeadOf(b)
}
