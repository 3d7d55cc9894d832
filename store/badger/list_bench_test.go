package badger_test

import (
	"context"
	"testing"
	"time"

	"github.com/hookgate/hookgate/store"
)

// BenchmarkListAttempts: what the API's log listing costs. A company's
// 40,000 attempts (20,000 events fanned out to two webhooks, drained and
// the store reopened, so they are read from tables on disk), then a page
// of 50 with the total, by company alone and filtered by webhook (half of
// them match), newest first, and a read of one attempt by its id.
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
}
