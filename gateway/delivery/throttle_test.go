package delivery

import (
	"context"
	"fmt"
	"math"
	"math/rand/v2"
	"os"
	"slices"
	"strconv"
	"sync"
	"testing"
	"time"

	"github.com/google/uuid"

	"github.com/hookgate/hookgate/config"
	"github.com/hookgate/hookgate/plugins/sdk"
	"github.com/hookgate/hookgate/store"
	"github.com/hookgate/hookgate/store/badger"
	"github.com/hookgate/hookgate/transforms"
)

// stepClock is a Clock that only moves when told to.
type stepClock struct {
	mu  sync.Mutex
	now time.Time
}

func (c *stepClock) Now() time.Time { c.mu.Lock(); defer c.mu.Unlock(); return c.now }
func (c *stepClock) add(d time.Duration) {
	c.mu.Lock()
	c.now = c.now.Add(d)
	c.mu.Unlock()
}

// hookMap is a WebhookLookup over fixed webhooks.
type hookMap map[string]*store.Webhook

func (m hookMap) Get(id string) *store.Webhook { return m[id] }

// countingSink answers every request with answer(webhook id) and counts
// the requests per webhook, with the gateway clock's time of each.
type countingSink struct {
	clock  Clock
	answer func(webhookID string) *sdk.Result
	mu     sync.Mutex
	sent   map[string][]time.Time
}

func (s *countingSink) Deliver(_ context.Context, _ string, req *sdk.Request) (*sdk.Result, error) {
	id := req.Headers[HeaderWebhookID]
	s.mu.Lock()
	s.sent[id] = append(s.sent[id], s.clock.Now())
	s.mu.Unlock()
	if s.answer != nil {
		return s.answer(id), nil
	}
	return &sdk.Result{Status: 200}, nil
}

func (s *countingSink) count(id string) int {
	s.mu.Lock()
	defer s.mu.Unlock()
	return len(s.sent[id])
}

// throttleRig is a real dispatcher (workers, recorder, fairness, throttle)
// on a Badger store, whose claims the test drives step by step on an
// injected clock: no real sleeping decides anything.
type throttleRig struct {
	t     testing.TB
	st    store.Store
	clock *stepClock
	sink  *countingSink
	hooks hookMap
	d     *Dispatcher
	ctx   context.Context
}

func newThrottleRig(t testing.TB, cfg config.Delivery, hooks hookMap, sinkLimits map[string]config.RateLimit) *throttleRig {
	t.Helper()
	st, clock := rigStore(t)
	return throttleRigOn(t, st, clock, cfg, hooks, sinkLimits)
}

// rigStore opens a Badger store in a temp folder on a step clock.
func rigStore(t testing.TB) (*badger.Store, *stepClock) {
	t.Helper()
	clock := &stepClock{now: t0}
	st, err := badger.Open(badger.Options{Path: t.TempDir(), Clock: clock.Now})
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { st.Close() })
	return st, clock
}

// throttleRigOn is a rig on st and clock: replicas share both.
func throttleRigOn(t testing.TB, st store.Store, clock *stepClock, cfg config.Delivery, hooks hookMap, sinkLimits map[string]config.RateLimit) *throttleRig {
	t.Helper()
	tr, err := transforms.New(transforms.Options{})
	if err != nil {
		t.Fatal(err)
	}
	r := &throttleRig{t: t, st: st, clock: clock, hooks: hooks, ctx: context.Background(),
		sink: &countingSink{clock: clock, sent: map[string][]time.Time{}}}
	r.d = New(Options{Delivery: cfg, Queue: st, Webhooks: hooks, Sinks: r.sink, Transformer: tr,
		Events: NewEventCache(1 << 20), Clock: clock, SinkLimits: sinkLimits})
	workCtx, cancel := context.WithCancel(context.Background())
	for range r.d.workers {
		r.d.workerWG.Add(1)
		go r.d.worker(workCtx)
	}
	go r.d.recordLoop(workCtx)
	t.Cleanup(func() {
		close(r.d.work)
		r.d.workerWG.Wait()
		close(r.d.outcomes)
		<-r.d.recDone
		cancel()
	})
	return r
}

