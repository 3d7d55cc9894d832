package delivery

import (
	"context"
	"fmt"
	"testing"
	"time"

	"github.com/google/uuid"

	"github.com/hookgate/hookgate/config"
	"github.com/hookgate/hookgate/store"
	"github.com/hookgate/hookgate/store/badger"
	"github.com/hookgate/hookgate/store/postgres"
	"github.com/hookgate/hookgate/store/postgres/pgtest"
)

// fourWorkers is the fairness the rules are checked on: 4 workers, at
// most 2 attempts per webhook, half the workers for webhooks slower than
// 1 s, on the clock *now.
func fourWorkers(now *time.Time) *fairness {
	f := newFairness(config.Delivery{MaxInFlightPerWebhook: 2, SlowThreshold: time.Second, SlowShare: 0.5}, 4)
	f.now = func() time.Time { return *now }
	return f
}

// del is delivery i of webhook hook.
func del(hook string, i int) *store.Delivery {
	return &store.Delivery{ID: fmt.Sprintf("%s-%d", hook, i), WebhookID: hook}
}

// TestFairnessAdmit checks the rules on their own: the per-webhook limit,
// the slow share once a webhook's attempts are slow, and the probe that
// lets a webhook not yet known past a full slow share, one at a time.
func TestFairnessAdmit(t *testing.T) {
	now := t0
	f := fourWorkers(&now)
	// c proves itself fast.
	admit := f.pass().Admit
	if !admit(del("c", 1)) {
		t.Fatal("new webhook c refused with every worker free")
	}
	f.done(del("c", 1), time.Millisecond)

	// a is new, so it counts against the slow share (2 of 4 workers) until
	// an attempt of it ends; its limit is 2.
	admit = f.pass().Admit
	if !admit(del("a", 1)) || !admit(del("a", 2)) {
		t.Fatal("webhook a refused under its limit")
	}
	if admit(del("a", 3)) {
		t.Fatal("webhook a admitted past max_in_flight_per_webhook")
	}
	// The slow share is used up by a, but b is new: its first attempt
	// may start as the probe (4 workers: 2 slow, of the other 2 one probe),
	// and no second one until it ends, nor another new webhook's.
	if !admit(del("b", 1)) {
		t.Fatal("new webhook b refused its probe with the slow share used up by a: a new webhook could not prove itself fast behind a slow backlog")
	}
	if admit(del("b", 2)) {
		t.Fatal("new webhook b admitted a second attempt before its probe ended")
	}
	if admit(del("e", 1)) {
		t.Fatal("new webhook e admitted past the slow share while b's probe runs")
	}
	if !admit(del("c", 2)) {
		t.Fatal("fast webhook c refused while workers are free")
	}
	if f.blocked("c", now) || !f.blocked("a", now) || !f.blocked("b", now) || !f.blocked("e", now) || !f.blocked("never-offered", now) {
		t.Fatal("blocked disagrees with admit")
	}
	// b's probe ends fast: b is known fast. a's attempts ran past the
	// threshold: a stays slow; one ends.
	f.done(del("c", 2), time.Millisecond)
	f.done(del("b", 1), time.Millisecond)
	now = now.Add(2 * time.Second)
	f.done(del("a", 1), 2*time.Second)
	admit = f.pass().Admit
	if !admit(del("a", 4)) {
		t.Fatal("slow webhook a refused while the slow share has room")
	}
	if got := f.runningOf("a"); got != 2 {
		t.Fatalf("a running %d, want 2", got)
	}
	// The slow share is full again (a's two): b, proved fast, needs no
	// probe, and the probe is free for e.
	if !admit(del("b", 3)) || !admit(del("e", 2)) {
		t.Fatal("webhook b, proved fast, or e, with the probe free again, refused")
	}
}

// TestCompanyBacklogDoesNotDelayAnother (issue 12, finding 5): company A
// has 1,000 due deliveries over 50 webhooks, all queued ahead of company B's
// one delivery; 8 workers, each pass half of the running attempts end. B's
// delivery must be claimed in the first pass, with A's backlog still
// queued, not after A's backlog drains (as when fairness was per webhook
// only: 8 workers of A at a time, 125+ passes). The real dispatcher's
// fairness and the store's claim scan, on both drivers, with no clock;
// without the slow class, and with it (none of the webhooks has been
// attempted yet, so all count as slow and A's hold the slow share).
func TestCompanyBacklogDoesNotDelayAnother(t *testing.T) {
	t.Run("badger", func(t *testing.T) {
		for _, slowClass := range []bool{false, true} {
			st, err := badger.Open(badger.Options{Path: t.TempDir(), Clock: func() time.Time { return t0 }})
			if err != nil {
				t.Fatal(err)
			}
			t.Cleanup(func() { st.Close() })
			companyBacklog(t, st, slowClass)
		}
	})
	t.Run("postgres", func(t *testing.T) {
		newDB := pgDatabases(t)
		for _, slowClass := range []bool{false, true} {
			companyBacklog(t, openPG(t, newDB(), func() time.Time { return t0 }), slowClass)
		}
	})
}

