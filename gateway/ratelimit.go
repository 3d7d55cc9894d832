package gateway

import (
	"github.com/hookgate/hookgate/gateway/api"
	"math"
	"strconv"
	"strings"
	"sync"
	"time"

	"github.com/gofiber/fiber/v2"
	"golang.org/x/time/rate"
)

// Rate-limit answer headers (spec "Rate Limiting").
const (
	HeaderRateLimit     = "X-RateLimit-Limit"
	HeaderRateRemaining = "X-RateLimit-Remaining"
	HeaderRateReset     = "X-RateLimit-Reset"
)

// rateLimiter is a token bucket per client: perMinute requests a minute on
// average, burst at once. Time comes from the gateway's clock, so tests
// move it instead of sleeping. The buckets here are this process's; when
// replicas share a store, decide (ratelimit_shared.go) draws from the
// store's buckets instead and uses these only as a fall-back.
type rateLimiter struct {
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

func newRateLimiter(perMinute, burst int, clock Clock) *rateLimiter {
	return &rateLimiter{
		perMinute: perMinute, burst: burst, clock: clock,
		every:   rate.Limit(float64(perMinute) / 60),
		buckets: map[string]*rate.Limiter{},
	}
}

// rateDecision is the outcome of one request against its bucket.
type rateDecision struct {
	allowed    bool
	remaining  int
	reset      time.Time     // when the bucket is full again
	retryAfter time.Duration // until one more request is allowed; 0 while one is
}

func (r *rateLimiter) take(key string) rateDecision {
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
	d := rateDecision{allowed: lim.AllowN(now, 1)}
	tokens := lim.TokensAt(now)
	d.remaining = max(int(math.Floor(tokens)), 0)
	d.reset = now.Add(r.fill(float64(r.burst) - tokens))
	d.retryAfter = r.fill(1 - tokens)
	return d
}

// fill is how long the bucket takes to gain n tokens.
func (r *rateLimiter) fill(n float64) time.Duration {
	if n <= 0 {
		return 0
	}
	return time.Duration(n / float64(r.every) * float64(time.Second))
}

func (r *rateLimiter) sweep(now time.Time) {
	for k, lim := range r.buckets {
		if lim.TokensAt(now) >= float64(r.burst) {
			delete(r.buckets, k)
		}
	}
}

// rateLimit guards the management API and the token endpoint. Every answer,
// refusals and errors included, carries X-RateLimit-Limit (per minute),
// -Remaining (requests possible right now) and -Reset (unix seconds when
// the bucket is full again); a refusal is the 429 envelope with Retry-After.
func (g *Gateway) rateLimit(c *fiber.Ctx) error {
	r := g.mgmt.limiter
	d := r.decide(c.UserContext(), sharedBuckets(g.store), g.log, g.rateKey(c))
	c.Set(HeaderRateLimit, strconv.Itoa(r.perMinute))
	c.Set(HeaderRateRemaining, strconv.Itoa(d.remaining))
	c.Set(HeaderRateReset, strconv.FormatInt(ceilUnix(d.reset), 10))
	if !d.allowed {
		wait := int64(math.Ceil(d.retryAfter.Seconds()))
		c.Set(fiber.HeaderRetryAfter, strconv.FormatInt(wait, 10))
		return api.Errorf(fiber.StatusTooManyRequests, "Too many requests: the limit is "+strconv.Itoa(r.perMinute)+
			" requests per minute with bursts of "+strconv.Itoa(r.burst)+" per client; retry in "+strconv.FormatInt(wait, 10)+" s")
	}
	return c.Next()
}

// rateKey is the client of a valid bearer token, so every token of one
// client shares a bucket; without one (the token endpoint, a bad token, a
// pre-signed log URL) it is the client's address (clientAddr: the peer, or
// behind a trusted proxy the address it forwarded).
func (g *Gateway) rateKey(c *fiber.Ctx) string {
	if scheme, tok, ok := strings.Cut(c.Get(fiber.HeaderAuthorization), " "); ok && strings.EqualFold(scheme, "Bearer") {
		if cl, err := g.auth.parse(strings.TrimSpace(tok)); err == nil {
			return "client:" + cl.ClientID
		}
	}
	return "ip:" + g.clientAddr(c)
}

func ceilUnix(t time.Time) int64 {
	s := t.Unix()
	if t.Nanosecond() > 0 {
		s++
	}
	return s
}
