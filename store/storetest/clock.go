// Package storetest is the conformance suite every store.Store
// implementation runs (Badger now, PostgreSQL later).
package storetest

import (
	"sync"
	"testing"
	"time"
)

// Clock is a manual clock for one test. The open function given to
// RunContract passes Clock(t).Now to the store it opens, so the suite can move
// the store's time (idempotency expiry) without sleeping.
type Clock struct {
	mu  sync.Mutex
	now time.Time
}

// Epoch is where every test's clock starts.
var Epoch = time.Date(2026, 3, 1, 12, 0, 0, 0, time.UTC)

var clocks sync.Map // *testing.T → *Clock

// ClockFor returns t's clock, created at Epoch on first use and forgotten
// when t ends.
func ClockFor(t *testing.T) *Clock {
	c, loaded := clocks.LoadOrStore(t, &Clock{now: Epoch})
	if !loaded {
		t.Cleanup(func() { clocks.Delete(t) })
	}
	return c.(*Clock)
}

// NewClock returns a clock stopped at t, for tests outside the contract.
func NewClock(t time.Time) *Clock { return &Clock{now: t} }

// Now returns the clock's time.
func (c *Clock) Now() time.Time {
	c.mu.Lock()
	defer c.mu.Unlock()
	return c.now
}

// Advance moves the clock forward.
func (c *Clock) Advance(d time.Duration) {
	c.mu.Lock()
	c.now = c.now.Add(d)
	c.mu.Unlock()
}
