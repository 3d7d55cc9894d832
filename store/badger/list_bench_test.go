package badger_test

import (
	"context"
	"testing"
	"time"

	"github.com/hookgate/hookgate/store"
	"github.com/hookgate/hookgate/store/badger"
)

// BenchmarkListAttempts: what the API's log listing costs. A company's
// 40,000 attempts (20,000 events fanned out to two webhooks, drained and
// the store reopened, so they are read from tables on disk), then a page
// of 50 with the total, by company alone and filtered by webhook (half of
// them match), newest first, a read of one attempt by its id, and the list
// of one delivery's 64 attempts (the most its record keeps times for).
func BenchmarkListAttempts(b *testing.B) {
	const events, batch = 20000, 200
	ctx := context.Background()
	dir := b.TempDir()
	s := openBench(b, dir)
	now := time.Now()
	var first *store.Delivery
	for i := 0; i < events; i += batch {
		items := make([]store.IngestItem, batch)
		for k := range items {
			items[k] = benchItem(2, now.Add(time.Duration(i+k)*time.Microsecond))
		}
		if first == nil {
			first = items[0].Deliveries[0]
		}
		if _, err := s.Ingest(ctx, nil, items); err != nil {
			b.Fatal(err)
		}
	}
	drain(b, s, 2*events, now.Add(time.Hour), true)
	retried := retryTimes(b, s, now.Add(2*time.Hour), 64)
	s.Close()
	s = openBench(b, dir)
	defer s.Close()
	for _, c := range []struct {
		name string
		f    store.AttemptFilter
		want int
	}{
		{"company", store.AttemptFilter{CompanyID: 1, Limit: 50}, 2 * events},
		{"webhook", store.AttemptFilter{CompanyID: 1, WebhookID: "wh-1", Limit: 50}, events},
	} {
		b.Run(c.name, func(b *testing.B) {
			for range b.N {
				page, total, err := s.ListAttempts(ctx, c.f)
				if err != nil || total != c.want || len(page) != 50 {
					b.Fatalf("%d of %d, %v; want 50 of %d", len(page), total, err, c.want)
				}
			}
		})
	}
	b.Run("by-id", func(b *testing.B) {
		for range b.N {
			if a, err := s.GetAttempt(ctx, first.ID, 1); err != nil || a.DeliveryID != first.ID {
				b.Fatalf("%+v, %v", a, err)
			}
		}
	})
	b.Run("delivery-64", func(b *testing.B) {
		for range b.N {
			if page, total, err := s.ListAttempts(ctx, store.AttemptFilter{DeliveryID: retried, Limit: 100}); err != nil || total != 64 || len(page) != 64 {
				b.Fatalf("%d of %d, %v; want 64", len(page), total, err)
			}
		}
	})
}

// retryTimes queues one more delivery at now, of company 2 so that company
// 1's log stays as the other cases count it, and records n failed attempts
// of it; it returns the delivery's id.
func retryTimes(b *testing.B, s *badger.Store, now time.Time, n int) string {
	it := benchItem(1, now)
	it.Event.CompanyID, it.Deliveries[0].CompanyID = 2, 2
	if _, err := s.Ingest(context.Background(), nil, []store.IngestItem{it}); err != nil {
		b.Fatal(err)
	}
	badger.RetryTimes(b, s, now, n)
	return it.Deliveries[0].ID
}
