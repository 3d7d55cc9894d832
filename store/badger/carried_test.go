package badger

import (
	"context"
	"errors"
	"testing"
	"time"

	badger "github.com/dgraph-io/badger/v4"

	"github.com/hookgate/hookgate/store"
)

// TestCarriedDeliveryHasNoRecordKeyUntilItMoves (format 7): a delivery
// queued by ingest where its id says (store.NewDeliveryID) writes no d/
// key. Read by id, listed, claimed, retried and read again after a
// restart, it behaves like one that has it; once it moves, its d/ key is
// written as before. An id that says another place, or an old random id,
// keeps its d/ key from the start.
func TestCarriedDeliveryHasNoRecordKeyUntilItMoves(t *testing.T) {
	dir := t.TempDir()
	now := time.Unix(1_765_000_000, 123_456_789)
	clock := func() time.Time { return now }
	s, err := Open(Options{Path: dir, Clock: clock})
	if err != nil {
		t.Fatal(err)
	}
	ctx := context.Background()
	carried := store.NewDeliveryID(1, now)
	elsewhere := store.NewDeliveryID(2, now) // queued at priority 1: its id is wrong about it
	random := store.NewID()
	var items []store.IngestItem
	for _, id := range []string{carried, elsewhere, random} {
		ev := &store.Event{ID: store.NewID(), TraceID: store.NewID(), Name: "workorder.created", CompanyID: 1, Payload: []byte(`{}`), ReceivedAt: now}
		items = append(items, store.IngestItem{Event: ev, Deliveries: []*store.Delivery{{ID: id, EventID: ev.ID, WebhookID: "w",
			CompanyID: 1, EventName: ev.Name, Priority: 1, DueAt: now, CreatedAt: now, UpdatedAt: now}}})
	}
	if _, err := s.Ingest(ctx, nil, items); err != nil {
		t.Fatal(err)
	}
	hasKey := func(s *Store, id string) bool {
		t.Helper()
		found := false
		if err := s.db.View(func(txn *badger.Txn) error {
			_, err := txn.Get(deliveryKey(id))
			found = err == nil
			if errors.Is(err, badger.ErrKeyNotFound) {
				return nil
			}
			return err
		}); err != nil {
			t.Fatal(err)
		}
		return found
	}
	if hasKey(s, carried) || !hasKey(s, elsewhere) || !hasKey(s, random) {
		t.Fatalf("d/ keys: carried %v (want none), elsewhere %v, random %v (want both)", hasKey(s, carried), hasKey(s, elsewhere), hasKey(s, random))
	}
	if d, err := s.GetDelivery(ctx, carried); err != nil || d.State != store.DeliveryPending || d.WebhookID != "w" || !d.DueAt.Equal(now) {
		t.Fatalf("GetDelivery(carried) = %+v, %v; want it pending, due now", d, err)
	}
	if _, err := s.GetDelivery(ctx, store.NewDeliveryID(1, now)); !errors.Is(err, store.ErrNotFound) {
		t.Fatalf("GetDelivery of an id never ingested: %v, want ErrNotFound", err)
	}
	list, err := s.ListDeliveries(ctx, "w", store.DeliveryPending, time.Time{}, time.Time{})
	if err != nil || len(list) != 3 {
		t.Fatalf("ListDeliveries: %d, %v; want all 3 once", len(list), err)
	}

	// Restarted, it is still found by its id.
	if err := s.Close(); err != nil {
		t.Fatal(err)
	}
	if s, err = Open(Options{Path: dir, Clock: clock}); err != nil {
		t.Fatal(err)
	}
	defer s.Close()
	claimed, err := s.ClaimDue(ctx, 1, now.Add(time.Second), 10)
	if err != nil || len(claimed) != 3 {
		t.Fatalf("claim after a restart: %d, %v; want 3", len(claimed), err)
	}
	// Its attempt fails and it is queued again, 10 s later: now it has a
	// d/ key, and reads give the new due time.
	for _, d := range claimed {
		if d.ID != carried {
			continue
		}
		next := *d
		next.State, next.Attempts, next.DueAt = store.DeliveryPending, 1, now.Add(10*time.Second)
		if err := s.RecordAttempt(ctx, &next, &store.Attempt{Attempt: 1, Outcome: store.OutcomeRetry, ResponseStatus: 503, CreatedAt: now}); err != nil {
			t.Fatal(err)
		}
	}
	if !hasKey(s, carried) {
		t.Fatal("the carried delivery has no d/ key after it moved")
	}
	if d, err := s.GetDelivery(ctx, carried); err != nil || d.Attempts != 1 || !d.DueAt.Equal(now.Add(10*time.Second)) {
		t.Fatalf("GetDelivery after the retry = %+v, %v; want 1 attempt, due in 10 s", d, err)
	}
	list, err = s.ListDeliveries(ctx, "w", "", time.Time{}, time.Time{})
	if err != nil || len(list) != 3 {
		t.Fatalf("ListDeliveries after the retry: %d, %v; want 3, none twice", len(list), err)
	}
}
