package webhooks

import (
	"context"
	"errors"
	"io"
	"log/slog"
	"reflect"
	"slices"
	"testing"
	"time"

	"github.com/hashicorp/hcl/v2"

	"github.com/hookgate/hookgate/config"
	"github.com/hookgate/hookgate/store"
	"github.com/hookgate/hookgate/store/badger"
)

type fixedClock struct{ t time.Time }

func (c *fixedClock) Now() time.Time { return c.t }

type noTemplates struct{}

func (noTemplates) Forget(string) {}

func newTestService(t *testing.T) (*Service, *fixedClock) {
	t.Helper()
	clock := &fixedClock{t: time.Date(2026, 1, 20, 12, 0, 0, 0, time.UTC)}
	st, err := badger.Open(badger.Options{Path: t.TempDir(), Clock: clock.Now, Logger: slog.New(slog.NewTextHandler(io.Discard, nil))})
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { st.Close() })
	sinks := NewSinkAccess(SinkSnapshot{})
	return NewService(st, NewIndex(), clock, slog.New(slog.NewTextHandler(io.Discard, nil)), noTemplates{}, sinks), clock
}

func apiWebhook(company int64) *store.Webhook {
	return &store.Webhook{WebhookID: "3b1f0c4e-0000-4000-8000-000000000001", CompanyID: company, UserID: 7,
		URL: "https://example.com/a", Method: "post", Status: store.StatusActive, Events: []string{"workorder.created"},
		Sink: config.BuiltinSink, Source: store.SourceAPI}
}

// One create and one update path: versions, history and the refusals
// carry no status.
func TestServiceCreateUpdateDelete(t *testing.T) {
	s, clock := newTestService(t)
	ctx := context.Background()
	w := apiWebhook(100)
	if err := s.Create(ctx, w, 7, "", nil); err != nil {
		t.Fatal(err)
	}
	if w.Version != 1 || w.Secret == "" || s.index.Get(w.WebhookID) == nil {
		t.Fatalf("created: version %d, secret set %v, indexed %v", w.Version, w.Secret != "", s.index.Get(w.WebhookID) != nil)
	}
	if _, _, err := s.Update(ctx, 200, w.WebhookID, nil); !errors.Is(err, ErrNotFound) {
		t.Fatalf("another company's webhook: %v, want ErrNotFound", err)
	}
	same := func(_, next *store.Webhook) (Change, error) { return Change{Actor: 7}, nil }
	if got, changed, err := s.Update(ctx, 100, w.WebhookID, same); err != nil || changed || got.Version != 1 {
		t.Fatalf("no-op update: changed %v, version %d, err %v", changed, got.Version, err)
	}
	clock.t = clock.t.Add(time.Minute)
	archive := func(_, next *store.Webhook) (Change, error) {
		next.Status = store.StatusArchived
		return Change{Actor: 7, DeadLetter: StatusReason(next.Status, 7)}, nil
	}
	got, changed, err := s.Update(ctx, 100, w.WebhookID, archive)
	if err != nil || !changed || got.Version != 2 || !got.UpdatedAt.Equal(clock.t) || !got.CreatedAt.Equal(w.CreatedAt) {
		t.Fatalf("archive: %+v changed %v err %v", got, changed, err)
	}
	if _, _, err := s.Update(ctx, 100, w.WebhookID, same); !errors.Is(err, ErrArchived) {
		t.Fatalf("update of an archived webhook: %v, want ErrArchived", err)
	}
	if _, err := s.Delete(ctx, 100, w.WebhookID, 7); !errors.Is(err, ErrArchived) {
		t.Fatalf("delete of an archived webhook: %v, want ErrArchived", err)
	}
	hist, err := s.store.ListHistory(ctx, w.WebhookID)
	if err != nil || len(hist) != 2 {
		t.Fatalf("history: %d entries, err %v; want created and status_changed", len(hist), err)
	}
}

