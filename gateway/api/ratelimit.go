package api

import (
	"log/slog"
	"math"
	"strconv"
	"sync"
	"time"

	"github.com/gofiber/fiber/v2"
	"golang.org/x/time/rate"

	"github.com/hookgate/hookgate/store"
)

// Rate-limit answer headers (spec "Rate Limiting").
const (
	HeaderRateLimit     = "X-RateLimit-Limit"
	HeaderRateRemaining = "X-RateLimit-Remaining"
	HeaderRateReset     = "X-RateLimit-Reset"
)

// RateLimiter is a token bucket per client: perMinute requests a minute on
// average, burst at once. Time comes from the gateway's clock, so tests
// move it instead of sleeping. The buckets here are this process's; when
// replicas share a store, Decide (ratelimit_shared.go) draws from the
// store's buckets instead and uses these only as a fall-back.
type RateLimiter struct {
	perMinute int
	burst     int
	every     rate.Limit
	clock     Clock

	mu      sync.Mutex
	buckets map[string]*rate.Limiter
	fallbackFlag
}

// sweepAt is how many buckets may exist before full (idle) ones are
// dropped: a full bucket is the same as a new one, so dropping it changes
// nothing for its client and bounds memory against many addresses.
const sweepAt = 10000

// NewRateLimiter is a limiter of perMinute requests a minute per key, burst
// at once, timed by clock.
func NewRateLimiter(perMinute, burst int, clock Clock) *RateLimiter {
	return &RateLimiter{
		perMinute: perMinute, burst: burst, clock: clock,
		every:   rate.Limit(float64(perMinute) / 60),
		buckets: map[string]*rate.Limiter{},
	}
}

// PerMinute is the limit a minute, as the refusals word it.
func (r *RateLimiter) PerMinute() int { return r.perMinute }

// RateDecision is the outcome of one request against its bucket.
type RateDecision struct {
	Allowed    bool
	Remaining  int
	Reset      time.Time     // when the bucket is full again
	RetryAfter time.Duration // until one more request is allowed; 0 while one is
}

func (r *RateLimiter) take(key string) RateDecision {
	now := r.clock.Now()
	r.mu.Lock()
	defer r.mu.Unlock()
	lim := r.buckets[key]
	if lim == nil {
		if len(r.buckets) >= sweepAt {
			r.sweep(now)
		}
		lim = rate.NewLimiter(r.every, r.burst)
		r.buckets[key] = lim
	}
	d := RateDecision{Allowed: lim.AllowN(now, 1)}
	tokens := lim.TokensAt(now)
	d.Remaining = max(int(math.Floor(tokens)), 0)
	d.Reset = now.Add(r.fill(float64(r.burst) - tokens))
	d.RetryAfter = r.fill(1 - tokens)
	return d
}

// fill is how long the bucket takes to gain n tokens.
func (r *RateLimiter) fill(n float64) time.Duration {
	if n <= 0 {
		return 0
	}
	return time.Duration(n / float64(r.every) * float64(time.Second))
}

func (r *RateLimiter) sweep(now time.Time) {
	for k, lim := range r.buckets {
		if lim.TokensAt(now) >= float64(r.burst) {
			delete(r.buckets, k)
		}
	}
}

// Limit is the body of the rate-limit middleware that guards the
// management API and the token endpoint: one token for key (from the
// shared buckets sb when there are some). Every answer, refusals and
// errors included, carries X-RateLimit-Limit (per minute), -Remaining
// (requests possible right now) and -Reset (unix seconds when the bucket
// is full again); a refusal is the 429 envelope with Retry-After.
func (r *RateLimiter) Limit(c *fiber.Ctx, sb store.RateBuckets, log *slog.Logger, key string) error {
	d := r.Decide(c.UserContext(), sb, log, key)
	c.Set(HeaderRateLimit, strconv.Itoa(r.perMinute))
	c.Set(HeaderRateRemaining, strconv.Itoa(d.Remaining))
	c.Set(HeaderRateReset, strconv.FormatInt(ceilUnix(d.Reset), 10))
	if !d.Allowed {
		wait := int64(math.Ceil(d.RetryAfter.Seconds()))
		c.Set(fiber.HeaderRetryAfter, strconv.FormatInt(wait, 10))
		return Errorf(fiber.StatusTooManyRequests, "Too many requests: the limit is "+strconv.Itoa(r.perMinute)+
			" requests per minute with bursts of "+strconv.Itoa(r.burst)+" per client; retry in "+strconv.FormatInt(wait, 10)+" s")
	}
	return c.Next()
}

func ceilUnix(t time.Time) int64 {
	s := t.Unix()
	if t.Nanosecond() > 0 {
		s++
	}
	return s
}
