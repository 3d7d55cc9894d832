package badger_test

import (
	"context"
	"testing"
	"time"

	"github.com/google/uuid"

	"github.com/hookgate/hookgate/store"
	"github.com/hookgate/hookgate/store/badger"
)

// TestBadgerClaimDueFunc: deliveries the filter refuses stay queued, in
// order, and are claimed later; a delivery refused once is passed over by
// key (not read, not offered to Admit) while its webhook is Blocked.
func TestBadgerClaimDueFunc(t *testing.T) {
	s := openBadger(t).(*badger.Store)
	ctx := context.Background()
	now := time.Date(2026, 1, 20, 0, 0, 0, 0, time.UTC)
	ev := &store.Event{ID: uuid.NewString(), TraceID: uuid.NewString(), Name: "workorder.created", CompanyID: 1, Payload: []byte(`{}`), ReceivedAt: now}
	item := store.IngestItem{Event: ev}
	for i, hook := range []string{"slow", "slow", "fast", "slow", "fast"} {
		item.Deliveries = append(item.Deliveries, &store.Delivery{ID: uuid.NewString(), EventID: ev.ID, WebhookID: hook, CompanyID: 1,
			EventName: ev.Name, Priority: 1, State: store.DeliveryPending, DueAt: now.Add(time.Duration(i) * time.Second), CreatedAt: now, UpdatedAt: now})
	}
	if _, err := s.Ingest(ctx, nil, []store.IngestItem{item}); err != nil {
		t.Fatal(err)
	}
	offered := map[string]int{}
	filter := store.ClaimFilter{
		Admit:   func(d *store.Delivery) bool { offered[d.WebhookID]++; return d.WebhookID != "slow" },
		Blocked: func(webhookID string) bool { return webhookID == "slow" },
	}
	later := now.Add(time.Minute)
	got, err := s.ClaimDueFunc(ctx, 1, later, 10, filter)
	if err != nil || len(got) != 2 || got[0].WebhookID != "fast" || got[1].WebhookID != "fast" {
		t.Fatalf("first claim: %d deliveries, %v; want the 2 fast ones", len(got), err)
	}
	if offered["slow"] != 3 {
		t.Fatalf("slow offered %d times in the first claim, want 3", offered["slow"])
	}
	// Refused before and still blocked: passed over without asking again.
	got, _ = s.ClaimDueFunc(ctx, 1, later, 10, filter)
	if len(got) != 0 || offered["slow"] != 3 {
		t.Fatalf("second claim: %d deliveries, slow offered %d times; want 0 and still 3", len(got), offered["slow"])
	}
	// Unblocked: the slow ones are claimed, earliest due first.
	got, _ = s.ClaimDueFunc(ctx, 1, later, 10, store.ClaimFilter{})
	if len(got) != 3 || got[0].DueAt.After(got[1].DueAt) || got[1].DueAt.After(got[2].DueAt) {
		t.Fatalf("after unblocking: %d deliveries, want the 3 slow ones in due order", len(got))
	}
}