func companyBacklog(t *testing.T, st store.Store, slowClass bool) {
	t.Helper()
	const hooks, events, workers = 50, 20, 8
	const coA, coB = 100, 200
	ctx := context.Background()
	newEvent := func(company int64) *store.Event {
		return &store.Event{ID: uuid.NewString(), TraceID: uuid.NewString(), Name: "workorder.created", CompanyID: company,
			Payload: []byte(`{}`), ReceivedAt: t0}
	}
	for range events {
		ev := newEvent(coA)
		ds := make([]*store.Delivery, hooks)
		for h := range ds {
			ds[h] = &store.Delivery{ID: uuid.NewString(), WebhookID: fmt.Sprintf("a%d", h), CompanyID: coA,
				EventName: ev.Name, Priority: 1, DueAt: t0}
		}
		if _, err := st.Ingest(ctx, nil, []store.IngestItem{{Event: ev, Deliveries: ds}}); err != nil {
			t.Fatal(err)
		}
	}
	ev := newEvent(coB)
	b := &store.Delivery{ID: uuid.NewString(), WebhookID: "b", CompanyID: coB, EventName: ev.Name, Priority: 1, DueAt: t0.Add(time.Millisecond)}
	if _, err := st.Ingest(ctx, nil, []store.IngestItem{{Event: ev, Deliveries: []*store.Delivery{b}}}); err != nil {
		t.Fatal(err)
	}

	d := config.Defaults().Delivery
	if !slowClass {
		d.SlowThreshold = 0
	}
	f := newFairness(d, workers)
	fc := st.(store.FilteredClaimer)
	now := t0.Add(time.Second)
	var running []*store.Delivery
	deliveredA := 0
	for pass := 1; pass <= 5; pass++ {
		got, err := fc.ClaimDueFunc(ctx, 1, now, workers-len(running), f.pass())
		if err != nil {
			t.Fatal(err)
		}
		for _, del := range got {
			if del.CompanyID == coB {
				if pass > 1 {
					t.Errorf("slow class %v: company B's delivery claimed in pass %d, want the first", slowClass, pass)
				}
				if left := hooks*events - deliveredA; left < hooks*events*9/10 {
					t.Errorf("slow class %v: company B's delivery claimed with %d of company A's %d left: it waited for A's backlog", slowClass, left, hooks*events)
				}
				return
			}
		}
		running = append(running, got...)
		ended := running[:(len(running)+1)/2]
		for _, del := range ended {
			next := *del
			next.Attempts, next.State = 1, store.DeliverySucceeded
			if err := st.RecordAttempt(ctx, &next, &store.Attempt{Attempt: 1, WebhookID: del.WebhookID, CompanyID: del.CompanyID,
				EventID: del.EventID, Outcome: store.OutcomeSuccess, ResponseStatus: 200, CreatedAt: now}); err != nil {
				t.Fatal(err)
			}
			f.done(del, time.Millisecond)
			deliveredA++
		}
		running = running[len(ended):]
	}
	t.Fatalf("slow class %v: company B's delivery not claimed in 5 passes; company A got %d of its %d", slowClass, deliveredA, hooks*events)
}

// TestRateLimitedBacklogDoesNotDelayAnother: a webhook limited to 1/s has
// 2,000 due deliveries queued ahead of another webhook's one; the first
// claim takes the other's delivery and one of the limited webhook's (its
// burst), leaving the rest queued, on both drivers: the store passes over
// the waiting backlog as it does a webhook at its in-flight limit.
func TestRateLimitedBacklogDoesNotDelayAnother(t *testing.T) {
	t.Run("badger", func(t *testing.T) {
		st, err := badger.Open(badger.Options{Path: t.TempDir(), Clock: func() time.Time { return t0 }})
		if err != nil {
			t.Fatal(err)
		}
		t.Cleanup(func() { st.Close() })
		rateLimitedBacklog(t, st)
	})
	t.Run("postgres", func(t *testing.T) {
		rateLimitedBacklog(t, openPG(t, pgDatabases(t)(), func() time.Time { return t0 }))
	})
}

