package storetest

import (
	"context"
	"errors"
	"slices"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	"github.com/hookgate/hookgate/store"
)

// The optional interfaces. FilteredClaimer is required of every driver
// (the dispatcher's fairness depends on it); Locker and RateBuckets are
// for stores several replicas share, and their tests skip a store
// without them.

// testClaimDueFunc: ClaimDueFunc claims what the filter admits, in due
// order, up to the limit; what it refuses (by Admit, Blocked or
// BlockedCompany) stays queued, in order, and a later claim takes it. It
// never offers a delivery that is not due, of another priority, or
// already claimed. A filter without Admit admits everything.
func testClaimDueFunc(e *env) {
	t, now := e.t, e.now()
	fc, ok := e.s.(store.FilteredClaimer)
	if !ok {
		t.Fatal("the store cannot claim with a filter (store.FilteredClaimer)")
	}
	slow, fast, other := e.webhook(1, "workorder.created"), e.webhook(1, "workorder.created"), e.webhook(2, "workorder.created")
	var queued []store.IngestItem
	for i, w := range []*store.Webhook{slow, slow, fast, slow, fast, other} {
		queued = append(queued, e.item("workorder.created", int64(i+1), 1, now.Add(time.Duration(i-6)*time.Second), w))
	}
	notDue := e.item("workorder.created", 7, 1, now.Add(time.Hour), fast)
	urgent := e.item("workorder.created", 8, 0, now.Add(-time.Minute), fast)
	e.ingest(append(queued, notDue, urgent)...)
	id := func(i int) string { return queued[i].Deliveries[0].ID }

	var offered []string
	claim := func(limit int, f store.ClaimFilter) []string {
		t.Helper()
		ds, err := fc.ClaimDueFunc(e.ctx, 1, now, limit, f)
		if err != nil {
			t.Fatalf("ClaimDueFunc: %v", err)
		}
		for _, d := range ds {
			if d.State != store.DeliveryInFlight {
				t.Fatalf("claimed delivery %s is %s, want in flight", d.ID, d.State)
			}
		}
		return ids(ds)
	}
	offer := func(refuse func(d *store.Delivery) bool) func(d *store.Delivery) bool {
		return func(d *store.Delivery) bool {
			if d.DueAt.After(now) || d.Priority != 1 || slices.Contains(offered, d.ID) {
				t.Errorf("offered %s (due %s, priority %d, offered before %v): not due, of another priority or already claimed",
					d.ID, d.DueAt, d.Priority, slices.Contains(offered, d.ID))
			}
			if refuse(d) {
				return false
			}
			offered = append(offered, d.ID)
			return true
		}
	}
	blocked := store.ClaimFilter{
		Admit:          offer(func(d *store.Delivery) bool { return d.WebhookID == slow.WebhookID || d.CompanyID == 2 }),
		Blocked:        func(webhookID string) bool { return webhookID == slow.WebhookID },
		BlockedCompany: func(companyID int64) bool { return companyID == 2 },
	}
	if got, want := claim(10, blocked), []string{id(2), id(4)}; !slices.Equal(got, want) {
		t.Fatalf("first claim = %v, want the two of the admitted webhook %v", got, want)
	}
	if got := e.depth(); got != [3]int{1, 5, 0} {
		t.Fatalf("QueueDepth after the first claim = %v, want [1 5 0] (refused and not due stay queued)", got)
	}
	if got := claim(10, blocked); len(got) != 0 {
		t.Fatalf("second claim with the same filter = %v, want nothing", got)
	}
	all := store.ClaimFilter{Admit: offer(func(*store.Delivery) bool { return false })}
	if got, want := claim(2, all), []string{id(0), id(1)}; !slices.Equal(got, want) {
		t.Fatalf("claim of 2 admitting all = %v, want the two earliest refused before %v", got, want)
	}
	if got, want := claim(10, store.ClaimFilter{}), []string{id(3), id(5)}; !slices.Equal(got, want) {
		t.Fatalf("claim without Admit = %v, want the rest in due order %v", got, want)
	}
	if got := e.depth(); got != [3]int{1, 1, 0} {
		t.Fatalf("QueueDepth at the end = %v, want [1 1 0] (the urgent one and the one not due)", got)
	}
}

// testLocker: WithLock runs fn and returns its error; it admits one holder
// of a name at a time (across connections of one store as across
// replicas), holders of other names run meanwhile, and a wait ends with
// its context, without running fn.
func testLocker(e *env) {
	t := e.t
	l, ok := e.s.(store.Locker)
	if !ok {
		t.Skip("the store is one process's (no store.Locker)")
	}
	boom := errors.New("boom")
	if err := l.WithLock(e.ctx, "contract", func(context.Context) error { return boom }); !errors.Is(err, boom) {
		t.Fatalf("WithLock returned %v, want fn's error", err)
	}

	OneHolderAtATime(t, []store.Locker{l}, "contract", 4)

	held, release := make(chan struct{}), make(chan struct{})
	holder := make(chan error, 1)
	go func() {
		holder <- l.WithLock(e.ctx, "contract", func(context.Context) error { close(held); <-release; return nil })
	}()
	<-held
	if err := l.WithLock(e.ctx, "contract-other", func(context.Context) error { return nil }); err != nil {
		t.Fatalf("another name while the first is held: %v", err)
	}
	ctx, cancel := context.WithTimeout(e.ctx, 100*time.Millisecond)
	ran := false
	err := l.WithLock(ctx, "contract", func(context.Context) error { ran = true; return nil })
	cancel()
	if err == nil || ran {
		t.Fatalf("waiting for a held lock until the context ended: err %v, fn ran %v; want an error and fn not run", err, ran)
	}
	close(release)
	if err := <-holder; err != nil {
		t.Fatalf("holder: %v", err)
	}
}

