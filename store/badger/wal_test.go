package badger_test

import (
	"context"
	"os"
	"path/filepath"
	"testing"
	"time"

	"github.com/hookgate/hookgate/store"
	"github.com/hookgate/hookgate/store/badger"
)

// TestSyncCoversRotatedLogs: with outcome_sync_delay badger does not sync
// commits and its own Sync covers only the current memtable's log, so
// writes committed before a rotation would stay unsynced in the previous
// log until badger flushes it. Every sync of the store syncs the logs
// rotated out since the last one (wal.go). Fails without rotatedLogs: the
// count stays 0.
func TestSyncCoversRotatedLogs(t *testing.T) {
	ctx := context.Background()
	dir := t.TempDir()
	s, err := badger.Open(badger.Options{Path: dir, Logger: quietLogger(), OutcomeSyncDelay: time.Hour, MemTableSize: 1 << 20})
	if err != nil {
		t.Fatal(err)
	}
	defer s.Close()
	logs := func() []string {
		m, _ := filepath.Glob(filepath.Join(dir, "*.mem"))
		return m
	}
	first := logs()
	if len(first) != 1 {
		t.Fatalf("memtable logs at open: %v, want one", first)
	}
	now := time.Now()
	for i := 0; badger.RotatedLogsSynced(s) == 0; i++ {
		if i == 200 { // ~200 × 50 events: several 1 MiB memtables
			t.Fatalf("no rotated-out memtable log synced after %d publishes; logs now %v", i, logs())
		}
		items := make([]store.IngestItem, 50)
		for k := range items {
			items[k] = benchItem(1, now)
		}
		if _, err := s.Ingest(ctx, nil, items); err != nil {
			t.Fatal(err)
		}
	}
	// The first log was rotated out (it may since have been flushed and
	// removed): the syncs have moved past it.
	if _, err := os.Stat(first[0]); err == nil {
		if got := logs(); got[len(got)-1] == first[0] {
			t.Fatalf("a rotated-out log was synced, yet %s is still the newest", first[0])
		}
	}
}
