package api

import (
	"strconv"
	"testing"
	"time"

	"github.com/hookgate/hookgate/store/storetest"
)

func TestRateLimiterSweep(t *testing.T) {
	clock := storetest.ClockFor(t)
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
