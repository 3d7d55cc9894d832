package webhooks

import (
	"context"
	"errors"
	"log/slog"
	"slices"
	"strconv"
	"sync"
	"time"

	"github.com/google/uuid"

	"github.com/hookgate/hookgate/store"
)

// Forgetter drops what was compiled for a webhook (its templates).
type Forgetter interface{ Forget(webhookID string) }

// Service makes every change to webhooks: the API's creates, updates and
// deletes, the HCL config's (ApplyConfig), auto-deactivation and the
// revocation of sinks. Each reads a webhook, decides and writes it back, so
// all of them hold the service's lock; the in-memory index the fan-out
// reads is updated with the store.
type Service struct {
	mu        sync.Mutex
	store     store.Store
	index     *Index
	clock     Clock
	log       *slog.Logger
	templates Forgetter
	sinks     *SinkAccess
}

// NewService returns the service changing webhooks in st and index.
func NewService(st store.Store, index *Index, clock Clock, log *slog.Logger, templates Forgetter, sinks *SinkAccess) *Service {
	return &Service{store: st, index: index, clock: clock, log: log, templates: templates, sinks: sinks}
}

// Locked runs fn under the lock every webhook change holds.
func (s *Service) Locked(fn func() error) error {
	s.mu.Lock()
	defer s.mu.Unlock()
	return fn()
}

// Find returns the company's webhook, or ErrNotFound for one that does not
// exist or is another company's.
func (s *Service) Find(ctx context.Context, company int64, webhookID string) (*store.Webhook, error) {
	w, err := s.store.GetWebhook(ctx, webhookID)
	if errors.Is(err, store.ErrNotFound) || (err == nil && w.CompanyID != company) {
		return nil, ErrNotFound
	}
	return w, err
}

// Writable refuses changes to a webhook that may not change over the API:
// one defined in HCL (*ReadOnlyError) or an archived one (*ArchivedError:
// archiving is permanent).
func Writable(w *store.Webhook) error {
	if w.Source == store.SourceConfig {
		return &ReadOnlyError{WebhookID: w.WebhookID, Ref: w.SourceRef}
	}
	if w.Status == store.StatusArchived {
		return &ArchivedError{WebhookID: w.WebhookID}
	}
	return nil
}

// findWritable finds the company's webhook and refuses it when it may not
// change over the API. The caller holds the lock.
func (s *Service) findWritable(ctx context.Context, company int64, webhookID string) (*store.Webhook, error) {
	w, err := s.Find(ctx, company, webhookID)
	if err == nil {
		err = Writable(w)
	}
	if err != nil {
		return nil, err
	}
	return w, nil
}

// NewSecret is a fresh webhook secret: a random (v4) UUID, the form the spec shows.
func NewSecret() string { return uuid.NewString() }

// Create stores w as a new webhook as actor, with reason in its history
// ("" over the API). check, when given, runs under the lock just before
// the write: what must still hold then (the sink, the quota).
func (s *Service) Create(ctx context.Context, w *store.Webhook, actor int64, reason string, check func(*store.Webhook) error) error {
	s.mu.Lock()
	defer s.mu.Unlock()
	return s.createLocked(ctx, w, actor, reason, check)
}

// createLocked is Create for a caller holding the lock. A webhook without
// a secret gets a generated one; it is version 1, created now.
func (s *Service) createLocked(ctx context.Context, w *store.Webhook, actor int64, reason string, check func(*store.Webhook) error) error {
	if check != nil {
		if err := check(w); err != nil {
			return err
		}
	}
	if w.Secret == "" {
		w.Secret = NewSecret()
	}
	now := s.clock.Now()
	w.Version, w.CreatedAt, w.UpdatedAt = 1, now, now
	hist := Stamp([]*store.HistoryEntry{{Action: ActionCreated, Changes: Snapshot(w)}}, w, actor, now, reason)
	return s.save(ctx, nil, w, hist, "")
}

