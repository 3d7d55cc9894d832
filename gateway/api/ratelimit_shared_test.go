package api

import (
	"context"
	"errors"
	"io"
	"log/slog"
	"math"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/hookgate/hookgate/store/storetest"
)

// fakeBuckets is a shared bucket store: one bucket per key for every
// limiter that draws from it, like the postgres rate_buckets table.
type fakeBuckets struct {
	mu   sync.Mutex
	tok  map[string]float64
	at   map[string]time.Time
	held map[string]time.Time
	fail bool
}

// HoldBucket empties the bucket until until, as the postgres store does.
func (f *fakeBuckets) HoldBucket(_ context.Context, key string, perSecond float64, now, until time.Time) error {
	f.mu.Lock()
	defer f.mu.Unlock()
	f.tok[key], f.at[key] = 1-perSecond*until.Sub(now).Seconds(), now
	if f.held == nil {
		f.held = map[string]time.Time{}
	}
	if until.After(f.held[key]) {
		f.held[key] = until
	}
	return nil
}

// HeldBuckets lists the holds of keys under prefix that end after now.
func (f *fakeBuckets) HeldBuckets(_ context.Context, prefix string, now time.Time) (map[string]time.Time, error) {
	f.mu.Lock()
	defer f.mu.Unlock()
	out := map[string]time.Time{}
	for k, until := range f.held {
		if strings.HasPrefix(k, prefix) && until.After(now) {
			out[k] = until
		}
	}
	return out, nil
}

func (f *fakeBuckets) TakeToken(_ context.Context, key string, perSecond float64, burst int, now time.Time) (bool, float64, error) {
	f.mu.Lock()
	defer f.mu.Unlock()
	if f.fail {
		return false, 0, errors.New("database down")
	}
	t, ok := f.tok[key]
	if !ok {
		t, f.at[key] = float64(burst), now
	}
	t = math.Min(float64(burst), t+perSecond*math.Max(0, now.Sub(f.at[key]).Seconds()))
	if now.After(f.at[key]) {
		f.at[key] = now
	}
	allowed := t >= 1
	if allowed {
		t--
	}
	f.tok[key] = t
	return allowed, t, nil
}

// TestSharedRateLimitAcrossReplicas: three replicas' limiters drawing from
// one shared store grant the burst once in total, not once each; when the
// store fails, each falls back to its own bucket.
func TestSharedRateLimitAcrossReplicas(t *testing.T) {
	clock := storetest.ClockFor(t)
	shared := &fakeBuckets{tok: map[string]float64{}, at: map[string]time.Time{}}
	log := slog.New(slog.NewTextHandler(io.Discard, nil))
	replicas := []*RateLimiter{NewRateLimiter(60, 5, clock), NewRateLimiter(60, 5, clock), NewRateLimiter(60, 5, clock)}
	granted := 0
	for i := range 15 {
		if d := replicas[i%3].Decide(context.Background(), shared, log, "client:acme"); d.Allowed {
			granted++
		}
	}
	if granted != 5 {
		t.Fatalf("granted %d of 15 across 3 replicas, want the burst of 5", granted)
	}
	d := replicas[0].Decide(context.Background(), shared, log, "client:acme")
	if d.Allowed || d.RetryAfter != time.Second || d.Remaining != 0 {
		t.Fatalf("refusal = %+v, want retry in 1s", d)
	}
	clock.Advance(2 * time.Second)
	if d := replicas[2].Decide(context.Background(), shared, log, "client:acme"); !d.Allowed || d.Remaining != 1 {
		t.Fatalf("after 2s = %+v, want a grant with 1 left", d)
	}
	shared.fail = true
	if d := replicas[1].Decide(context.Background(), shared, log, "client:acme"); !d.Allowed || d.Remaining != 4 {
		t.Fatalf("fall-back = %+v, want the replica's own full bucket", d)
	}
	// A store without shared buckets (Badger) uses the local ones.
	if d := replicas[1].Decide(context.Background(), nil, log, "client:other"); !d.Allowed || d.Remaining != 4 {
		t.Fatalf("local = %+v", d)
	}
}