// publish queues n deliveries of one event each to the webhook, due now.
func (r *throttleRig) publish(hook string, n int) {
	w := r.hooks[hook]
	for range n {
		ev := &store.Event{ID: uuid.NewString(), TraceID: uuid.NewString(), Name: "workorder.created", CompanyID: w.CompanyID,
			Payload: []byte(`{"event":{"name":"workorder.created"}}`), ReceivedAt: r.clock.Now()}
		del := &store.Delivery{ID: uuid.NewString(), EventID: ev.ID, WebhookID: hook, CompanyID: w.CompanyID,
			EventName: ev.Name, Priority: 1, DueAt: r.clock.Now()}
		if _, err := r.st.Ingest(r.ctx, nil, []store.IngestItem{{Event: ev, Deliveries: []*store.Delivery{del}}}); err != nil {
			r.t.Fatal(err)
		}
	}
}

// step moves the clock, claims once and waits (bounded) until every
// claimed delivery is sent and recorded.
func (r *throttleRig) step(d time.Duration) {
	r.clock.add(d)
	r.claim()
}

// waitSent waits (bounded) until every claimed delivery is sent, recorded
// or not.
func (r *throttleRig) waitSent() {
	deadline := time.Now().Add(10 * time.Second)
	for r.d.sending.Load() > 0 {
		if time.Now().After(deadline) {
			r.t.Fatal("claimed deliveries not sent within 10s")
		}
		time.Sleep(50 * time.Microsecond) // waits for the workers, not for the clock
	}
}

// claim claims once and waits (bounded) until every claimed delivery is
// sent and recorded.
func (r *throttleRig) claim() {
	r.d.ClaimOnce(r.ctx)
	deadline := time.Now().Add(10 * time.Second)
	for r.d.InFlight() > 0 {
		if time.Now().After(deadline) {
			r.t.Fatal("claimed deliveries not recorded within 10s")
		}
		time.Sleep(50 * time.Microsecond) // waits for the workers, not for the clock
	}
}

// attemptsOf lists the webhook's attempt records.
func (r *throttleRig) attemptsOf(hook string) []*store.Attempt {
	as, _, err := r.st.ListAttempts(r.ctx, store.AttemptFilter{WebhookID: hook, Limit: 100000})
	if err != nil {
		r.t.Fatal(err)
	}
	return as
}

func rigConfig() config.Delivery {
	cfg := config.Defaults().Delivery
	cfg.Workers = 8
	cfg.SlowThreshold = 0 // the wall-clock slow class is not what these tests measure
	return cfg
}

func hook(id, limit string, burst int) *store.Webhook {
	return &store.Webhook{WebhookID: id, CompanyID: 1, URL: "https://example.com/" + id, Method: "post",
		Status: store.StatusActive, Sink: config.BuiltinSink, RateLimit: limit, RateBurst: burst, Secret: uuid.NewString()}
}

// TestRateLimitPacesAndWaitingIsNoAttempt: a webhook limited to 20/s with
// a burst of 5 and 400 due deliveries sends 5 at once, then 20 a second
// by the injected clock; the deliveries waiting for their turn have no
// attempt, no log entry and no failure; a webhook without a limit beside
// it is not held back (its 100 deliveries go in the first steps).
func TestRateLimitPacesAndWaitingIsNoAttempt(t *testing.T) {
	r := newThrottleRig(t, rigConfig(), hookMap{"slow": hook("slow", "20/s", 5), "free": hook("free", "", 0)}, nil)
	r.publish("slow", 400)
	r.publish("free", 100)
	for range 20 {
		r.step(0)
	}
	if got := r.sink.count("free"); got != 100 {
		t.Fatalf("unlimited webhook sent %d of 100 in the first 20 claims: held back by a rate-limited one", got)
	}
	if got := r.sink.count("slow"); got != 5 {
		t.Fatalf("limited webhook sent %d at once, want its burst 5", got)
	}
	for range 1000 { // 10 s in 10 ms steps
		r.step(10 * time.Millisecond)
	}
	if got, want := r.sink.count("slow"), 5+20*10; got != want {
		t.Fatalf("limited webhook sent %d in 10 s, want %d (burst 5 + 20/s)", got, want)
	}
	as := r.attemptsOf("slow")
	if len(as) != 5+200 {
		t.Fatalf("%d attempt records, want one per send (205): waiting made records", len(as))
	}
	for _, a := range as {
		if a.Outcome != store.OutcomeSuccess || a.Attempt != 1 {
			t.Fatalf("attempt %s:%d is %s: waiting for a turn must not fail or count an attempt", a.DeliveryID, a.Attempt, a.Outcome)
		}
	}
	ds, err := r.st.ListDeliveries(r.ctx, "slow", store.DeliveryPending, time.Time{}, time.Time{})
	if err != nil {
		t.Fatal(err)
	}
	for _, d := range ds {
		if d.Attempts != 0 {
			t.Fatalf("a waiting delivery has %d attempts, want 0", d.Attempts)
		}
	}
	if len(ds) != 400-205 {
		t.Fatalf("%d deliveries still queued, want %d", len(ds), 400-205)
	}
}

