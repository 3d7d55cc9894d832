package sinkpb

import (
	"maps"
	"testing"
)

func TestHeadersRoundTrip(t *testing.T) {
	h := map[string]string{"Content-Type": "application/json", "X-Empty": "", "X-FN-Signature": "abc"}
	pairs := PackHeaders(h)
	if len(pairs) != 2*len(h) {
		t.Fatalf("PackHeaders = %q", pairs)
	}
	if got := UnpackHeaders(pairs); !maps.Equal(got, h) {
		t.Fatalf("UnpackHeaders(PackHeaders(h)) = %v, want %v", got, h)
	}
	if PackHeaders(nil) != nil || UnpackHeaders(nil) != nil {
		t.Fatal("empty headers must stay nil")
	}
	// A malformed list (a name without its value) must not panic.
	if got := UnpackHeaders([]string{"A", "1", "B"}); got["A"] != "1" || got["B"] != "" || len(got) != 2 {
		t.Fatalf("odd list: %v", got)
	}
}
