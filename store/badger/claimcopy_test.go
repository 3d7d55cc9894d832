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

// TestRecordAttemptMovesFromTheClaimsCopy: recording a claimed attempt
// does not read the delivery's record again while no delivery changed
// otherwise since the claim; once one did (here a dead-lettering), the
// record is read. Deleting the record behind the store's back tells which
// happened: the read fails with ErrNotFound, the copy does not.
func TestRecordAttemptMovesFromTheClaimsCopy(t *testing.T) {
	s := openQuiet(t, Options{})
	ctx, now := context.Background(), time.Now()
	for i, wh := range []string{"w1", "w1", "w2"} {
		id := fmt.Sprintf("d%d", i+1)
		ev := &store.Event{ID: "ev" + id, TraceID: "tr" + id, Name: "workorder.created", CompanyID: 1, Payload: []byte(`{}`), ReceivedAt: now}
		d := &store.Delivery{ID: id, EventID: ev.ID, WebhookID: wh, CompanyID: 1, Priority: 1, DueAt: now.Add(time.Duration(i) * time.Second)}
		if _, err := s.Ingest(ctx, nil, []store.IngestItem{{Event: ev, Deliveries: []*store.Delivery{d}}}); err != nil {
			t.Fatal(err)
		}
	}
	claimOne := func(want string) *store.Delivery {
		t.Helper()
		got, err := s.ClaimDue(ctx, 1, now.Add(time.Minute), 1)
		if err != nil || len(got) != 1 || got[0].ID != want {
			t.Fatalf("claim: %v, %d deliveries, want %s", err, len(got), want)
		}
		return got[0]
	}
	dropRecord := func(id string) {
		t.Helper()
		if err := s.db.Update(func(txn *badger.Txn) error { return txn.Delete(deliveryKey(id)) }); err != nil {
			t.Fatal(err)
		}
	}
	succeed := func(d *store.Delivery) error {
		next := *d
		next.State, next.Attempts = store.DeliverySucceeded, d.Attempts+1
		return s.RecordAttempt(ctx, &next, &store.Attempt{Attempt: next.Attempts, Outcome: store.OutcomeSuccess, ResponseStatus: 200, CreatedAt: now})
	}

	d1 := claimOne("d1")
	dropRecord("d1")
	if err := succeed(d1); err != nil {
		t.Fatalf("recording d1 from its claim's copy: %v", err)
	}
	if got, err := s.GetDelivery(ctx, "d1"); err != nil || got.State != store.DeliverySucceeded || got.WebhookID != "w1" {
		t.Fatalf("d1 after its attempt: %+v, %v; want succeeded, webhook w1", got, err)
	}

	d2 := claimOne("d2")
	epoch := s.epoch.Load()
	if n, err := s.DeadLetterPending(ctx, "w2", "archived", now); err != nil || n != 1 {
		t.Fatalf("dead-lettering w2: %d, %v; want 1 (d3)", n, err)
	}
	if s.epoch.Load() == epoch {
		t.Fatal("dead-lettering d3 did not move the epoch")
	}
	dropRecord("d2")
	if err := succeed(d2); !errors.Is(err, store.ErrNotFound) {
		t.Fatalf("recording d2 after another delivery changed: %v, want ErrNotFound (the record is read)", err)
	}
}
