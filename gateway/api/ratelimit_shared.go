package api

import (
	"context"
	"log/slog"
	"math"
	"sync/atomic"
	"time"

	"github.com/hookgate/hookgate/store"
)

// SharedBuckets returns the token buckets every replica draws from when
// the store keeps them (store.RateBuckets; postgres: one row per client,
// read and written in one statement), else nil. With them a client's
// limit holds across replicas: each request is counted once, whichever
// replica answers it. The tolerance is clock skew: a replica whose clock
// runs s ahead refills a bucket s × rate early (one whose clock lags
// cannot refund tokens). Badger, one node, keeps the buckets in memory
// (RateLimiter.take).
func SharedBuckets(st store.Store) store.RateBuckets {
	b, _ := st.(store.RateBuckets)
	return b
}

// sharedBucketTimeout bounds the database round trip of one decision. Past
// it (or on any error) the replica falls back to its own in-memory bucket:
// the API stays up while the database is slow, at the price of the limit
// being per replica (N replicas: up to N × the limit) until it recovers.
const sharedBucketTimeout = 250 * time.Millisecond

// Decide takes one token for key from the shared buckets sb when there
// are some (not nil), else from this process's buckets.
func (r *RateLimiter) Decide(ctx context.Context, sb store.RateBuckets, log *slog.Logger, key string) RateDecision {
	if sb == nil {
		return r.take(key)
	}
	now := r.clock.Now()
	ctx, cancel := context.WithTimeout(ctx, sharedBucketTimeout)
	defer cancel()
	allowed, tokens, err := sb.TakeToken(ctx, key, float64(r.every), r.burst, now)
	if err != nil {
		if r.fallbackLogged.CompareAndSwap(false, true) {
			log.Warn("shared rate limit unavailable; limiting per replica until the store answers", "err", err)
		}
		return r.take(key)
	}
	r.fallbackLogged.Store(false)
	d := RateDecision{Allowed: allowed, Remaining: max(int(math.Floor(tokens)), 0)}
	d.Reset = now.Add(r.fill(float64(r.burst) - tokens))
	d.RetryAfter = r.fill(1 - tokens)
	return d
}

// fallbackFlag is embedded in RateLimiter: whether the fall-back to
// in-memory buckets has been logged since the store last answered.
type fallbackFlag struct{ fallbackLogged atomic.Bool }
