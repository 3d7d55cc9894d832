package badger_test

import (
	"context"
	"sync"
	"testing"
	"time"

	"github.com/hookgate/hookgate/store"
)

// TestClaimedDeliveryNeverReadsAsUnattempted: a read of a claimed delivery
// whose attempt is recorded meanwhile shows it in flight (as claimed) or
// with its attempt, never as pending with none. The claims were consulted
// after the read's snapshot, so a claim released in between left the
// snapshot's old record looking pending and unattempted (TestRetryClasses
// saw it under load).
func TestClaimedDeliveryNeverReadsAsUnattempted(t *testing.T) {
	ctx := context.Background()
	s := openBenchSync(t, t.TempDir(), 200*time.Millisecond)
	defer s.Close()
	const rounds = 100
	for i := range rounds {
		d := publishOne(t, s)
		now := d.CreatedAt // the listing's window is around it
		var wg sync.WaitGroup
		wg.Go(func() {
			next := *d
			next.Attempts, next.State, next.LastStatus, next.UpdatedAt = 1, store.DeliveryPending, 500, time.Now()
			next.DueAt = next.UpdatedAt.Add(time.Hour)
			a := &store.Attempt{DeliveryID: d.ID, Attempt: 1, WebhookID: d.WebhookID, CompanyID: d.CompanyID,
				EventID: d.EventID, EventName: d.EventName, ResponseStatus: 500, Outcome: store.OutcomeRetry, CreatedAt: time.Now()}
			if err := s.RecordAttempt(ctx, &next, a); err != nil {
				t.Error(err)
			}
		})
		for range 20 {
			got, err := s.GetDelivery(ctx, d.ID)
			if err != nil {
				t.Fatal(err)
			}
			if got.State == store.DeliveryPending && got.Attempts == 0 {
				t.Fatalf("round %d: a claimed delivery read as pending with no attempt", i)
			}
			ls, err := s.ListDeliveries(ctx, d.WebhookID, store.DeliveryPending, now.Add(-time.Millisecond), now.Add(time.Millisecond))
			if err != nil {
				t.Fatal(err)
			}
			for _, l := range ls {
				if l.ID == d.ID && l.Attempts == 0 {
					t.Fatalf("round %d: a claimed delivery listed as pending with no attempt", i)
				}
			}
		}
		wg.Wait()
	}
}
