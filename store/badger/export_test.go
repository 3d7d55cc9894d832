package badger

import (
	"context"
	"testing"
	"time"

	"github.com/hookgate/hookgate/store"
)

// SetBeforeSync makes s run f between a durable group's commit and its
// sync (TestClaimsWaitForTheSync).
func SetBeforeSync(s *Store, f func()) { s.beforeSync = f }

// RotatedLogsSynced returns how many memtable logs badger rotated out
// the store's syncs have synced (TestSyncCoversRotatedLogs).
func RotatedLogsSynced(s *Store) int {
	if s.logs == nil {
		return 0
	}
	s.logs.mu.Lock()
	defer s.logs.mu.Unlock()
	return s.logs.synced
}

// RetryTimes claims the store's one due delivery n times, the i-th at now
// plus i milliseconds, and records a failed attempt of it each time, due
// again at once (TestAttemptTimesAreBounded, BenchmarkListAttempts).
func RetryTimes(tb testing.TB, s *Store, now time.Time, n int) {
	tb.Helper()
	ctx := context.Background()
	for i := 1; i <= n; i++ {
		at := now.Add(time.Duration(i) * time.Millisecond)
		claimed, err := s.ClaimDue(ctx, 1, at, 1)
		if err != nil || len(claimed) != 1 {
			tb.Fatalf("attempt %d: claimed %d, %v", i, len(claimed), err)
		}
		next := *claimed[0]
		next.State, next.Attempts, next.DueAt = store.DeliveryPending, i, at
		if err := s.RecordAttempt(ctx, &next, &store.Attempt{DeliveryID: next.ID, Attempt: i, WebhookID: next.WebhookID,
			CompanyID: next.CompanyID, EventID: next.EventID, EventName: next.EventName, Outcome: store.OutcomeRetry, CreatedAt: at}); err != nil {
			tb.Fatal(err)
		}
	}
}