// Change says how an update is recorded.
type Change struct {
	Actor  int64  // who changes it (SystemUser for reload and lifecycle)
	Reason string // the history's reason ("" over the API)
	// DeadLetter is the reason given to pending deliveries when the
	// webhook stops being active.
	DeadLetter string
	// Rotate applies the secret rules (RotateSecret): the replaced secret
	// signs for Grace more. Changes that cannot set a secret leave it.
	Rotate bool
	Grace  time.Duration
	// Same reports that next changes nothing worth a new version; default:
	// no history entry would be written.
	Same func(old, next *store.Webhook) bool
}

// Mutate edits next, a copy of old, and says how the change is recorded.
// An error stops the update; nothing is written.
type Mutate func(old, next *store.Webhook) (Change, error)

// Update changes the company's webhook webhookID over the API as mutate
// says, refusing one that may not change (Writable). It returns the stored
// webhook and whether it changed: an update that changes nothing writes no
// version and no history, and returns old.
func (s *Service) Update(ctx context.Context, company int64, webhookID string, mutate Mutate) (*store.Webhook, bool, error) {
	s.mu.Lock()
	defer s.mu.Unlock()
	old, err := s.findWritable(ctx, company, webhookID)
	if err != nil {
		return nil, false, err
	}
	return s.updateLocked(ctx, old, mutate)
}

// updateLocked is the one path of every webhook update (API, reload,
// deactivation), for a caller holding the lock.
func (s *Service) updateLocked(ctx context.Context, old *store.Webhook, mutate Mutate) (*store.Webhook, bool, error) {
	next := Clone(old)
	ch, err := mutate(old, next)
	if err != nil {
		return nil, false, err
	}
	now := s.clock.Now()
	if ch.Rotate {
		RotateSecret(old, next, ch.Grace, now) // the old secret signs too until the grace ends
	}
	hist := Diff(old, next)
	same := len(hist) == 0
	if ch.Same != nil {
		same = ch.Same(old, next)
	}
	if same {
		return old, false, nil // nothing changed: no new version, no history
	}
	noteGrace(hist, next)
	nextVersion(old, next, now)
	Stamp(hist, next, ch.Actor, now, ch.Reason)
	if err := s.save(ctx, old, next, hist, ch.DeadLetter); err != nil {
		return nil, false, err
	}
	return next, true, nil
}

// Delete deletes the company's webhook webhookID as actor (its logs and
// history stay), refusing one that may not change (Writable), and returns it.
func (s *Service) Delete(ctx context.Context, company int64, webhookID string, actor int64) (*store.Webhook, error) {
	s.mu.Lock()
	defer s.mu.Unlock()
	w, err := s.findWritable(ctx, company, webhookID)
	if err != nil {
		return nil, err
	}
	hist := Stamp([]*store.HistoryEntry{{Action: ActionDeleted, Changes: Snapshot(w)}}, w, actor, s.clock.Now(), "")[0]
	if err := s.remove(ctx, w, hist, "webhook deleted by user "+strconv.FormatInt(actor, 10)+": not sent"); err != nil {
		return nil, err
	}
	return w, nil
}

// Deactivate makes the webhook webhookID inactive as the system (user 0)
// with reason in its history, and dead-letters its pending deliveries with
// it, if it is still active (it may have changed meanwhile: then nil).
func (s *Service) Deactivate(ctx context.Context, webhookID, reason string) (*store.Webhook, error) {
	s.mu.Lock()
	defer s.mu.Unlock()
	old, err := s.store.GetWebhook(ctx, webhookID)
	if errors.Is(err, store.ErrNotFound) || (err == nil && old.Status != store.StatusActive) {
		return nil, nil // changed meanwhile
	}
	if err != nil {
		return nil, err
	}
	return s.deactivateLocked(ctx, old, reason)
}

// deactivateLocked makes old inactive as the system; the caller holds the lock.
func (s *Service) deactivateLocked(ctx context.Context, old *store.Webhook, reason string) (*store.Webhook, error) {
	next, _, err := s.updateLocked(ctx, old, func(_, next *store.Webhook) (Change, error) {
		next.Status = store.StatusInactive
		return Change{Actor: SystemUser, Reason: reason, DeadLetter: "webhook " + reason + ": not sent"}, nil
	})
	return next, err
}

