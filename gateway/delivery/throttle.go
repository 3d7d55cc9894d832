package delivery

import (
	"context"
	"log/slog"
	"sync"
	"time"

	"golang.org/x/time/rate"

	"github.com/hookgate/hookgate/config"
	"github.com/hookgate/hookgate/store"
)

// throttle paces deliveries by the rate limits of their webhooks and sinks
// (rate_limit, rate_burst) and holds a webhook back after its receiver
// answered 429 with Retry-After. It is asked from the claim filter
// (fairness.admit and blocked), so a delivery waiting for its turn is
// never claimed: it stays queued, in due order, with no attempt, no log
// entry and none of its retry budget used, and the store passes over its
// webhook's backlog the way it passes over a webhook at its in-flight
// limit, so it holds back no other webhook.
//
// Each limit is a token bucket (golang.org/x/time/rate) on the gateway's
// clock: a delivery takes one token from its webhook's bucket and one from
// its sink's, or none at all. With several replicas the tokens come from
// buckets in the store (throttle_shared.go).
type throttle struct {
	webhooks     WebhookLookup
	clock        Clock
	defaultBurst int
	maxPause     time.Duration
	sinks        map[string]limitSpec // sink name -> its limit; only limited sinks
	shared       store.RateBuckets    // nil: this process's buckets only
	// holdsEvery is how often the store's holds are read (the claim poll
	// interval): another replica's pause holds here from then on.
	holdsEvery time.Duration
	log        *slog.Logger

	mu      sync.Mutex
	buckets map[string]*bucket // bucketKey -> bucket
	// waiting holds the buckets that refused or granted a delivery since the
	// last claim pass: the claim loop wakes when the first of them has a token.
	waiting map[*bucket]struct{}
	// holdsReadAt is when the store's holds were last read; holdsFailed
	// that the last read failed (logged once).
	holdsReadAt time.Time
	holdsFailed bool
	// spent are the tokens taken since the claim pass began (claiming): a
	// claim that fails hands none of its deliveries out, and gives them
	// back (giveBack) as fairness gives back their slots.
	spent []spentToken
}

// spentToken is one token a claim pass took from b at at: a reservation
// of its limiter, or (r nil) one of the replicas' shared allowance.
type spentToken struct {
	b  *bucket
	r  *rate.Reservation
	at time.Time
}

// limitSpec is a parsed rate limit: perSecond 0 means none.
type limitSpec struct {
	perSecond float64
	burst     int
}

// bucket is one webhook's or sink's limit.
type bucket struct {
	key         string
	spec        limitSpec
	lim         *rate.Limiter // nil without a rate: only pauses apply
	pausedUntil time.Time     // a receiver's 429 Retry-After
	shared      sharedState   // with a shared bucket (throttle_shared.go)
}

func newThrottle(d config.Delivery, webhooks WebhookLookup, clock Clock, sinks map[string]config.RateLimit, shared store.RateBuckets, log *slog.Logger) *throttle {
	t := &throttle{webhooks: webhooks, clock: clock, defaultBurst: max(1, d.RateBurst), maxPause: d.MaxRetryAfter, shared: shared, log: log,
		sinks: map[string]limitSpec{}, buckets: map[string]*bucket{}, waiting: map[*bucket]struct{}{}}
	for name, l := range sinks {
		if spec := t.spec(l.Rate, l.Burst); spec.perSecond > 0 {
			t.sinks[name] = spec
		}
	}
	return t
}

// spec parses a stored limit; one that does not parse (validation refuses
// it; a store written by another version might hold one) is no limit.
func (t *throttle) spec(s string, burst int) limitSpec {
	perSecond, err := config.ParseRate(s)
	if err != nil || perSecond <= 0 {
		return limitSpec{}
	}
	if burst <= 0 {
		burst = t.defaultBurst
	}
	return limitSpec{perSecond: perSecond, burst: burst}
}

// webhookKeyPrefix starts every webhook's bucket key.
const webhookKeyPrefix = "webhook:"

func webhookKey(id string) string { return webhookKeyPrefix + id }
func sinkKey(name string) string  { return "sink:" + name }