func rateLimitedBacklog(t *testing.T, st store.Store) {
	t.Helper()
	const backlog, workers = 2000, 8
	ctx := context.Background()
	ev := &store.Event{ID: uuid.NewString(), TraceID: uuid.NewString(), Name: "workorder.created", CompanyID: 1, Payload: []byte(`{}`), ReceivedAt: t0}
	ds := make([]*store.Delivery, backlog)
	for i := range ds {
		ds[i] = &store.Delivery{ID: uuid.NewString(), EventID: ev.ID, WebhookID: "limited", CompanyID: 1, EventName: ev.Name, Priority: 1,
			DueAt: t0.Add(time.Duration(i) * time.Microsecond)}
	}
	other := &store.Delivery{ID: uuid.NewString(), EventID: ev.ID, WebhookID: "other", CompanyID: 1, EventName: ev.Name, Priority: 1, DueAt: t0.Add(time.Second)}
	if _, err := st.Ingest(ctx, nil, []store.IngestItem{{Event: ev, Deliveries: append(ds, other)}}); err != nil {
		t.Fatal(err)
	}
	d := config.Defaults().Delivery
	d.SlowThreshold = 0
	hooks := hookMap{"limited": hook("limited", "1/s", 1), "other": hook("other", "", 0)}
	f := newFairness(d, workers)
	f.lookup = hooks
	f.limits = newThrottle(d, hooks, &stepClock{now: t0.Add(2 * time.Second)}, nil, nil, nil)
	got, err := st.(store.FilteredClaimer).ClaimDueFunc(ctx, 1, t0.Add(2*time.Second), workers, f.pass())
	if err != nil {
		t.Fatal(err)
	}
	byHook := map[string]int{}
	for _, del := range got {
		byHook[del.WebhookID]++
	}
	if byHook["other"] != 1 || byHook["limited"] != 1 {
		t.Fatalf("first claim took %v, want the other webhook's delivery and one of the limited one's (its burst)", byHook)
	}
}

// pgDatabases starts a throwaway PostgreSQL for the test and returns a
// function that creates a new database in it, returning its DSN.
func pgDatabases(t *testing.T) func() string {
	t.Helper()
	c, err := pgtest.Start(t.Context(), pgtest.Options{})
	if err != nil {
		t.Fatalf("cannot start a throwaway PostgreSQL: %v", err)
	}
	t.Cleanup(func() { _ = c.Stop() })
	return func() string {
		dsn, err := c.NewDatabase(t.Context())
		if err != nil {
			t.Fatal(err)
		}
		return dsn
	}
}

// openPG opens the store at dsn on clock, closed when the test ends.
func openPG(t *testing.T, dsn string, clock func() time.Time) store.Store {
	t.Helper()
	st, err := postgres.Open(t.Context(), postgres.Options{DSN: dsn, Clock: clock})
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { st.Close() })
	return st
}

// probing is fourWorkers with a's two attempts filling the slow share and
// new webhook b on its probe.
func probing(t *testing.T, now *time.Time) (*fairness, func(*store.Delivery) bool) {
	t.Helper()
	f := fourWorkers(now)
	admit := f.pass().Admit
	if !admit(del("a", 1)) || !admit(del("a", 2)) || !admit(del("b", 1)) {
		t.Fatal("a's two attempts (the slow share) or b's probe refused")
	}
	return f, admit
}

// TestHungProbeFreesItsSlotAtTheThreshold: a probe that runs past
// slow_threshold has shown its webhook slow; from the next pass it counts
// as a slow attempt and its probe slot is free, so a hung new receiver
// holds a probe for the threshold, not for the attempt timeout.
func TestHungProbeFreesItsSlotAtTheThreshold(t *testing.T) {
	now := t0
	f, admit := probing(t, &now)
	if admit(del("e", 1)) {
		t.Fatal("e admitted while b's probe runs")
	}
	now = now.Add(1500 * time.Millisecond) // b's attempt is past the 1 s threshold
	admit = f.pass().Admit
	if !admit(del("e", 1)) {
		t.Fatal("b's hung attempt still holds the probe past the threshold")
	}
	if f.blocked("b", now) != true {
		t.Fatal("b, slow and running, is not blocked")
	}
}

// TestProbeEndsWithItsOwnAttempt: a webhook on probe may also get an
// ordinary attempt once the slow share has room; that attempt ending does
// not end the probe, which is still running and still counts against the
// probe limit until its own attempt ends.
func TestProbeEndsWithItsOwnAttempt(t *testing.T) {
	now := t0
	f, _ := probing(t, &now)
	f.done(del("a", 1), 2*time.Second) // room in the slow share again
	admit := f.pass().Admit
	if !admit(del("b", 2)) {
		t.Fatal("b refused an ordinary attempt with room in the slow share")
	}
	f.done(del("b", 2), time.Millisecond)
	f.mu.Lock()
	probes := f.probes
	f.mu.Unlock()
	if probes != 1 {
		t.Fatalf("%d probes counted while b's probe still runs, want 1", probes)
	}
	f.done(del("b", 1), time.Millisecond)
	f.mu.Lock()
	probes = f.probes
	f.mu.Unlock()
	if probes != 0 {
		t.Fatalf("%d probes counted after b's probe ended, want 0", probes)
	}
}