// StatusReason explains in a dead letter why a webhook stopped delivering.
func StatusReason(status store.WebhookStatus, user int64) string {
	verb := "set to " + string(status)
	if status == store.StatusArchived {
		verb = "archived"
	}
	return "webhook " + verb + " by user " + strconv.FormatInt(user, 10) + ": not sent"
}

// save stores next (a new version of old, or a new webhook when old
// is nil) with its history in one transaction, then updates the in-memory
// index the fan-out reads. A webhook that stops being active has its
// pending deliveries dead-lettered with reason, so none is dropped silently;
// they can be recovered later (POST /webhooks/{id}/recover).
func (s *Service) save(ctx context.Context, old, next *store.Webhook, hist []*store.HistoryEntry, reason string) error {
	if err := s.store.PutWebhookChanges(ctx, next, hist); err != nil {
		return err
	}
	stored := *next // the index keeps its own copy
	s.index.Put(&stored)
	if old != nil && old.Status == store.StatusActive && next.Status != store.StatusActive {
		s.deadLetterPending(ctx, next.WebhookID, reason)
	}
	return nil
}

// remove deletes w (its logs and history stay) and dead-letters its
// pending deliveries.
func (s *Service) remove(ctx context.Context, w *store.Webhook, hist *store.HistoryEntry, reason string) error {
	if err := s.store.DeleteWebhook(ctx, w.WebhookID, hist); err != nil {
		return err
	}
	s.index.Remove(w.WebhookID)
	s.templates.Forget(w.WebhookID)
	s.deadLetterPending(ctx, w.WebhookID, reason)
	return nil
}

// deadLetterPending is best effort: should it fail, the deliveries left
// pending are still not lost, because the worker that claims one finds the
// webhook not active and dead-letters it ("not sent").
func (s *Service) deadLetterPending(ctx context.Context, webhookID, reason string) {
	n, err := s.store.DeadLetterPending(context.WithoutCancel(ctx), webhookID, reason, s.clock.Now())
	if err != nil {
		s.log.Error("dead-lettering pending deliveries", "webhook", webhookID, "err", err)
		return
	}
	if n > 0 {
		s.log.Info("dead-lettered pending deliveries", "webhook", webhookID, "count", n, "reason", reason)
	}
}

// nextVersion prepares next as the following version of old. SourceRef is
// next's: an HCL block may have moved within its file.
func nextVersion(old, next *store.Webhook, now time.Time) {
	next.ID, next.WebhookID, next.CompanyID = old.ID, old.WebhookID, old.CompanyID
	next.Source, next.CreatedAt = old.Source, old.CreatedAt
	next.Version, next.UpdatedAt = old.Version+1, now
}

// Clone copies w deeply enough that changing the copy's slices and
// maps leaves w alone.
func Clone(w *store.Webhook) *store.Webhook {
	c := *w
	c.Events = slices.Clone(w.Events)
	c.ModelProperties = slices.Clone(w.ModelProperties)
	if w.Headers != nil {
		c.Headers = make(map[string]string, len(w.Headers))
		for k, v := range w.Headers {
			c.Headers[k] = v
		}
	}
	return &c
}

// GraceEnd is until when a replaced secret still signs, as the API shows
// it (RFC 3339): nil when no previous secret is kept.
func GraceEnd(w *store.Webhook) any {
	if w.PreviousSecret == "" || w.PreviousSecretExpiresAt.IsZero() {
		return nil
	}
	return w.PreviousSecretExpiresAt.UTC().Format(time.RFC3339Nano)
}

// noteGrace adds to the secret_regenerated entry until when the replaced
// secret still signs (never a secret).
func noteGrace(hist []*store.HistoryEntry, next *store.Webhook) {
	for _, h := range hist {
		if h.Action != ActionSecretChanged {
			continue
		}
		if m, ok := h.Changes["secret"].(map[string]any); ok {
			m["previousValidUntil"] = GraceEnd(next)
		}
	}
}
