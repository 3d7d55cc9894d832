package postgres_test

import (
	"testing"
	"time"

	"github.com/hookgate/hookgate/store"
	"github.com/hookgate/hookgate/store/postgres"
	"github.com/hookgate/hookgate/store/storetest"
)

// TestRollupRetention: a write deletes the rollups whose minute is past
// RollupRetention by the store's clock, and keeps the others.
func TestRollupRetention(t *testing.T) {
	s := openWith(t, postgres.Options{RollupRetention: 2 * time.Hour})
	clock := storetest.ClockFor(t)
	one := func(m time.Time) []store.Rollup {
		return []store.Rollup{{CompanyID: 1, WebhookID: "w", Minute: m, Attempts: map[store.Outcome]int64{store.OutcomeSuccess: 1}}}
	}
	start := store.RollupMinute(clock.Now())
	for _, m := range []time.Time{start, start.Add(90 * time.Minute)} {
		if err := s.AddRollups(t.Context(), one(m)); err != nil {
			t.Fatal(err)
		}
	}
	clock.Advance(2*time.Hour + time.Minute)
	if err := s.AddRollups(t.Context(), one(store.RollupMinute(clock.Now()))); err != nil {
		t.Fatal(err)
	}
	got, err := s.ListRollups(t.Context(), store.RollupFilter{CompanyID: 1, WebhookID: "w"})
	if err != nil {
		t.Fatal(err)
	}
	if len(got) != 2 || !got[0].Minute.Equal(start.Add(90*time.Minute)) {
		t.Fatalf("after the retention passed the first minute: %+v, want the later two", got)
	}
	var rows int
	if err := s.Pool().QueryRow(t.Context(), `SELECT count(*) FROM rollups`).Scan(&rows); err != nil || rows != 2 {
		t.Fatalf("rollups rows = %d, %v; want 2 (the expired one deleted, not hidden)", rows, err)
	}
}