// testRateBuckets: a bucket grants its burst, then refuses; it refills at
// the rate by the caller's clock, never above the burst; buckets of other
// keys are apart.
func testRateBuckets(e *env) {
	t, now := e.t, e.now()
	rb, ok := e.s.(store.RateBuckets)
	if !ok {
		t.Skip("the store keeps no shared rate buckets (no store.RateBuckets)")
	}
	take := func(key string, at time.Time) (bool, float64) {
		t.Helper()
		ok, left, err := rb.TakeToken(e.ctx, key, 2, 3, at)
		if err != nil {
			t.Fatalf("TakeToken(%s): %v", key, err)
		}
		return ok, left
	}
	near := func(a, b float64) bool { return a > b-0.01 && a < b+0.01 }
	for i := range 3 {
		if ok, left := take("contract:a", now); !ok || !near(left, float64(2-i)) {
			t.Fatalf("token %d of the burst: granted %v, %v left; want granted, %d left", i+1, ok, left, 2-i)
		}
	}
	if ok, _ := take("contract:a", now); ok {
		t.Fatal("a token past the burst was granted")
	}
	if ok, _ := take("contract:b", now); !ok {
		t.Fatal("another key's bucket was empty")
	}
	if ok, left := take("contract:a", now.Add(750*time.Millisecond)); !ok || !near(left, 0.5) {
		t.Fatalf("after 0.75s at 2/s: granted %v, %v left; want granted, 0.5 left", ok, left)
	}
	if ok, left := take("contract:b", now.Add(time.Hour)); !ok || !near(left, 2) {
		t.Fatalf("after an hour: granted %v, %v left; want granted, burst-1 = 2 left", ok, left)
	}
	// A hold of 10 s: nothing before it ends, a token when it does.
	at := now.Add(2 * time.Hour)
	if err := rb.HoldBucket(e.ctx, "contract:b", 2, at, at.Add(10*time.Second)); err != nil {
		t.Fatalf("HoldBucket: %v", err)
	}
	if ok, _ := take("contract:b", at.Add(9900*time.Millisecond)); ok {
		t.Fatal("a token granted before the hold ended")
	}
	if ok, _ := take("contract:b", at.Add(10*time.Second)); !ok {
		t.Fatal("no token when the hold ended")
	}

	// Holds are listed by prefix until they end, a bucket without a rate
	// (perSecond 0) included; a shorter hold does not cut a longer one.
	hold := func(key string, perSecond float64, now, until time.Time) {
		t.Helper()
		if err := rb.HoldBucket(e.ctx, key, perSecond, now, until); err != nil {
			t.Fatalf("HoldBucket(%s): %v", key, err)
		}
	}
	held := func(prefix string, now time.Time) map[string]time.Time {
		t.Helper()
		m, err := rb.HeldBuckets(e.ctx, prefix, now)
		if err != nil {
			t.Fatalf("HeldBuckets(%s): %v", prefix, err)
		}
		return m
	}
	at = now.Add(3 * time.Hour)
	hold("contract:held:free", 0, at, at.Add(30*time.Second))
	hold("contract:held:free", 0, at.Add(time.Second), at.Add(5*time.Second))
	hold("contract:held:paced", 2, at, at.Add(10*time.Second))
	hold("other:held", 0, at, at.Add(time.Minute))
	got := held("contract:held:", at.Add(time.Second))
	want := map[string]time.Time{"contract:held:free": at.Add(30 * time.Second), "contract:held:paced": at.Add(10 * time.Second)}
	if len(got) != len(want) {
		t.Fatalf("held buckets under contract:held: %v, want %v", got, want)
	}
	for k, until := range want {
		if !got[k].Equal(until) {
			t.Fatalf("%s held until %v, want %v (listed: %v)", k, got[k], until, got)
		}
	}
	if got := held("contract:held:", at.Add(10*time.Second)); len(got) != 1 || !got["contract:held:free"].Equal(at.Add(30*time.Second)) {
		t.Fatalf("at the end of the 10 s hold: %v, want only the 30 s one", got)
	}
	if got := held("contract:held:", at.Add(30*time.Second)); len(got) != 0 {
		t.Fatalf("after every hold ended: %v", got)
	}
	if ok, _ := take("contract:held:paced", at.Add(9*time.Second)); ok {
		t.Fatal("a held bucket with a rate granted a token before its hold ended")
	}
}

// OneHolderAtATime has holders goroutines take the named lock, by turns
// from lockers (replicas, or one store twice), and fails t if two ever
// held it at once.
func OneHolderAtATime(t *testing.T, lockers []store.Locker, name string, holders int) {
	t.Helper()
	var inside, most atomic.Int64
	var wg sync.WaitGroup
	for i := range holders {
		wg.Go(func() {
			err := lockers[i%len(lockers)].WithLock(t.Context(), name, func(context.Context) error {
				n := inside.Add(1)
				for {
					m := most.Load()
					if n <= m || most.CompareAndSwap(m, n) {
						break
					}
				}
				time.Sleep(20 * time.Millisecond)
				inside.Add(-1)
				return nil
			})
			if err != nil {
				t.Error(err)
			}
		})
	}
	wg.Wait()
	if most.Load() != 1 {
		t.Fatalf("%d holders at once, want 1", most.Load())
	}
}