// TestSinkRateLimitSpansWebhooks: two webhooks on one sink limited to
// 10/s share its bucket; each webhook's own limit still holds.
func TestSinkRateLimitSpansWebhooks(t *testing.T) {
	a, b := hook("a", "", 0), hook("b", "2/s", 0)
	a.Sink, b.Sink = "snow", "snow"
	r := newThrottleRig(t, rigConfig(), hookMap{"a": a, "b": b}, map[string]config.RateLimit{"snow": {Rate: "600/m", Burst: 1}})
	r.publish("a", 200)
	r.publish("b", 200)
	for range 500 { // 5 s
		r.step(10 * time.Millisecond)
	}
	na, nb := r.sink.count("a"), r.sink.count("b")
	// Within one token: the bucket's arithmetic is in floating point.
	if n := na + nb; n < 50 || n > 51 {
		t.Fatalf("sink sent %d+%d in 5 s, want 51 (burst 1 + 10/s across both webhooks)", na, nb)
	}
	if nb > 1+2*5 {
		t.Fatalf("webhook b sent %d, over its own 2/s", nb)
	}
}

// TestMaxInFlightPerWebhookOverride: a webhook's max_in_flight replaces
// delivery.max_in_flight_per_webhook, below it and above it.
func TestMaxInFlightPerWebhookOverride(t *testing.T) {
	cfg := config.Delivery{MaxInFlightPerWebhook: 2}
	f := newFairness(cfg, 8)
	one, four := hook("one", "", 0), hook("four", "", 0)
	one.MaxInFlight, four.MaxInFlight = 1, 4
	f.lookup = hookMap{"one": one, "four": four, "plain": hook("plain", "", 0)}
	admit := f.pass().Admit
	count := func(id string) int {
		n := 0
		for i := range 8 {
			if admit(&store.Delivery{ID: fmt.Sprint(id, i), WebhookID: id, CompanyID: 1}) {
				n++
			}
		}
		return n
	}
	if got := count("one"); got != 1 {
		t.Fatalf("max_in_flight 1: %d admitted", got)
	}
	if got := count("four"); got != 4 {
		t.Fatalf("max_in_flight 4 over the default 2: %d admitted", got)
	}
	if got := count("plain"); got != 2 {
		t.Fatalf("no max_in_flight: %d admitted, want the default 2", got)
	}
}

// TestReceiver429PausesTheWebhook: a 429 with Retry-After 30s pauses
// every delivery of the webhook for 30 s (not only the one retried),
// capped by delivery.max_retry_after; another webhook goes on.
func TestReceiver429PausesTheWebhook(t *testing.T) {
	cfg := rigConfig()
	cfg.MaxInFlightPerWebhook = 1
	r := newThrottleRig(t, cfg, hookMap{"busy": hook("busy", "", 0), "other": hook("other", "", 0)}, nil)
	limited := true
	r.sink.answer = func(id string) *sdk.Result {
		if id == "busy" && limited {
			return &sdk.Result{Status: 429, Retryable: true, RetryAfter: 30 * time.Second}
		}
		return &sdk.Result{Status: 200}
	}
	r.publish("busy", 10)
	r.publish("other", 10)
	r.step(0)
	limited = false
	for range 29 {
		r.step(time.Second)
	}
	if got := r.sink.count("busy"); got != 1 {
		t.Fatalf("webhook answered 429 Retry-After 30s sent %d within 29 s, want 1: the pause is the webhook's", got)
	}
	if got := r.sink.count("other"); got != 10 {
		t.Fatalf("other webhook sent %d of 10 during the pause", got)
	}
	r.step(2 * time.Second)
	if got := r.sink.count("busy"); got < 2 {
		t.Fatalf("webhook still paused after Retry-After: %d sent", got)
	}

	// Capped by max_retry_after.
	cfg.MaxRetryAfter = 5 * time.Second
	th := newThrottle(cfg, hookMap{}, r.clock, nil, nil, nil)
	th.pause(context.Background(), "x", time.Hour)
	if !th.blocked("x") {
		t.Fatal("not paused after a 429")
	}
	if in, _ := th.wait(); in != 5*time.Second {
		t.Fatalf("pause of %v, want max_retry_after 5s", in)
	}
}

