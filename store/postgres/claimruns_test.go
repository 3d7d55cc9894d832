package postgres_test

import (
	"fmt"
	"testing"
	"time"

	"github.com/google/uuid"

	"github.com/hookgate/hookgate/store"
	"github.com/hookgate/hookgate/store/postgres"
	"github.com/hookgate/hookgate/store/storetest"
)

// TestClaimPassesBlockedCompany: a blocked company's backlog is passed over
// (its rows left queued) and other companies' deliveries behind it are
// claimed, also those committed after a claim remembered the backlog with a
// due time before that claim's now (a publish that took its time before the
// claim and committed after it): the run ends at the backlog's last row, not
// at the claim's now, so they are not hidden in it until it expires.
func TestClaimPassesBlockedCompany(t *testing.T) {
	s := openWith(t, postgres.Options{})
	now := storetest.ClockFor(t).Now()
	queue := func(company int64, n int, due time.Time) {
		t.Helper()
		var items []store.IngestItem
		for i := range n {
			ev := &store.Event{ID: uuid.NewString(), TraceID: uuid.NewString(), Name: "x", CompanyID: company, Payload: []byte(`{}`), ReceivedAt: due}
			d := &store.Delivery{ID: uuid.NewString(), WebhookID: fmt.Sprintf("w%d-%d", company, i%7), CompanyID: company,
				EventName: "x", Priority: 1, DueAt: due.Add(time.Duration(i) * time.Microsecond)}
			items = append(items, store.IngestItem{Event: ev, Deliveries: []*store.Delivery{d}})
		}
		if _, err := s.Ingest(t.Context(), nil, items); err != nil {
			t.Fatal(err)
		}
	}
	f := store.ClaimFilter{
		Admit:          func(d *store.Delivery) bool { return d.CompanyID != 1 },
		BlockedCompany: func(id int64) bool { return id == 1 },
	}
	claim := func() []*store.Delivery {
		t.Helper()
		got, err := s.ClaimDueFunc(t.Context(), 1, now.Add(10*time.Second), 10, f)
		if err != nil {
			t.Fatal(err)
		}
		return got
	}
	queue(1, 1000, now)
	if got := claim(); len(got) != 0 {
		t.Fatalf("claimed %d deliveries of a blocked company", len(got))
	}
	queue(2, 1, now.Add(time.Second))
	if got := claim(); len(got) != 1 || got[0].CompanyID != 2 {
		t.Fatalf("claimed %d deliveries (%v), want company 2's one behind company 1's backlog", len(got), got)
	}
	queue(3, 1, now.Add(5*time.Second)) // before the last claims' now, after the backlog
	if got := claim(); len(got) != 1 || got[0].CompanyID != 3 {
		t.Fatalf("claimed %d deliveries (%v), want company 3's one", len(got), got)
	}
}
