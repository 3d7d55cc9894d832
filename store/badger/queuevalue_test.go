package badger_test

import (
	"bytes"
	"context"
	"testing"
	"time"

	dgraph "github.com/dgraph-io/badger/v4"

	"github.com/hookgate/hookgate/store"
	"github.com/hookgate/hookgate/store/badger"
)

// TestQueueKeyCarriesTheDelivery: every queue key holds a copy of its
// delivery's record, rewritten with it on each state change, and a claim
// takes the delivery from there: with the d/ record removed behind the
// store's back, the queued delivery is still claimed, as last recorded.
func TestQueueKeyCarriesTheDelivery(t *testing.T) {
	ctx := context.Background()
	dir := t.TempDir()
	t0 := time.Date(2026, 11, 25, 12, 0, 0, 0, time.UTC)
	s, err := badger.Open(badger.Options{Path: dir, Clock: func() time.Time { return t0 }})
	if err != nil {
		t.Fatal(err)
	}
	ev := &store.Event{ID: "ev-1", TraceID: "tr-1", Name: "workorder.created", CompanyID: 7, WorkOrderID: 42,
		Payload: []byte(`{"a":1}`), ReceivedAt: t0}
	d := &store.Delivery{ID: "del-1", EventID: ev.ID, WebhookID: "wh-1", CompanyID: 7, EventName: ev.Name,
		WorkOrderID: 42, Priority: 1, State: store.DeliveryPending, DueAt: t0, CreatedAt: t0, UpdatedAt: t0}
	if _, err := s.Ingest(ctx, nil, []store.IngestItem{{Event: ev, Deliveries: []*store.Delivery{d}}}); err != nil {
		t.Fatal(err)
	}
	got, err := s.ClaimDue(ctx, 1, t0, 10)
	if err != nil || len(got) != 1 {
		t.Fatalf("first claim: %v, %d deliveries", err, len(got))
	}
	// Attempt 1 fails; the retry is due 10 s later.
	next := *got[0]
	next.State, next.Attempts, next.DueAt, next.LastStatus = store.DeliveryPending, 1, t0.Add(10*time.Second), 503
	a := &store.Attempt{Attempt: 1, WebhookID: d.WebhookID, CompanyID: 7, EventID: ev.ID, EventName: ev.Name,
		ResponseStatus: 503, Outcome: store.OutcomeRetry, CreatedAt: t0}
	if err := s.RecordAttempt(ctx, &next, a); err != nil {
		t.Fatal(err)
	}
	if err := s.Close(); err != nil {
		t.Fatal(err)
	}

	db, err := dgraph.Open(dgraph.DefaultOptions(dir).WithLogger(nil))
	if err != nil {
		t.Fatal(err)
	}
	err = db.Update(func(txn *dgraph.Txn) error {
		rec, err := txn.Get([]byte("d\x00del-1"))
		if err != nil {
			return err
		}
		want, _ := rec.ValueCopy(nil)
		it := txn.NewIterator(dgraph.IteratorOptions{Prefix: []byte("q\x00")})
		defer it.Close()
		n := 0
		for it.Rewind(); it.Valid(); it.Next() {
			n++
			v, _ := it.Item().ValueCopy(nil)
			if !bytes.Equal(v, want) {
				t.Errorf("queue key %q holds %x, the record is %x", it.Item().Key(), v, want)
			}
		}
		if n != 1 {
			t.Errorf("%d queue keys, want 1 (the retry's)", n)
		}
		return txn.Delete([]byte("d\x00del-1"))
	})
	if err != nil {
		t.Fatal(err)
	}
	if err := db.Close(); err != nil {
		t.Fatal(err)
	}

	s, err = badger.Open(badger.Options{Path: dir, Clock: func() time.Time { return t0 }})
	if err != nil {
		t.Fatal(err)
	}
	defer s.Close()
	if early, _ := s.ClaimDue(ctx, 1, t0.Add(9*time.Second), 10); len(early) != 0 {
		t.Fatalf("claimed %d before the retry was due", len(early))
	}
	got, err = s.ClaimDue(ctx, 1, t0.Add(10*time.Second), 10)
	if err != nil || len(got) != 1 {
		t.Fatalf("claim from the queue value: %v, %d deliveries", err, len(got))
	}
	if c := got[0]; c.ID != "del-1" || c.Attempts != 1 || c.LastStatus != 503 || !c.DueAt.Equal(t0.Add(10*time.Second)) || c.State != store.DeliveryInFlight {
		t.Errorf("claimed %+v, want del-1 after attempt 1 (503), due at +10s, in flight", *c)
	}
}
