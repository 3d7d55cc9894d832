package badger

import (
	"bytes"
	"context"
	"log/slog"
	"strings"
	"testing"
	"time"

	badger "github.com/dgraph-io/badger/v4"

	"github.com/hookgate/hookgate/store"
)

// TestCorruptQueuedRecordIsPassedOver: a queued delivery whose record
// cannot be decoded (a disk fault, a bug) can never be sent. It must not
// stop the claims of the deliveries queued behind it, which before failed
// every claim of its priority for good, nor leave the deliveries claimed
// before it in the same scan claimed but never handed out. It is passed
// over, logged once, and left on disk.
func TestCorruptQueuedRecordIsPassedOver(t *testing.T) {
	var logs bytes.Buffer
	s, err := Open(Options{InMemory: true, Logger: slog.New(slog.NewTextHandler(&logs, nil))})
	if err != nil {
		t.Fatal(err)
	}
	defer s.Close()
	t0 := time.Unix(1_700_000_000, 0)
	dues := dueSeries(t0, 3, time.Second)
	ids := queueHook(t, s, "w1", dues...)
	if err := s.db.Update(func(txn *badger.Txn) error {
		return txn.Set(queueKey(1, dues[1], ids[1]), []byte{0x7f, 0x00, 0x01})
	}); err != nil {
		t.Fatal(err)
	}
	ctx := context.Background()
	now := t0.Add(time.Minute)
	for round := range 2 {
		admitted := 0
		f := store.ClaimFilter{Admit: func(*store.Delivery) bool { admitted++; return true }}
		got, err := s.ClaimDueFunc(ctx, 1, now, 10, f)
		if err != nil {
			t.Fatalf("round %d: the claim failed on the corrupt record: %v", round, err)
		}
		if len(got) != 2 || got[0].ID != ids[0] || got[1].ID != ids[2] || admitted != 2 {
			t.Fatalf("round %d: claimed %d (admitted %d), want the two readable ones %s and %s", round, len(got), admitted, ids[0], ids[2])
		}
		// Forget the claims (as a restart does): the next scan starts
		// before the corrupt key again, and passes it over unread.
		if _, err := s.ReleaseInFlight(ctx, now); err != nil {
			t.Fatal(err)
		}
	}
	if n := strings.Count(logs.String(), "record is corrupt"); n != 1 {
		t.Errorf("the corrupt record was logged %d times, want 1:\n%s", n, logs.String())
	}
}
