package gateway

import (
	"context"
	"log/slog"
	"math"
	"sync/atomic"
	"time"

	"github.com/hookgate/hookgate/store"
)

// sharedBuckets is a store that keeps token buckets every replica draws
// from (postgres: one row per client, read and written in one statement).
// With it a client's limit holds across replicas: each request is counted
// once, whichever replica answers it. The tolerance is clock skew: a
// replica whose clock runs s ahead refills a bucket s × rate early (one
// whose clock lags cannot refund tokens). Badger, one node, keeps the
// buckets in memory (rateLimiter.take).
type sharedBuckets interface {
	TakeToken(ctx context.Context, key string, perSecond float64, burst int, now time.Time) (bool, float64, error)
}

// sharedBucketTimeout bounds the database round trip of one decision. Past
// it (or on any error) the replica falls back to its own in-memory bucket:
// the API stays up while the database is slow, at the price of the limit
// being per replica (N replicas: up to N × the limit) until it recovers.
const sharedBucketTimeout = 250 * time.Millisecond

// bucketsOf returns the shared buckets of st, nil when it has none.
func bucketsOf(st store.Store) sharedBuckets {
	sb, _ := st.(sharedBuckets)
	return sb
}

// decide takes one token for key from the shared buckets sb (bucketsOf the
// gateway's store) when there are some, else from this process's buckets.
func (r *rateLimiter) decide(ctx context.Context, sb sharedBuckets, log *slog.Logger, key string) rateDecision {
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
	d := rateDecision{allowed: allowed, remaining: max(int(math.Floor(tokens)), 0)}
	d.reset = now.Add(r.fill(float64(r.burst) - tokens))
	d.retryAfter = r.fill(1 - tokens)
	return d
}

// fallbackFlag is embedded in rateLimiter: whether the fall-back to
// in-memory buckets has been logged since the store last answered.
type fallbackFlag struct{ fallbackLogged atomic.Bool }
