package gateway

import "time"

// Clock is the gateway's source of time. Retry scheduling, token expiry and
// auto-deactivation read it, so tests move time instead of sleeping.
type Clock interface {
	Now() time.Time
}

// SystemClock is the real wall clock.
type SystemClock struct{}

// Now returns time.Now().
func (SystemClock) Now() time.Time { return time.Now() }
