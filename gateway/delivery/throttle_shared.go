package delivery

import (
	"context"
	"strings"
	"time"
)

// With several replicas on one PostgreSQL store, a rate limit must hold
// for all of them together: each bucket is then a row of the store's
// buckets (store.RateBuckets, the ones the API's limits use), and a
// replica spends tokens it took from that row beforehand. The claim filter
// may not call the store (it runs under the store's claim lock), so the
// tokens are taken before each claim pass (refill), for the buckets that
// refused a delivery for want of one: a delivery then waits at most until
// the next pass after its token is due, which the claim loop schedules
// (nextPoll). A replica holds at most the bucket's burst of tokens taken
// and not yet spent, so the limit holds across replicas within that.
//
// A receiver's 429 pauses its webhook on every replica, with or without a
// rate limit: the replica that got it holds the webhook's bucket in the
// store (HoldBucket), and each replica reads the store's holds before a
// claim pass, at most once per poll interval (readHolds), so the others
// hold the webhook from their next poll on until the Retry-After ends.

// sharedBucketTimeout bounds one round trip to the store's buckets. Past
// it, or on any error, the bucket falls back to this process's limiter
// (the limit is then per replica) until the store answers again: claims
// go on while the database is slow, as the API's limits do.
const sharedBucketTimeout = 250 * time.Millisecond

// sharedKeyPrefix keeps delivery buckets apart from the API's in the
// store's one table of buckets.
const sharedKeyPrefix = "delivery:"

// sharedState is a bucket's side of the store's bucket.
type sharedState struct {
	on        bool      // the store keeps the bucket
	fallback  bool      // the store failed: the local limiter decides
	allowance int       // tokens taken from the store, not spent yet
	nextAt    time.Time // the store's bucket has no token before this
	want      int       // deliveries refused for want of a token since the last refill
}

// active reports that the store's bucket decides.
func (s *sharedState) active() bool { return s.on && !s.fallback }

// refill takes tokens from the store's buckets for the buckets that ran
// out and refused deliveries since the last claim pass, at most free (the
// idle workers) or the bucket's burst each, whichever is fewer.
func (t *throttle) refill(ctx context.Context, free int) {
	if t == nil || t.shared == nil || free <= 0 {
		return
	}
	now := t.clock.Now()
	t.readHolds(ctx, now)
	type ask struct {
		b         *bucket
		n         int
		perSecond float64
		burst     int
	}
	var asks []ask
	t.mu.Lock()
	for _, b := range t.buckets {
		s := &b.shared
		if b.lim == nil || !s.on || s.want == 0 || s.allowance > 0 || now.Before(s.nextAt) || now.Before(b.pausedUntil) {
			continue
		}
		asks = append(asks, ask{b: b, n: min(s.want, free, b.spec.burst), perSecond: b.spec.perSecond, burst: b.spec.burst})
		s.want = 0
	}
	t.mu.Unlock()
	for _, a := range asks {
		granted, next, err := t.takeShared(ctx, a.b.key, a.n, a.perSecond, a.burst, now)
		t.mu.Lock()
		s := &a.b.shared
		if err != nil {
			if !s.fallback {
				t.log.Warn("shared delivery rate limit unavailable; limiting per replica until the store answers", "bucket", a.b.key, "err", err)
			}
			s.fallback = true
		} else {
			s.fallback = false
			s.allowance = min(s.allowance+granted, a.burst)
			s.nextAt = next
		}
		t.mu.Unlock()
	}
}

// takeShared takes up to n tokens from the store's bucket key and returns
// how many it got and, when it got fewer, when the next one is due.
func (t *throttle) takeShared(ctx context.Context, key string, n int, perSecond float64, burst int, now time.Time) (int, time.Time, error) {
	ctx, cancel := context.WithTimeout(ctx, sharedBucketTimeout)
	defer cancel()
	granted := 0
	for granted < n {
		ok, tokens, err := t.shared.TakeToken(ctx, sharedKeyPrefix+key, perSecond, burst, now)
		if err != nil {
			return granted, time.Time{}, err
		}
		if !ok {
			return granted, now.Add(time.Duration((1 - tokens) / perSecond * float64(time.Second))), nil
		}
		granted++
	}
	return granted, time.Time{}, nil
}

// holdShared empties the store's bucket key until until (a 429's pause),
// so the other replicas hold the webhook back too. On failure the pause
// is this replica's only.
func (t *throttle) holdShared(ctx context.Context, key string, perSecond float64, now, until time.Time) {
	ctx, cancel := context.WithTimeout(ctx, sharedBucketTimeout)
	defer cancel()
	if err := t.shared.HoldBucket(ctx, sharedKeyPrefix+key, perSecond, now, until); err != nil {
		t.log.Warn("pausing a webhook on every replica failed; paused on this one", "bucket", key, "err", err)
	}
}

// readHolds pauses here the webhooks another replica paused (a 429 with
// Retry-After), reading the store's held webhook buckets at most once per
// holdsEvery of the gateway's clock: one indexed read of the held rows
// per poll interval, not one per claim pass. While the read fails, other
// replicas' pauses are missed here; this replica's own pauses still hold.
func (t *throttle) readHolds(ctx context.Context, now time.Time) {
	t.mu.Lock()
	due := t.holdsReadAt.IsZero() || !now.Before(t.holdsReadAt.Add(t.holdsEvery))
	if due {
		t.holdsReadAt = now
	}
	t.mu.Unlock()
	if !due {
		return
	}
	ctx, cancel := context.WithTimeout(ctx, sharedBucketTimeout)
	defer cancel()
	prefix := sharedKeyPrefix + webhookKeyPrefix
	held, err := t.shared.HeldBuckets(ctx, prefix, now)
	t.mu.Lock()
	firstFailure := err != nil && !t.holdsFailed
	t.holdsFailed = err != nil
	for key, until := range held {
		t.hold(strings.TrimPrefix(key, prefix), until)
	}
	t.mu.Unlock()
	if firstFailure {
		t.log.Warn("reading the webhooks other replicas paused failed; their 429 pauses hold only on them until the store answers", "err", err)
	}
}
