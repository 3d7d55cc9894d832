package badger_test

import (
	"context"
	"sync"
	"testing"
	"time"

	"github.com/hookgate/hookgate/store"
	"github.com/hookgate/hookgate/store/badger"
)

// TestCommitDelay: with storage.commit_delay a publish that arrives while
// another is held shares its sync; without it each pays its own; and the
// hold ends once commitDelayOps (8) writes have joined, long before the
// delay (commit.go, "Commit delay").
func TestCommitDelay(t *testing.T) {
	open := func(t *testing.T, delay time.Duration) *badger.Store {
		s, err := badger.Open(badger.Options{Path: t.TempDir(), Logger: quietLogger(),
			OutcomeSyncDelay: time.Hour, CommitDelay: delay})
		if err != nil {
			t.Fatal(err)
		}
		t.Cleanup(func() { s.Close() })
		return s
	}
	ingest := func(t *testing.T, s *badger.Store) {
		if _, err := s.Ingest(context.Background(), nil, []store.IngestItem{benchItem(1, time.Now())}); err != nil {
			t.Error(err)
		}
	}
	// two publishes 20 ms apart: the second comes while the first is
	// committed (no delay) or held (a delay): a real gap, since the
	// delay is a span of real time.
	twoApart := func(t *testing.T, s *badger.Store) (syncs uint64, first time.Duration) {
		before := s.Syncs()
		var wg sync.WaitGroup
		start := time.Now()
		wg.Go(func() { ingest(t, s); first = time.Since(start) })
		time.Sleep(20 * time.Millisecond)
		ingest(t, s)
		wg.Wait()
		return s.Syncs() - before, first
	}

	t.Run("without a delay each publish syncs", func(t *testing.T) {
		if n, _ := twoApart(t, open(t, 0)); n != 2 {
			t.Errorf("two publishes 20 ms apart synced %d times, want 2", n)
		}
	})
	t.Run("with a delay they share one sync", func(t *testing.T) {
		n, first := twoApart(t, open(t, 500*time.Millisecond))
		if n != 1 {
			t.Errorf("two publishes 20 ms apart synced %d times with a 500ms commit delay, want 1", n)
		}
		if first < 20*time.Millisecond {
			t.Errorf("the first publish was answered after %v, before the second came: it was not held", first)
		}
	})
	t.Run("eight writes end the hold", func(t *testing.T) {
		s := open(t, time.Minute)
		before := s.Syncs()
		start := time.Now()
		var wg sync.WaitGroup
		for range 8 {
			wg.Go(func() { ingest(t, s) })
		}
		wg.Wait()
		if took := time.Since(start); took > 30*time.Second {
			t.Errorf("8 publishes took %v with a 1m commit delay: the hold did not end when they had joined", took)
		}
		if n := s.Syncs() - before; n != 1 {
			t.Errorf("8 concurrent publishes synced %d times, want 1", n)
		}
	})
}
