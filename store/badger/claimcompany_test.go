package badger

import (
	"context"
	"fmt"
	"testing"
	"time"

	"github.com/google/uuid"

	"github.com/hookgate/hookgate/store"
)

// queueCompany ingests one pending delivery of company at priority 1 for
// each due time, its webhooks taken in turn from hooks, and returns their ids.
func queueCompany(t *testing.T, s *Store, company int64, hooks int, dues ...time.Time) []string {
	t.Helper()
	var ids []string
	var items []store.IngestItem
	for i, due := range dues {
		ev := &store.Event{ID: uuid.NewString(), TraceID: uuid.NewString(), Name: "workorder.created", CompanyID: company,
			Payload: []byte(`{}`), ReceivedAt: due}
		d := &store.Delivery{ID: uuid.NewString(), EventID: ev.ID, WebhookID: fmt.Sprintf("%d-%d", company, i%hooks), CompanyID: company,
			EventName: ev.Name, Priority: 1, State: store.DeliveryPending, DueAt: due, CreatedAt: due, UpdatedAt: due}
		ids = append(ids, d.ID)
		items = append(items, store.IngestItem{Event: ev, Deliveries: []*store.Delivery{d}})
		if len(items) == 1000 || i == len(dues)-1 {
			if _, err := s.Ingest(context.Background(), nil, items); err != nil {
				t.Fatal(err)
			}
			items = items[:0]
		}
	}
	return ids
}

// TestBadgerClaimSkipsBlockedCompany: a company's backlog interleaves its
// 500 webhooks in due order, so no run of one webhook is long enough to
// remember; with the company blocked (ClaimFilter.BlockedCompany) it is one
// run, walked once and then skipped in one seek, and another company's
// delivery behind it is claimed at once.
func TestBadgerClaimSkipsBlockedCompany(t *testing.T) {
	s := openRunsStore(t, false)
	base := time.Date(2026, 1, 20, 0, 0, 0, 0, time.UTC)
	now := base.Add(time.Hour)
	const backlog = 5000
	queueCompany(t, s, 1, 500, dueSeries(base, backlog, time.Microsecond)...)
	blocked := true
	f := store.ClaimFilter{
		Admit:          func(d *store.Delivery) bool { return d.CompanyID != 1 || !blocked },
		Blocked:        func(string) bool { return false }, // no webhook is at its own limit
		BlockedCompany: func(id int64) bool { return id == 1 && blocked },
	}
	for range 3 { // the backlog is walked in bounded steps
		if got, _ := claimCounting(t, s, now, 10, f); len(got) != 0 {
			t.Fatalf("claimed %d deliveries of a blocked company", len(got))
		}
	}
	for i := range 5 {
		b := queueCompany(t, s, 2, 1, now.Add(-time.Second+time.Duration(i)))
		got, n := claimCounting(t, s, now, 10, f)
		if len(got) != 1 || got[0].ID != b[0] {
			t.Fatalf("company 2's delivery %d behind the backlog: %d claimed, want it", i, len(got))
		}
		if n > 10 {
			t.Fatalf("company 2's delivery %d: the claim visited %d keys, want at most 10 (the backlog skipped in one seek)", i, n)
		}
	}
	blocked = false
	total := 0
	for range 3 {
		got, _ := claimCounting(t, s, now, backlog, f)
		total += len(got)
	}
	if total != backlog {
		t.Fatalf("after the company was unblocked: %d of its %d deliveries claimed", total, backlog)
	}
}

// TestBadgerClaimRebuildsStaleRun: a run remembered while a company's
// webhooks were blocked (say, not yet known and the slow share used up)
// stops being skippable once they are not, though the company itself is
// blocked now; the next claim reads it key by key and replaces it with a
// run of what refuses its keys now, so the claims after it skip the backlog
// in one seek again instead of walking it every time.
func TestBadgerClaimRebuildsStaleRun(t *testing.T) {
	s := openRunsStore(t, false)
	base := time.Date(2026, 1, 20, 0, 0, 0, 0, time.UTC)
	now := base.Add(time.Hour)
	const backlog = 5000
	queueCompany(t, s, 1, 8, dueSeries(base, backlog, time.Microsecond)...)
	hooksBlocked, companyBlocked := true, false
	f := store.ClaimFilter{
		Admit:          func(d *store.Delivery) bool { return false },
		Blocked:        func(string) bool { return hooksBlocked },
		BlockedCompany: func(id int64) bool { return companyBlocked },
	}
	for range 3 {
		claimCounting(t, s, now, 10, f)
	}
	if _, n := claimCounting(t, s, now, 10, f); n > 10 {
		t.Fatalf("the webhooks' run: a claim visited %d keys, want at most 10", n)
	}
	hooksBlocked, companyBlocked = false, true
	for range 2 { // read the stale run key by key (4,096 reads a claim at most), rebuilding it
		claimCounting(t, s, now, 10, f)
	}
	for i := range 3 {
		if _, n := claimCounting(t, s, now, 10, f); n > 10 {
			t.Fatalf("claim %d after the webhooks were unblocked and the company blocked: visited %d keys, want at most 10", i, n)
		}
	}
}