// A webhook defined in HCL is read-only over the API, and the webhook
// quota is a *QuotaError.
func TestServiceReadOnlyAndQuota(t *testing.T) {
	s, _ := newTestService(t)
	ctx := context.Background()
	block := config.Webhook{Name: "erp", CompanyID: 100, UserID: 1, URL: "https://example.com/erp", Method: "POST",
		Status: "active", Events: []string{"workorder.created"}, Sink: config.BuiltinSink}
	sum, err := s.ApplyConfig(ctx, "gateway.hcl", []config.Webhook{block}, 0)
	if err != nil || !slices.Equal(sum.Created, []string{"erp"}) {
		t.Fatalf("apply: %+v, %v", sum, err)
	}
	var ro *ReadOnlyError
	if _, err := s.Delete(ctx, 100, ConfigWebhookID("erp"), 7); !errors.As(err, &ro) {
		t.Fatalf("delete of an HCL webhook: %v, want *ReadOnlyError", err)
	}
	sum, err = s.ApplyConfig(ctx, "gateway.hcl", []config.Webhook{block}, 0)
	if err != nil || !slices.Equal(sum.Unchanged, []string{"erp"}) {
		t.Fatalf("second apply: %+v, %v", sum, err)
	}
	var qe *QuotaError
	if err := s.CheckQuota(ctx, 100, config.Limit{Value: 1, Setting: "quotas.webhooks"}); !errors.As(err, &qe) {
		t.Fatalf("quota: %v, want *QuotaError", err)
	}
	if err := s.CheckQuota(ctx, 100, config.Limit{Value: 2, Setting: "quotas.webhooks"}); err != nil {
		t.Fatalf("under the quota: %v", err)
	}
}

// TestApplyConfigNamesAndSecrets: a reload's summary names the blocks it
// created, updated, deleted and left alone; Secrets reads an HCL webhook's
// secret, and during a rotation's grace the previous one too.
func TestApplyConfigNamesAndSecrets(t *testing.T) {
	s, clock := newTestService(t)
	ctx := context.Background()
	block := func(name, secret string) config.Webhook {
		return config.Webhook{Name: name, CompanyID: 100, URL: "https://example.com/" + name, Method: "POST",
			Status: "active", Events: []string{"workorder.created"}, Sink: config.BuiltinSink, Secret: secret,
			Range: hcl.Range{Filename: "gateway.hcl", Start: hcl.Pos{Line: 1}}}
	}
	const s1, s2 = "01999f51-5c66-4449-b441-6b4a053fee6a", "6f0c2d4e-7a1b-4c3d-9e8f-0a1b2c3d4e5f"
	if _, err := s.ApplyConfig(ctx, "gateway.hcl", []config.Webhook{block("a", s1), block("b", ""), block("c", "")}, 0); err != nil {
		t.Fatal(err)
	}
	sum, err := s.ApplyConfig(ctx, "gateway.hcl", []config.Webhook{block("d", ""), block("a", s2), block("b", "")}, time.Hour)
	if err != nil {
		t.Fatal(err)
	}
	want := ReloadSummary{Created: []string{"d"}, Updated: []string{"a"}, Deleted: []string{"c"}, Unchanged: []string{"b"}}
	if !reflect.DeepEqual(sum, want) {
		t.Errorf("summary %+v, want %+v", sum, want)
	}
	got, err := s.Secrets(ctx, ConfigWebhookID("a"))
	if err != nil || got.Secret != s2 || got.Previous != s1 || got.PreviousUntil == nil || !got.PreviousUntil.Equal(clock.t.Add(time.Hour)) {
		t.Errorf("secrets during the grace: %+v, %v", got, err)
	}
	clock.t = clock.t.Add(time.Hour)
	if got, _ := s.Secrets(ctx, ConfigWebhookID("a")); got.Secret != s2 || got.Previous != "" || got.PreviousUntil != nil {
		t.Errorf("secrets after the grace: %+v", got)
	}
	// A generated secret (the block sets none) is readable: it is a UUID.
	if got, err := s.Secrets(ctx, ConfigWebhookID("b")); err != nil || len(got.Secret) != 36 {
		t.Errorf("generated secret: %q, %v", got.Secret, err)
	}
	if _, err := s.Secrets(ctx, ConfigWebhookID("c")); !errors.Is(err, ErrNotFound) {
		t.Errorf("deleted webhook: %v, want ErrNotFound", err)
	}
}
