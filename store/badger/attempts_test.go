package badger

import (
	"context"
	"fmt"
	"testing"
	"time"

	"github.com/hookgate/hookgate/store"
)

// TestSuccessWritesThreeKeys: recording the success of an event's only
// delivery writes three keys (its queue key's delete, its record, the
// attempt's record under its company key), not an index key more (format
// 8). A group writes three keys of its own: the queue depth, the webhook's
// stats and the expiry block of the events whose clocks it started.
func TestSuccessWritesThreeKeys(t *testing.T) {
	ctx, now := context.Background(), time.Date(2026, 3, 1, 12, 0, 0, 0, time.UTC)
	s, _, _ := openQuietAt(t, now)
	defer s.Close()
	const n = 10
	var items []store.IngestItem
	for i := range n {
		ev := &store.Event{ID: fmt.Sprintf("ev-%d", i), Name: "workorder.created", CompanyID: 7, WorkOrderID: 42, Payload: []byte(`{}`), ReceivedAt: now}
		items = append(items, store.IngestItem{Event: ev, Deliveries: []*store.Delivery{{ID: store.NewDeliveryID(1, now), EventID: ev.ID,
			WebhookID: "wh-1", CompanyID: 7, EventName: ev.Name, WorkOrderID: 42, Priority: 1, DueAt: now, CreatedAt: now}}})
	}
	if _, err := s.Ingest(ctx, nil, items); err != nil {
		t.Fatal(err)
	}
	claimed, err := s.ClaimDue(ctx, 1, now, n)
	if err != nil || len(claimed) != n {
		t.Fatalf("claimed %d, %v", len(claimed), err)
	}
	recs := make([]store.AttemptRecord, n)
	for i, d := range claimed {
		next := *d
		next.State, next.Attempts = store.DeliverySucceeded, 1
		recs[i] = store.AttemptRecord{Delivery: &next, Attempt: &store.Attempt{Attempt: 1, WebhookID: d.WebhookID, CompanyID: 7, EventID: d.EventID,
			EventName: d.EventName, ResponseStatus: 200, Outcome: store.OutcomeSuccess, CreatedAt: now}}
	}
	before := s.KeyWrites()
	if err := s.RecordAttempts(ctx, recs); err != nil {
		t.Fatal(err)
	}
	for _, r := range recs {
		if r.Err != nil {
			t.Fatal(r.Err)
		}
	}
	if got, want := s.KeyWrites()-before, uint64(3*n+3); got != want {
		t.Errorf("%d successes in one group wrote %d keys, want %d (3 each, 3 for the group)", n, got, want)
	}
	for _, d := range claimed {
		if a, err := s.GetAttempt(ctx, d.ID, 1); err != nil || a.ResponseStatus != 200 {
			t.Errorf("GetAttempt %s: %+v, %v", d.ID, a, err)
		}
	}
}
