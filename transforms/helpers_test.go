package transforms

import (
	"testing"
	"time"
)

// waitJSONataGoIdle waits until no abandoned jsonata-go evaluation holds
// the engine lock, so a runaway of one test does not eat the time bound of
// the next.
func waitJSONataGoIdle(t testing.TB) {
	t.Helper()
	select {
	case jsonataGoLock <- struct{}{}:
		<-jsonataGoLock
	case <-time.After(30 * time.Second):
		t.Fatal("jsonata-go lock still held after 30s")
	}
}

// canonicalJSON re-encodes JSON with sorted keys, so bodies from both
// engines compare equal regardless of key order.
func canonicalJSON(t testing.TB, b []byte) string {
	if v := canonicalValue(b); v != "" {
		return v
	}
	return "invalid JSON: " + string(b)
}
