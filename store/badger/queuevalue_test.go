package badger_test

import (
	"bytes"
	"context"
	"encoding/binary"
	"testing"
	"time"

	dgraph "github.com/dgraph-io/badger/v4"

	"github.com/hookgate/hookgate/store"
	"github.com/hookgate/hookgate/store/badger"
)

// TestQueueKeyCarriesTheDelivery: every queue key holds its delivery's
// record, rewritten on each state change, and the d/ key only where it is
// (format 6); a read by id finds it there, and a claim takes the delivery
// from the queue key: with the d/ value removed behind the store's back,
// the queued delivery is still claimed, as last recorded.
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
	// Read by id, the queued delivery is its record on the queue key.
	if g, err := s.GetDelivery(ctx, "del-1"); err != nil || g.Attempts != 1 || g.LastStatus != 503 || g.State != store.DeliveryPending || !g.DueAt.Equal(next.DueAt) {
		t.Fatalf("GetDelivery of the queued retry: %+v, %v", g, err)
	}
	if err := s.Close(); err != nil {
		t.Fatal(err)
	}

	db, err := dgraph.Open(dgraph.DefaultOptions(dir).WithLogger(nil))
	if err != nil {
		t.Fatal(err)
	}
	err = db.Update(func(txn *dgraph.Txn) error {
		ref, err := txn.Get([]byte("d\x00del-1"))
		if err != nil {
			return err
		}
		// Format 6: the d/ value of a queued delivery is where its record
		// is (3, priority, due time), not a second copy of it.
		v, _ := ref.ValueCopy(nil)
		want := binary.BigEndian.AppendUint64([]byte{3, 1}, uint64(t0.Add(10*time.Second).UnixNano()))
		if !bytes.Equal(v, want) {
			t.Errorf("the queued delivery's d/ value is %x, want %x (a reference to its queue key)", v, want)
		}
		it := txn.NewIterator(dgraph.IteratorOptions{Prefix: []byte("q\x00")})
		defer it.Close()
		n := 0
		for it.Rewind(); it.Valid(); it.Next() {
			n++
			if k := it.Item().Key(); !bytes.HasSuffix(k, []byte("del-1")) || !bytes.Equal(k[3:11], want[2:]) {
				t.Errorf("queue key %q is not the one the d/ value refers to", k)
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
