package badger_test

import (
	"context"
	"fmt"
	"testing"
	"time"

	"github.com/google/uuid"

	"github.com/hookgate/hookgate/store"
	"github.com/hookgate/hookgate/store/badger"
)

// queueBacklog ingests n pending deliveries of one webhook at priority 1,
// due one microsecond apart from `from`, in calls of up to 1,000.
func queueBacklog(tb testing.TB, s *badger.Store, webhookID string, n int, from time.Time) []string {
	tb.Helper()
	ctx := context.Background()
	var ids []string
	for done := 0; done < n; {
		var items []store.IngestItem
		for ; done < n && len(items) < 1000; done++ {
			due := from.Add(time.Duration(done) * time.Microsecond)
			ev := &store.Event{ID: uuid.NewString(), TraceID: uuid.NewString(), Name: "workorder.created", CompanyID: 1,
				Payload: []byte(`{}`), ReceivedAt: due}
			d := &store.Delivery{ID: uuid.NewString(), EventID: ev.ID, WebhookID: webhookID, CompanyID: 1, EventName: ev.Name,
				Priority: 1, State: store.DeliveryPending, DueAt: due, CreatedAt: due, UpdatedAt: due}
			ids = append(ids, d.ID)
			items = append(items, store.IngestItem{Event: ev, Deliveries: []*store.Delivery{d}})
		}
		if _, err := s.Ingest(ctx, nil, items); err != nil {
			tb.Fatal(err)
		}
	}
	return ids
}

// blockHook is a claim filter that refuses every delivery of one webhook.
func blockHook(webhookID string) store.ClaimFilter {
	return store.ClaimFilter{
		Admit:   func(d *store.Delivery) bool { return d.WebhookID != webhookID },
		Blocked: func(id string) bool { return id == webhookID },
	}
}

// BenchmarkClaimPastBlockedBacklog: one claim when a webhook at its limit
// has 40,000 due deliveries queued ahead of everything else (64 deliveries
// of another webhook, claimed by the first claims and still in flight). The
// dispatcher claims like this each time a worker frees.
func BenchmarkClaimPastBlockedBacklog(b *testing.B) {
	for _, backlog := range []int{40_000} {
		b.Run(fmt.Sprintf("backlog=%d", backlog), func(b *testing.B) {
			s := openBench(b, b.TempDir())
			defer s.Close()
			ctx := context.Background()
			base := time.Now().Add(-time.Hour)
			queueBacklog(b, s, "A", backlog, base)
			queueBacklog(b, s, "B", 64, base.Add(30*time.Minute))
			f := blockHook("A")
			now := time.Now()
			claimed := 0
			for claimed < 64 { // the first claims read (and refuse) the backlog in bounded steps
				got, err := s.ClaimDueFunc(ctx, 1, now, 64, f)
				if err != nil {
					b.Fatal(err)
				}
				claimed += len(got)
			}
			b.ResetTimer()
			for b.Loop() {
				got, err := s.ClaimDueFunc(ctx, 1, now, 64, f)
				if err != nil || len(got) != 0 {
					b.Fatalf("claim: %d deliveries, %v; want none", len(got), err)
				}
			}
		})
	}
}
