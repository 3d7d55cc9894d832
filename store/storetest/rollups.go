package storetest

import (
	"reflect"
	"time"

	"github.com/hookgate/hookgate/store"
)

// testRollups: AddRollups adds to what a scope's minute holds (counts and
// histograms summed, depths the larger), also within one call; ListRollups
// returns exactly one scope (a webhook, a company, the gateway), over
// [From, To), oldest first, after a reopen too; a minute already past the
// retention is not kept. Retention of stored minutes is each driver's own
// test (Badger TTL, PostgreSQL deletes).
func testRollups(e *env) {
	t, now := e.t, e.now()
	rs, ok := e.s.(store.Rollups)
	if !ok {
		t.Skip("the store keeps no rollups (store.Rollups)")
	}
	m0 := store.RollupMinute(now).Add(-3 * time.Minute)
	m1, m2 := m0.Add(time.Minute), m0.Add(2*time.Minute)
	hist := func(ds ...time.Duration) store.Histogram {
		var h store.Histogram
		for _, d := range ds {
			h.Observe(d)
		}
		return h
	}
	counts := func(ok, retry, failed int64) map[store.Outcome]int64 {
		m := map[store.Outcome]int64{}
		for o, n := range map[store.Outcome]int64{store.OutcomeSuccess: ok, store.OutcomeRetry: retry, store.OutcomeFailed: failed} {
			if n > 0 {
				m[o] = n
			}
		}
		return m
	}
	const hook, twin = "hook-a", "hook-a2" // one id a prefix of the other
	add := func(r ...store.Rollup) {
		t.Helper()
		if err := rs.AddRollups(e.ctx, r); err != nil {
			t.Fatalf("AddRollups: %v", err)
		}
	}
	add(
		store.Rollup{CompanyID: 1, WebhookID: hook, Minute: m0.Add(17 * time.Second), Attempts: counts(3, 1, 0), Latency: hist(time.Millisecond, 2*time.Millisecond, 3*time.Millisecond, time.Second)},
		store.Rollup{CompanyID: 1, WebhookID: hook, Minute: m2, Attempts: counts(1, 0, 0), Latency: hist(5 * time.Millisecond)},
		store.Rollup{CompanyID: 1, WebhookID: twin, Minute: m0, Attempts: counts(9, 9, 9), Latency: hist(time.Minute)},
		store.Rollup{CompanyID: 1, Minute: m0, Attempts: counts(12, 10, 9), Latency: hist(time.Millisecond)},
		store.Rollup{Minute: m0, Attempts: counts(12, 10, 9), Depth: [3]int64{1, 50, 2}},
		store.Rollup{Minute: m0, Depth: [3]int64{4, 20, 0}}, // the same minute twice in one call
		store.Rollup{CompanyID: 2, WebhookID: hook, Minute: m0, Attempts: counts(0, 0, 1)},
		// Past the retention (7 days by default) when written: dropped.
		store.Rollup{CompanyID: 1, WebhookID: hook, Minute: m0.Add(-30 * 24 * time.Hour), Attempts: counts(1, 0, 0)},
	)
	// A later flush (another replica, a late attempt) adds to m0.
	add(store.Rollup{CompanyID: 1, WebhookID: hook, Minute: m0, Attempts: counts(1, 0, 2), Latency: hist(4 * time.Millisecond)},
		store.Rollup{Minute: m0, Depth: [3]int64{0, 10, 7}})

	list := func(f store.RollupFilter) []store.Rollup {
		t.Helper()
		got, err := rs.ListRollups(e.ctx, f)
		if err != nil {
			t.Fatalf("ListRollups(%+v): %v", f, err)
		}
		return got
	}
	check := func(when string) {
		t.Helper()
		got := list(store.RollupFilter{CompanyID: 1, WebhookID: hook, From: m0.Add(-time.Hour), To: m2.Add(time.Minute)})
		if len(got) != 2 || !got[0].Minute.Equal(m0) || !got[1].Minute.Equal(m2) {
			t.Fatalf("%s: webhook rollups = %+v, want minutes %s and %s", when, got, m0, m2)
		}
		r := got[0]
		if r.CompanyID != 1 || r.WebhookID != hook || !reflect.DeepEqual(r.Attempts, counts(4, 1, 2)) || r.Total() != 7 {
			t.Fatalf("%s: webhook minute %s = %+v, want the two adds summed: 4 success, 1 retry, 2 failed", when, m0, r)
		}
		want := hist(time.Millisecond, 2*time.Millisecond, 3*time.Millisecond, time.Second, 4*time.Millisecond).Trim()
		if !reflect.DeepEqual(r.Latency, want) || r.Latency.Count() != 5 {
			t.Fatalf("%s: webhook minute latency = %v, want %v (the two histograms summed)", when, r.Latency, want)
		}
		if p50 := r.Latency.Quantile(0.5); p50 < 2500*time.Microsecond || p50 > 3500*time.Microsecond {
			t.Fatalf("%s: p50 of the merged minute = %s, want about 3ms", when, p50)
		}
		if r.Depth != [3]int64{} {
			t.Fatalf("%s: a webhook's rollup has queue depth %v, want none", when, r.Depth)
		}
		if got := list(store.RollupFilter{CompanyID: 1, WebhookID: hook, From: m0, To: m2}); len(got) != 1 || !got[0].Minute.Equal(m0) {
			t.Fatalf("%s: [m0, m2) = %+v, want m0 only (To excluded)", when, got)
		}
		if got := list(store.RollupFilter{CompanyID: 1, WebhookID: hook, From: m1}); len(got) != 1 || !got[0].Minute.Equal(m2) {
			t.Fatalf("%s: from m1 without To = %+v, want m2", when, got)
		}
		if got := list(store.RollupFilter{CompanyID: 1, WebhookID: twin, From: m0.Add(-time.Hour), To: m2}); len(got) != 1 || got[0].Attempts[store.OutcomeFailed] != 9 {
			t.Fatalf("%s: the other webhook's rollups = %+v, want its own minute only", when, got)
		}
		if got := list(store.RollupFilter{CompanyID: 1, From: m0, To: m2}); len(got) != 1 || got[0].Total() != 31 || got[0].WebhookID != "" {
			t.Fatalf("%s: company rollups = %+v, want one minute of 31 attempts", when, got)
		}
		gw := list(store.RollupFilter{From: m0, To: m2})
		if len(gw) != 1 || gw[0].Depth != [3]int64{4, 50, 7} || gw[0].Total() != 31 || gw[0].Latency != nil {
			t.Fatalf("%s: gateway rollups = %+v, want one minute, depth [4 50 7] (the most of each), 31 attempts, no latency", when, gw)
		}
		if got := list(store.RollupFilter{CompanyID: 2, WebhookID: hook, From: m0, To: m2}); len(got) != 1 || got[0].Total() != 1 {
			t.Fatalf("%s: company 2's webhook of the same id = %+v, want its own one attempt", when, got)
		}
		if got := list(store.RollupFilter{CompanyID: 1, WebhookID: hook, From: m0.Add(-60 * 24 * time.Hour), To: m0}); len(got) != 0 {
			t.Fatalf("%s: a minute past the retention was kept: %+v", when, got)
		}
		if got := list(store.RollupFilter{CompanyID: 3, From: m0, To: m2}); len(got) != 0 {
			t.Fatalf("%s: a company without traffic has rollups %+v", when, got)
		}
	}
	check("after adding")
	e.reopen()
	rs = e.s.(store.Rollups)
	check("after reopen")
}