// TestRateLimitHoldsAcrossReplicas: two dispatchers on one PostgreSQL
// store (two replicas) deliver a webhook limited to 10/s; together they
// send 10 a second by the injected clock, not 10 each, and neither makes
// a failed attempt while waiting.
func TestRateLimitHoldsAcrossReplicas(t *testing.T) {
	dsn := pgDatabases(t)()
	clock := &stepClock{now: t0}
	hooks := hookMap{"paced": hook("paced", "10/s", 2)}
	a := throttleRigOn(t, openPG(t, dsn, clock.Now), clock, rigConfig(), hooks, nil)
	b := throttleRigOn(t, openPG(t, dsn, clock.Now), clock, rigConfig(), hooks, nil)
	a.publish("paced", 200)
	order := rand.New(rand.NewPCG(1, 2)) // which replica claims first: fixed, but not in step with the tokens
	for range 200 {                      // 5 s in 25 ms steps
		clock.add(25 * time.Millisecond)
		first, second := a, b
		if order.IntN(2) == 1 {
			first, second = b, a
		}
		first.claim()
		second.claim()
	}
	na, nb := a.sink.count("paced"), b.sink.count("paced")
	if n := na + nb; n < 2+10*5-1 || n > 2+10*5+2 {
		t.Fatalf("replicas sent %d+%d in 5 s, want 52 (burst 2 + 10/s shared), within a token of each replica's allowance", na, nb)
	}
	if na == 0 || nb == 0 {
		t.Errorf("replicas sent %d and %d: both should take turns", na, nb)
	}
	for _, at := range a.attemptsOf("paced") {
		if at.Outcome != store.OutcomeSuccess || at.Attempt != 1 {
			t.Fatalf("attempt %s:%d is %s: waiting must not fail or count an attempt", at.DeliveryID, at.Attempt, at.Outcome)
		}
	}
}

// TestReceiver429PausesEveryReplica: on a shared store, a 429 with
// Retry-After 3s that one replica got pauses the webhook on the other
// replica too, then both go on: with a rate limit (its shared bucket is
// held) and without one (no bucket the replicas take tokens from: the
// other replica reads the store's hold before its next claim). The
// subtests share one throwaway PostgreSQL, a database each.
func TestReceiver429PausesEveryReplica(t *testing.T) {
	newDB := pgDatabases(t)
	limitedDSN, freeDSN := newDB(), newDB()
	t.Run("rate limited", func(t *testing.T) { test429PausesEveryReplicaLimited(t, limitedDSN) })
	t.Run("no rate limit", func(t *testing.T) { test429PausesEveryReplicaUnlimited(t, freeDSN) })
}

// heldReads is a store's buckets that only answer HeldBuckets, counting
// the reads.
type heldReads struct {
	store.RateBuckets
	held  map[string]time.Time
	reads int
}

func (h *heldReads) HeldBuckets(context.Context, string, time.Time) (map[string]time.Time, error) {
	h.reads++
	return h.held, nil
}

