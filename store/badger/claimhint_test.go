package badger_test

import (
	"context"
	"sync"
	"testing"
	"time"

	"github.com/hookgate/hookgate/store"
)

// TestBadgerClaimSeesEveryDueDelivery: concurrent workers each ingest one
// delivery, claim one and record it (a retry due at once, or a success).
// Every claim must find a delivery: the caller's own ingest is committed, and
// retries are pending again once recorded. A claim scan's hint that moved
// past a due, unclaimed key (one committed while another scan ran, or a
// retry's new key seen while its claim was not yet released) would show up
// as an empty claim.
func TestBadgerClaimSeesEveryDueDelivery(t *testing.T) {
	s := openBench(t, t.TempDir())
	defer s.Close()
	ctx := context.Background()
	const workers, rounds = 32, 100
	var wg sync.WaitGroup
	for w := range workers {
		wg.Go(func() {
			for r := range rounds {
				if _, err := s.Ingest(ctx, nil, []store.IngestItem{benchItem(1, time.Now())}); err != nil {
					t.Error(err)
					return
				}
				got, err := s.ClaimDue(ctx, 1, time.Now().Add(time.Hour), 1) // all due: see BenchmarkDeliveryCycle
				if err != nil || len(got) != 1 {
					t.Errorf("worker %d round %d: ClaimDue = %d deliveries, %v; want 1", w, r, len(got), err)
					return
				}
				d := got[0]
				if _, err := s.GetEvent(ctx, d.EventID); err != nil {
					t.Error(err)
					return
				}
				at := time.Now()
				next := *d
				next.Attempts, next.UpdatedAt = d.Attempts+1, at
				a := &store.Attempt{DeliveryID: d.ID, Attempt: next.Attempts, WebhookID: d.WebhookID, CompanyID: d.CompanyID, CreatedAt: at}
				if (w+r)%3 == 0 {
					next.State, next.DueAt, a.Outcome = store.DeliveryPending, at, store.OutcomeRetry
				} else {
					next.State, a.Outcome = store.DeliverySucceeded, store.OutcomeSuccess
				}
				if err := s.RecordAttempt(ctx, &next, a); err != nil {
					t.Error(err)
					return
				}
			}
		})
	}
	wg.Wait()
}
