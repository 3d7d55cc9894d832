package badger

import (
	"context"
	"errors"
	"testing"
	"time"

	badger "github.com/dgraph-io/badger/v4"

	"github.com/hookgate/hookgate/store"
)

// TestBadgerStoredBytes: the sweep that deletes an event takes its payload
// off its company's stored bytes (an event without deliveries included);
// a data folder without counters (an older build's) is counted at open.
func TestBadgerStoredBytes(t *testing.T) {
	now := time.Date(2026, 1, 20, 8, 0, 0, 0, time.UTC)
	path := t.TempDir()
	open := func() *Store {
		s, err := Open(Options{Path: path, LogRetention: time.Hour, Clock: func() time.Time { return now }})
		if err != nil {
			t.Fatal(err)
		}
		return s
	}
	s := open()
	ctx := context.Background()
	event := func(id string, company int64, size int, deliveries int) store.IngestItem {
		ev := &store.Event{ID: id, TraceID: "tr-" + id, Name: "workorder.created", CompanyID: company, Payload: make([]byte, size), ReceivedAt: now}
		it := store.IngestItem{Event: ev}
		for i := range deliveries {
			it.Deliveries = append(it.Deliveries, &store.Delivery{ID: id + "-d" + string(rune('0'+i)), EventID: id, WebhookID: "w",
				CompanyID: company, Priority: 1, DueAt: now})
		}
		return it
	}
	if _, err := s.Ingest(ctx, nil, []store.IngestItem{event("done", 1, 1000, 1), event("quiet", 1, 300, 0), event("open", 2, 70, 2)}); err != nil {
		t.Fatal(err)
	}
	want := func(when string, company, n int64) {
		t.Helper()
		if got, err := s.StoredBytes(ctx, company); err != nil || got != n {
			t.Fatalf("%s: StoredBytes(%d) = %d, %v; want %d", when, company, got, err, n)
		}
	}
	want("after ingest", 1, 1300)
	want("after ingest", 2, 70)
	claimed, err := s.ClaimDue(ctx, 1, now, 10)
	if err != nil {
		t.Fatal(err)
	}
	for _, d := range claimed {
		if d.CompanyID != 1 {
			continue
		}
		next := *d
		next.State, next.Attempts = store.DeliverySucceeded, 1
		if err := s.RecordAttempt(ctx, &next, &store.Attempt{Attempt: 1, Outcome: store.OutcomeSuccess, CreatedAt: now}); err != nil {
			t.Fatal(err)
		}
	}
	if n, err := s.sweepEvents(ctx, now.Add(time.Hour)); err != nil || n != 2 {
		t.Fatalf("sweep: %d events, %v; want 2 (done and quiet)", n, err)
	}
	want("after the sweep", 1, 0)
	want("after the sweep", 2, 70)

	// An older build's folder: no counters. They are counted at open.
	if err := s.db.Update(func(txn *badger.Txn) error {
		return errors.Join(txn.Delete(usageKey(2)), txn.Delete(keyUsageCounted))
	}); err != nil {
		t.Fatal(err)
	}
	if err := s.Close(); err != nil {
		t.Fatal(err)
	}
	s = open()
	defer s.Close()
	want("counted at open", 2, 70)
	want("counted at open", 1, 0)
}