// bucketsOf returns the buckets a delivery of the webhook draws from, at
// most two, updating a bucket whose limit changed. t.mu is held.
func (t *throttle) bucketsOf(webhookID string) (hook, sink *bucket) {
	var spec limitSpec
	var w *store.Webhook
	if t.webhooks != nil {
		w = t.webhooks.Get(webhookID)
	}
	if w != nil {
		spec = t.spec(w.RateLimit, w.RateBurst)
	}
	hook = t.bucket(webhookKey(webhookID), spec)
	if w != nil {
		if s, ok := t.sinks[w.Sink]; ok {
			sink = t.bucket(sinkKey(w.Sink), s)
		}
	}
	return hook, sink
}

// bucket returns the bucket under key with spec, creating it full. A
// webhook without a limit gets one only while it is paused. t.mu is held.
func (t *throttle) bucket(key string, spec limitSpec) *bucket {
	b := t.buckets[key]
	if b == nil {
		if spec.perSecond == 0 {
			return nil
		}
		b = &bucket{key: key}
		t.buckets[key] = b
	}
	if b.spec != spec {
		b.spec = spec
		b.shared = sharedState{on: t.shared != nil}
		b.lim = nil
		if spec.perSecond > 0 {
			b.lim = rate.NewLimiter(rate.Limit(spec.perSecond), spec.burst+1) // +1: catchUp
		}
	}
	return b
}

// ready reports whether b (nil: no limit) would grant a token now.
func (b *bucket) ready(now time.Time) bool {
	if b == nil {
		return true
	}
	if now.Before(b.pausedUntil) {
		return false
	}
	if b.lim != nil && b.shared.active() {
		return b.shared.allowance >= 1
	}
	return b.lim == nil || b.lim.TokensAt(now) >= readyTokens
}

// catchUp is how much of one token's interval a late claim may make up.
// A claim comes a little after the token it waited for (timer, scan); with
// a bucket of one, the tokens of that lateness would be lost, and the rate
// would fall short by it (5 % at 20/s on a loaded machine). So the limiter
// holds one token more than the burst, and a delivery goes once it has
// readyTokens: after an idle spell that is still the burst, then the next
// one a fifth of an interval early once, and lateness up to a fifth of an
// interval is made up instead of lost.
const catchUp = 0.2

// readyTokens is how many tokens a bucket needs to grant one (see catchUp).
const readyTokens = 2 - catchUp

// spend takes one token of b, which is ready, and notes it for giveBack.
// t.mu is held.
func (t *throttle) spend(b *bucket, now time.Time) {
	switch {
	case b == nil || b.lim == nil:
	case b.shared.active():
		b.shared.allowance--
		t.spent = append(t.spent, spentToken{b: b, at: now})
	default:
		// A reservation (rather than AllowN) can be cancelled: b is ready,
		// so it is due now.
		t.spent = append(t.spent, spentToken{b: b, r: b.lim.ReserveN(now, 1), at: now})
	}
}

// claiming starts a claim pass: the tokens spent before it are for good.
func (t *throttle) claiming() {
	if t == nil {
		return
	}
	t.mu.Lock()
	t.spent = t.spent[:0]
	t.mu.Unlock()
}

// giveBack returns the tokens the claim pass took: the claim failed and
// handed out none of the deliveries they were for. Kept, every failed
// claim would cost its webhooks their next deliveries' turns.
func (t *throttle) giveBack() {
	if t == nil {
		return
	}
	t.mu.Lock()
	defer t.mu.Unlock()
	for _, s := range t.spent {
		if s.r != nil {
			s.r.CancelAt(s.at)
		} else {
			s.b.shared.allowance++
		}
	}
	t.spent = t.spent[:0]
}

// readyIn is how long until b grants a token.
func (b *bucket) readyIn(now time.Time) time.Duration {
	wait := b.pausedUntil.Sub(now)
	if b.lim != nil && b.shared.active() {
		return max(wait, b.shared.nextAt.Sub(now), 0)
	}
	if b.lim != nil {
		if missing := readyTokens - b.lim.TokensAt(now); missing > 0 {
			wait = max(wait, time.Duration(missing/b.spec.perSecond*float64(time.Second)))
		}
	}
	return max(wait, 0)
}

// blocked reports that a delivery of the webhook would be refused now.
func (t *throttle) blocked(webhookID string) bool { return !t.grant(webhookID, false) }

