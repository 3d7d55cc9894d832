package api

import (
	"strconv"
	"sync"
	"testing"
	"time"
)

var t0 = time.Date(2026, 1, 20, 14, 55, 58, 0, time.UTC)

// testClock is a Clock that moves only when told to (the gateway's
// ManualClock is in package gateway, which imports this one).
type testClock struct {
	mu  sync.Mutex
	now time.Time
}

func newTestClock(t time.Time) *testClock { return &testClock{now: t} }

func (c *testClock) Now() time.Time {
	c.mu.Lock()
	defer c.mu.Unlock()
	return c.now
}

func (c *testClock) Advance(d time.Duration) {
	c.mu.Lock()
	defer c.mu.Unlock()
	c.now = c.now.Add(d)
}

func TestRateLimiterSweep(t *testing.T) {
	clock := newTestClock(t0)
	r := NewRateLimiter(60, 2, clock)
	for i := 0; i < sweepAt; i++ {
		r.take("k" + strconv.Itoa(i))
	}
	clock.Advance(time.Minute) // every bucket is full again: the same as new
	r.take("new")
	if len(r.buckets) != 1 {
		t.Errorf("%d buckets after a sweep, want 1", len(r.buckets))
	}
}