// TestHoldsAreReadOncePerPoll: the store's holds are read before a claim
// pass at most once per poll interval of the gateway's clock, however
// many passes there are, and a hold read pauses its webhook here until
// it ends.
func TestHoldsAreReadOncePerPoll(t *testing.T) {
	clock := &stepClock{now: t0}
	shared := &heldReads{held: map[string]time.Time{"delivery:webhook:w": t0.Add(time.Second)}}
	th := newThrottle(rigConfig(), hookMap{"w": hook("w", "", 0)}, clock, nil, shared, nil)
	th.holdsEvery = 100 * time.Millisecond
	for range 5 {
		th.refill(context.Background(), 8)
		clock.add(10 * time.Millisecond)
	}
	if shared.reads != 1 {
		t.Fatalf("%d reads of the holds in 5 claim passes within 50 ms, want 1", shared.reads)
	}
	if !th.blocked("w") {
		t.Fatal("a webhook another replica paused is not held here")
	}
	clock.add(50 * time.Millisecond)
	th.refill(context.Background(), 8)
	if shared.reads != 2 {
		t.Fatalf("%d reads after a poll interval, want 2", shared.reads)
	}
	clock.add(time.Second)
	if th.blocked("w") {
		t.Fatal("still held after the pause ended")
	}
}

// answer429Once has the rig's receiver answer its first request 429 with
// Retry-After 3s and the rest 200.
func answer429Once(r *throttleRig) {
	var limited sync.Once
	r.sink.answer = func(string) *sdk.Result {
		res := &sdk.Result{Status: 200}
		limited.Do(func() { res = &sdk.Result{Status: 429, Retryable: true, RetryAfter: 3 * time.Second} })
		return res
	}
}

// claimBoth moves the clock by step n times, claiming on b then a each time.
func claimBoth(clock *stepClock, a, b *throttleRig, n int, step time.Duration) {
	for range n {
		clock.add(step)
		b.claim()
		a.claim()
	}
}

func test429PausesEveryReplicaLimited(t *testing.T, dsn string) {
	clock := &stepClock{now: t0}
	hooks := hookMap{"paced": hook("paced", "10/s", 1)}
	a := throttleRigOn(t, openPG(t, dsn, clock.Now), clock, rigConfig(), hooks, nil)
	b := throttleRigOn(t, openPG(t, dsn, clock.Now), clock, rigConfig(), hooks, nil)
	answer429Once(a)
	a.publish("paced", 100)
	a.step(0) // refused: the first pass asks the store for tokens
	a.step(0) // the token: sent, answered 429
	if a.sink.count("paced") != 1 {
		t.Fatalf("replica a sent %d, want the one answered 429", a.sink.count("paced"))
	}
	claimBoth(clock, a, b, 29, 100*time.Millisecond) // 2.9 s
	if na, nb := a.sink.count("paced"), b.sink.count("paced"); na != 1 || nb != 0 {
		t.Fatalf("during the 3 s pause replica a sent %d more and replica b %d: the pause is the webhook's on every replica", na-1, nb)
	}
	claimBoth(clock, a, b, 10, 100*time.Millisecond) // 1 s after the pause: 10/s again
	if n := a.sink.count("paced") + b.sink.count("paced") - 1; n < 8 {
		t.Fatalf("%d sent in the second after the pause, want about 10", n)
	}
}

func test429PausesEveryReplicaUnlimited(t *testing.T, dsn string) {
	clock := &stepClock{now: t0}
	hooks := hookMap{"free": hook("free", "", 0)}
	cfg := rigConfig()
	cfg.MaxInFlightPerWebhook = 1 // one send a claim: the 429 comes before any other
	a := throttleRigOn(t, openPG(t, dsn, clock.Now), clock, cfg, hooks, nil)
	b := throttleRigOn(t, openPG(t, dsn, clock.Now), clock, cfg, hooks, nil)
	answer429Once(a)
	a.publish("free", 40)
	a.claim()
	if a.sink.count("free") != 1 {
		t.Fatalf("replica a sent %d, want the one answered 429", a.sink.count("free"))
	}
	claimBoth(clock, a, b, 29, 100*time.Millisecond) // 2.9 s, a poll interval (100 ms) at a time
	if na, nb := a.sink.count("free"), b.sink.count("free"); na != 1 || nb != 0 {
		t.Fatalf("during the 3 s pause replica a sent %d more and replica b %d: the pause is the webhook's on every replica", na-1, nb)
	}
	claimBoth(clock, a, b, 2, 100*time.Millisecond)
	if n := a.sink.count("free") + b.sink.count("free") - 1; n < 2 {
		t.Fatalf("%d sent in the 0.2 s after the pause, want the webhook going on", n)
	}
}

