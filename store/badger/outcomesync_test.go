package badger_test

import (
	"context"
	"sync"
	"testing"
	"time"

	"github.com/hookgate/hookgate/store"
	"github.com/hookgate/hookgate/store/badger"
)

// TestOutcomeSync: with storage.outcome_sync_delay an attempt's outcome is
// written (readable at once) but not synced; a publish syncs it first and
// itself before it is answered, the delay bounds how long it waits
// otherwise, and Close syncs what is left (commit.go, "Outcomes").
func TestOutcomeSync(t *testing.T) {
	ctx := context.Background()
	publish := publishOne
	record := func(t *testing.T, s *badger.Store, d *store.Delivery) {
		t.Helper()
		next := *d
		next.Attempts, next.State, next.LastStatus, next.UpdatedAt = 1, store.DeliverySucceeded, 200, time.Now()
		a := &store.Attempt{DeliveryID: d.ID, Attempt: 1, WebhookID: d.WebhookID, CompanyID: d.CompanyID,
			EventID: d.EventID, EventName: d.EventName, ResponseStatus: 200, Outcome: store.OutcomeSuccess, CreatedAt: time.Now()}
		if err := s.RecordAttempt(ctx, &next, a); err != nil {
			t.Fatal(err)
		}
	}

	t.Run("a publish syncs the outcomes before it", func(t *testing.T) {
		s := openBenchSync(t, t.TempDir(), time.Hour)
		defer s.Close()
		d := publish(t, s)
		published := s.Syncs()
		if published != 1 {
			t.Fatalf("a publish synced %d times, want 1 (badger does not sync commits itself)", published)
		}
		record(t, s, d)
		if got := s.Syncs(); got != published {
			t.Fatalf("recording an outcome synced (%d syncs, was %d); it should wait for the delay or a publish", got, published)
		}
		got, err := s.GetDelivery(ctx, d.ID)
		if err != nil || got.State != store.DeliverySucceeded {
			t.Fatalf("the unsynced outcome is not readable: %v, %+v", err, got)
		}
		publish(t, s)
		if got := s.Syncs(); got != published+2 {
			t.Fatalf("a publish after an unsynced outcome synced %d times, want 2 (the outcome first, then itself)", got-published)
		}
	})

	t.Run("the delay bounds the wait", func(t *testing.T) {
		s := openBenchSync(t, t.TempDir(), 10*time.Millisecond)
		defer s.Close()
		d := publish(t, s)
		published := s.Syncs()
		record(t, s, d)
		for deadline := time.Now().Add(10 * time.Second); s.Syncs() == published; {
			if time.Now().After(deadline) {
				t.Fatal("an outcome stayed unsynced 10s with a 10ms outcome_sync_delay")
			}
			time.Sleep(time.Millisecond)
		}
	})

	t.Run("close syncs what is left", func(t *testing.T) {
		s := openBenchSync(t, t.TempDir(), time.Hour)
		d := publish(t, s)
		record(t, s, d)
		before := s.Syncs()
		if err := s.Close(); err != nil {
			t.Fatal(err)
		}
		if got := s.Syncs(); got != before+1 {
			t.Fatalf("close synced %d times, want 1", got-before)
		}
	})
}

// TestClaimsWaitForTheSync: with outcomes synced late badger makes a commit
// visible before the committer syncs it, so a claim taken in between would
// send a delivery of a publish that a power loss could still take (and
// whose producer, never answered, publishes again). A claim waits for the
// sync instead. Fails without Store.syncGate: the claim returns at once.
func TestClaimsWaitForTheSync(t *testing.T) {
	ctx := context.Background()
	s := openBenchSync(t, t.TempDir(), time.Hour)
	defer s.Close()
	claimed := make(chan int, 1)
	early := -1
	var once sync.Once
	badger.SetBeforeSync(s, func() {
		once.Do(func() {
			go func() {
				ds, err := s.ClaimDue(ctx, 1, time.Now().Add(time.Hour), 10)
				if err != nil {
					t.Error(err)
				}
				claimed <- len(ds)
			}()
			// Long enough for the claim to finish if nothing holds it.
			select {
			case early = <-claimed:
			case <-time.After(300 * time.Millisecond):
			}
		})
	})
	if _, err := s.Ingest(ctx, nil, []store.IngestItem{benchItem(1, time.Now())}); err != nil {
		t.Fatal(err)
	}
	if early >= 0 {
		t.Fatalf("a claim between the publish's commit and its sync returned (%d deliveries); it should wait for the sync", early)
	}
	select {
	case n := <-claimed:
		if n != 1 {
			t.Fatalf("the claim after the sync got %d deliveries, want 1", n)
		}
	case <-time.After(10 * time.Second):
		t.Fatal("the claim never returned")
	}
}

// publishOne ingests one event with one delivery and returns the
// delivery, claimed.
func publishOne(t *testing.T, s *badger.Store) *store.Delivery {
	t.Helper()
	now := time.Now()
	if _, err := s.Ingest(context.Background(), nil, []store.IngestItem{benchItem(1, now)}); err != nil {
		t.Fatal(err)
	}
	ds, err := s.ClaimDue(context.Background(), 1, now.Add(time.Hour), 1)
	if err != nil || len(ds) != 1 {
		t.Fatalf("claim: %v, %d deliveries", err, len(ds))
	}
	return ds[0]
}
