package badger

import (
	"context"
	"errors"
	"fmt"
	"testing"
	"time"

	badger "github.com/dgraph-io/badger/v4"

	"github.com/hookgate/hookgate/store"
)

// TestKeysPerAttempt: what recording an attempt of an event's only
// delivery writes (format 8). A success: its queue key's delete, its
// record, the attempt's record under its company key, and no index key
// more. A retry: the queue key moves (delete, set), the d/ reference, the
// attempt. A final failure: the queue key's delete, the record, the
// dead-letter index key, the attempt. A commit group writes a few keys of
// its own (the queue depth, each webhook's stats, the expiry block of the
// events whose clocks it started), so the test measures the slope: the
// keys of a group of 20 less those of a group of 10, per attempt.
func TestKeysPerAttempt(t *testing.T) {
	for _, c := range []struct {
		state   store.DeliveryState
		outcome store.Outcome
		want    uint64
	}{
		{store.DeliverySucceeded, store.OutcomeSuccess, 3},
		{store.DeliveryPending, store.OutcomeRetry, 4},
		{store.DeliveryDead, store.OutcomeFailed, 4},
	} {
		t.Run(string(c.outcome), func(t *testing.T) {
			keys10, keys20 := groupKeys(t, 10, c.state, c.outcome), groupKeys(t, 20, c.state, c.outcome)
			if got := (keys20 - keys10) / 10; got != c.want || (keys20-keys10)%10 != 0 {
				t.Errorf("a group of 10 wrote %d keys, of 20 %d: %d per attempt, want %d", keys10, keys20, got, c.want)
			}
		})
	}
}

// groupKeys records, in one group, an attempt of each of n sole deliveries
// that leaves it in state, and returns how many keys the group wrote.
func groupKeys(t *testing.T, n int, state store.DeliveryState, outcome store.Outcome) uint64 {
	t.Helper()
	ctx, now := context.Background(), time.Date(2026, 3, 1, 12, 0, 0, 0, time.UTC)
	s, _, _ := openQuietAt(t, now)
	defer s.Close()
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
		next.State, next.Attempts, next.DueAt = state, 1, now.Add(time.Minute)
		recs[i] = store.AttemptRecord{Delivery: &next, Attempt: &store.Attempt{Attempt: 1, WebhookID: d.WebhookID, CompanyID: 7, EventID: d.EventID,
			EventName: d.EventName, ResponseStatus: 500, Outcome: outcome, CreatedAt: now}}
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
	for _, d := range claimed {
		if a, err := s.GetAttempt(ctx, d.ID, 1); err != nil || a.Outcome != outcome {
			t.Errorf("GetAttempt %s: %+v, %v", d.ID, a, err)
		}
	}
	return s.KeyWrites() - before
}

// TestAttemptTimesAreBounded: a delivery retried again and again keeps
// the times of its last maxAttemptTimes attempts in its record, which
// every claim of it reads; its older attempts stay in the company's log,
// and only a read by its id no longer finds them.
func TestAttemptTimesAreBounded(t *testing.T) {
	ctx, now, s, _, _, _, d := openWithSoleDelivery(t)
	defer s.Close()
	const n = maxAttemptTimes + 6
	RetryTimes(t, s, now, n)
	var rec *store.Delivery
	if err := s.db.View(func(txn *badger.Txn) (err error) { rec, _, err = getDeliveryRec(txn, d.ID); return err }); err != nil {
		t.Fatal(err)
	}
	if len(rec.Attempted.At) != maxAttemptTimes || rec.Attempted.First != n-maxAttemptTimes+1 {
		t.Errorf("the record keeps %d times from attempt %d; want %d from %d", len(rec.Attempted.At), rec.Attempted.First, maxAttemptTimes, n-maxAttemptTimes+1)
	}
	if a, err := s.GetAttempt(ctx, d.ID, n); err != nil || a.Attempt != n {
		t.Errorf("the last attempt by id: %+v, %v", a, err)
	}
	if _, err := s.GetAttempt(ctx, d.ID, 1); !errors.Is(err, store.ErrNotFound) {
		t.Errorf("the first attempt by id: %v; want not found", err)
	}
	if _, total, err := s.ListAttempts(ctx, store.AttemptFilter{CompanyID: 7}); err != nil || total != n {
		t.Errorf("the company's log lists %d, %v; want all %d", total, err, n)
	}
	// The delivery's own list: the attempts its record has times for.
	page, total, err := s.ListAttempts(ctx, store.AttemptFilter{DeliveryID: d.ID, Limit: 100})
	if err != nil || total != maxAttemptTimes || len(page) != maxAttemptTimes {
		t.Fatalf("the delivery lists %d of %d, %v; want %d", len(page), total, err, maxAttemptTimes)
	}
	for i, a := range page {
		if want := n - i; a.Attempt != want || a.DeliveryID != d.ID {
			t.Errorf("listed %d: attempt %d of %s; want %d of %s, newest first", i, a.Attempt, a.DeliveryID, want, d.ID)
		}
	}
}