// take spends a token of each bucket of the webhook, or none and reports
// false when one of them has none now.
func (t *throttle) take(webhookID string) bool { return t.grant(webhookID, true) }

// grant reports whether every bucket of the webhook has a token now, and
// spends one of each when spend is set.
func (t *throttle) grant(webhookID string, spend bool) bool {
	if t == nil {
		return true
	}
	now := t.clock.Now()
	t.mu.Lock()
	defer t.mu.Unlock()
	hook, sink := t.bucketsOf(webhookID)
	if !t.readyNoting(hook, now) || !t.readyNoting(sink, now) {
		return false
	}
	if spend {
		t.spend(hook, now)
		t.spend(sink, now)
		// Its webhook likely has more due: the claim loop wakes for the next
		// token too, as no refusal may come to note it (a store may skip a
		// queue it knows holds nothing it could claim yet).
		t.note(hook)
		t.note(sink)
	}
	return true
}

// note has the claim loop wake when b (nil: none) has its next token. t.mu
// is held.
func (t *throttle) note(b *bucket) {
	if b != nil && b.lim != nil {
		t.waiting[b] = struct{}{}
	}
}

// readyNoting is b.ready, remembering a refusing bucket for wait. t.mu is
// held.
func (t *throttle) readyNoting(b *bucket, now time.Time) bool {
	if b.ready(now) {
		return true
	}
	t.waiting[b] = struct{}{}
	b.shared.want++
	return false
}

// wait returns how long until the first bucket that refused or granted a
// delivery since the last call grants a token (ok false: none refused), and
// forgets them: the next claim pass notes again the ones still short.
func (t *throttle) wait() (time.Duration, bool) {
	if t == nil {
		return 0, false
	}
	now := t.clock.Now()
	t.mu.Lock()
	defer t.mu.Unlock()
	first, ok := time.Duration(0), false
	for b := range t.waiting {
		if in := b.readyIn(now); !ok || in < first {
			first, ok = in, true
		}
	}
	clear(t.waiting)
	return first, ok
}

// pause holds every delivery of the webhook back for retryAfter (capped by
// delivery.max_retry_after): its receiver answered 429 and said when to
// come back, which is about the endpoint, not the one delivery. On a
// shared store the webhook is held on every replica, with or without a
// rate limit: its bucket in the store is held until then (emptied, with a
// limit), and the other replicas read the hold before their claims
// (readHolds).
func (t *throttle) pause(ctx context.Context, webhookID string, retryAfter time.Duration) {
	if t == nil || retryAfter <= 0 {
		return
	}
	now := t.clock.Now()
	until := now.Add(min(retryAfter, t.maxPause))
	t.mu.Lock()
	hook := t.hold(webhookID, until)
	perSecond := hook.spec.perSecond
	t.mu.Unlock()
	if t.shared != nil {
		t.holdShared(ctx, hook.key, perSecond, now, until)
	}
}

// hold pauses the webhook's bucket until until (a longer pause stays),
// creating it for a webhook without a limit, and returns it. t.mu is held.
func (t *throttle) hold(webhookID string, until time.Time) *bucket {
	hook, _ := t.bucketsOf(webhookID)
	if hook == nil {
		hook = &bucket{key: webhookKey(webhookID)}
		t.buckets[hook.key] = hook
	}
	if !until.After(hook.pausedUntil) {
		return hook
	}
	hook.pausedUntil = until
	if hook.lim != nil && hook.shared.on {
		// Tokens taken before the pause are not spent after it: the store's
		// bucket grants the next one when the pause ends.
		hook.shared.allowance, hook.shared.nextAt = 0, until
	}
	return hook
}

// minPoll keeps a claim loop waiting for a token from spinning when the
// token is due in less than a scheduler tick.
const minPoll = time.Millisecond

// nextPoll is how long the claim loop may wait for nothing to happen: the
// poll interval, or less when a rate-limited delivery was refused and its
// bucket grants a token sooner (nothing else wakes the loop then).
func (d *Dispatcher) nextPoll() time.Duration {
	if in, ok := d.fair.limits.wait(); ok {
		return min(d.poll, max(in, minPoll))
	}
	return d.poll
}
