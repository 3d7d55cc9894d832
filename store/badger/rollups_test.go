package badger

import (
	"io"
	"log/slog"
	"testing"
	"time"

	badger "github.com/dgraph-io/badger/v4"

	"github.com/hookgate/hookgate/store"
)

// TestRollupTTL: a rollup key expires RollupRetention after its minute,
// by the store's clock (a late flush of an older minute expires sooner),
// and a corrupt value is an error, not a zero rollup.
func TestRollupTTL(t *testing.T) {
	now := time.Date(2026, 3, 1, 12, 0, 30, 0, time.UTC)
	s, err := Open(Options{InMemory: true, Logger: slog.New(slog.NewTextHandler(io.Discard, nil)),
		Clock: func() time.Time { return now }, RollupRetention: 48 * time.Hour})
	if err != nil {
		t.Fatal(err)
	}
	defer s.Close()
	minute := store.RollupMinute(now)
	old := minute.Add(-10 * time.Hour)
	err = s.AddRollups(t.Context(), []store.Rollup{
		{CompanyID: 1, WebhookID: "w", Minute: minute, Attempts: map[store.Outcome]int64{store.OutcomeSuccess: 1}},
		{CompanyID: 1, WebhookID: "w", Minute: old, Attempts: map[store.Outcome]int64{store.OutcomeSuccess: 1}},
	})
	if err != nil {
		t.Fatal(err)
	}
	for _, c := range []struct {
		minute time.Time
		left   time.Duration // of the TTL, by the store's clock
	}{{minute, 48*time.Hour - 30*time.Second}, {old, 38*time.Hour - 30*time.Second}} {
		err := s.db.View(func(txn *badger.Txn) error {
			it, err := txn.Get(rollupKey(1, "w", c.minute))
			if err != nil {
				return err
			}
			ttl := time.Until(time.Unix(int64(it.ExpiresAt()), 0))
			if d := ttl - c.left; d < -5*time.Second || d > 5*time.Second {
				t.Errorf("rollup of %s expires in %s, want %s (retention after its minute)", c.minute, ttl, c.left)
			}
			return nil
		})
		if err != nil {
			t.Fatal(err)
		}
	}
	if _, err := decodeRollup([]byte{rollupVersion, 1, 200}); err == nil {
		t.Fatal("decodeRollup of a truncated value succeeded")
	}
	if _, err := decodeRollup([]byte{9}); err == nil {
		t.Fatal("decodeRollup of an unknown version succeeded")
	}
}