// BenchmarkRateLimit20PerSecond: one webhook limited to 20/s (burst 1)
// with a backlog of 2,000 deliveries, driven for 60 s of injected time in
// 5 ms steps through the real dispatcher, fairness, throttle and Badger
// store, and a webhook without a limit beside it. Reports the achieved
// rate, its error from 20/s and the failed attempts (want 0).
func BenchmarkRateLimit20PerSecond(b *testing.B) {
	for range b.N {
		r := newThrottleRig(b, rigConfig(), hookMap{"limited": hook("limited", "20/s", 1), "free": hook("free", "", 0)}, nil)
		r.publish("limited", 2000)
		r.publish("free", 200)
		for range 60 * 200 {
			r.step(5 * time.Millisecond)
		}
		sent := r.sink.count("limited")
		failed := 0
		for _, a := range r.attemptsOf("limited") {
			if a.Outcome != store.OutcomeSuccess {
				failed++
			}
		}
		rate := float64(sent) / 60
		b.ReportMetric(rate, "sends/s")
		b.ReportMetric(100*math.Abs(rate-20)/20, "%off")
		b.ReportMetric(float64(failed), "failed")
		b.ReportMetric(float64(sent), "sends")
		if r.sink.count("free") != 200 {
			b.Fatalf("unlimited webhook sent %d of 200", r.sink.count("free"))
		}
	}
}

// BenchmarkRateLimitRealTime is BenchmarkRateLimit20PerSecond on the wall
// clock with the dispatcher's own claim loop (which wakes when a waiting
// bucket's next token is due): HOOKGATE_BENCH_SECONDS (default 10) of real
// time. It reports the rate between the first and the last send (the
// burst left out) and the failed attempts.
func BenchmarkRateLimitRealTime(b *testing.B) {
	secs := 10
	if v, err := strconv.Atoi(os.Getenv("HOOKGATE_BENCH_SECONDS")); err == nil && v > 0 {
		secs = v
	}
	for range b.N {
		st, err := badger.Open(badger.Options{Path: b.TempDir()})
		if err != nil {
			b.Fatal(err)
		}
		tr, _ := transforms.New(transforms.Options{})
		sink := &countingSink{clock: wallClock{}, sent: map[string][]time.Time{}}
		hooks := hookMap{"limited": hook("limited", "20/s", 1)}
		d := New(Options{Delivery: rigConfig(), Queue: st, Webhooks: hooks, Sinks: sink, Transformer: tr,
			Events: NewEventCache(1 << 20), Poll: 100 * time.Millisecond})
		r := &throttleRig{t: b, st: st, clock: &stepClock{now: time.Now()}, hooks: hooks, ctx: context.Background(), sink: sink, d: d}
		r.publish("limited", 40*secs)
		d.Start()
		time.Sleep(time.Duration(secs) * time.Second) // the measurement is of real time
		ctx, cancel := context.WithTimeout(context.Background(), 10*time.Second)
		d.Stop(ctx)
		cancel()
		sent := sink.sent["limited"]
		failed := 0
		for _, a := range r.attemptsOf("limited") {
			if a.Outcome != store.OutcomeSuccess {
				failed++
			}
		}
		st.Close()
		if len(sent) < 3 {
			b.Fatalf("%d sends", len(sent))
		}
		rate := float64(len(sent)-2) / sent[len(sent)-1].Sub(sent[1]).Seconds() // from the first paced send
		b.ReportMetric(rate, "sends/s")
		b.ReportMetric(100*math.Abs(rate-20)/20, "%off")
		b.ReportMetric(float64(failed), "failed")
		gaps := make([]float64, 0, len(sent))
		for i := 2; i < len(sent); i++ {
			gaps = append(gaps, float64(sent[i].Sub(sent[i-1]).Microseconds())/1000)
		}
		slices.Sort(gaps)
		b.ReportMetric(gaps[len(gaps)/2], "p50-gap-ms")
		b.ReportMetric(gaps[len(gaps)*99/100], "p99-gap-ms")
	}
}
