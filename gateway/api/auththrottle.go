package api

import (
	"context"
	"log/slog"
	"slices"
	"sync"
	"time"

	"github.com/hookgate/hookgate/store"
)

// knownAddrsPerClient bounds the addresses remembered per client as having
// authenticated (a handful of producer hosts; the oldest is forgotten).
const knownAddrsPerClient = 16

// AuthThrottle slows secret guessing per client id, from any address:
// every failed authentication for a configured client takes one token from
// that client's bucket (auth.max_failures_per_client a minute, as a burst
// too); while it is empty, the token endpoint answers 429 for that client
// without checking the secret, so a lock gives away nothing. Successes take
// nothing.
//
// An attacker who keeps failing keeps the lock, so a client must not be
// shut out by it forever: an address that authenticated as the client and
// has not failed for it since is exempt (it still has the per-address
// limit). A producer keeps renewing its tokens from its own host during an
// attack; only new addresses wait for the attack to stop. An address loses
// the exemption with its first failure, so an attacker behind the same
// address (a proxy not listed in server.trusted_proxies) cannot use it.
//
// With replicas on PostgreSQL the buckets are shared (RateLimiter.Decide);
// each replica learns of an empty bucket at its next failure, so the limit
// holds across replicas give or take one guess per replica.
type AuthThrottle struct {
	failures *RateLimiter
	clock    Clock
	log      *slog.Logger

	mu     sync.Mutex
	locked map[string]time.Time // client id → when its next failure is allowed
	known  map[string][]string  // client id → addresses that authenticated, oldest first
}

// NewAuthThrottle allows perMinute failed authentications a minute per
// client (auth.max_failures_per_client), as a burst too.
func NewAuthThrottle(perMinute int, clock Clock, log *slog.Logger) *AuthThrottle {
	return &AuthThrottle{
		failures: NewRateLimiter(perMinute, perMinute, clock), clock: clock, log: log,
		locked: map[string]time.Time{}, known: map[string][]string{},
	}
}

// Admit reports whether an authentication of client id from addr may be
// tried now, else how long until it may.
func (t *AuthThrottle) Admit(id, addr string) (bool, time.Duration) {
	t.mu.Lock()
	defer t.mu.Unlock()
	if slices.Contains(t.known[id], addr) {
		return true, 0
	}
	if wait := t.locked[id].Sub(t.clock.Now()); wait > 0 {
		return false, wait
	}
	return true, 0
}

// Failed counts a failed authentication of client id from addr. sb are
// the store's shared buckets, nil when it has none.
func (t *AuthThrottle) Failed(ctx context.Context, sb store.RateBuckets, id, addr string) {
	d := t.failures.Decide(ctx, sb, t.log, "authfail:"+id)
	t.mu.Lock()
	defer t.mu.Unlock()
	t.known[id] = slices.DeleteFunc(t.known[id], func(a string) bool { return a == addr })
	if d.RetryAfter > 0 {
		// The bucket is empty now: lock until it holds a token again.
		t.locked[id] = t.clock.Now().Add(d.RetryAfter)
	}
}

// Succeeded remembers that addr authenticated as client id.
func (t *AuthThrottle) Succeeded(id, addr string) {
	t.mu.Lock()
	defer t.mu.Unlock()
	known := slices.DeleteFunc(t.known[id], func(a string) bool { return a == addr })
	if len(known) >= knownAddrsPerClient {
		known = known[1:]
	}
	t.known[id] = append(known, addr)
}

// PerMinute is auth.max_failures_per_client, as the refusals word it.
func (t *AuthThrottle) PerMinute() int { return t.failures.PerMinute() }
