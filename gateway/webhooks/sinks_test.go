package webhooks

import (
	"testing"

	"github.com/hookgate/hookgate/config"
)

// TestSinkAccessPerDelivery: every delivery asks whether its company may
// use its sink, so the answer must be right for the built-in sink without
// a block, a declared sink and an unknown one, and cost no allocation.
func TestSinkAccessPerDelivery(t *testing.T) {
	a := NewSinkAccess(SinkSnapshot{Blocks: []config.Sink{
		{Name: "snow", Type: "servicenow", Companies: []int64{100}},
	}})
	for _, c := range []struct {
		sink    string
		company int64
		forbids bool
	}{
		{config.BuiltinSink, 200, false}, // no block: open to all
		{"snow", 100, false},
		{"snow", 200, true},
		{"elsewhere", 200, false}, // not run here: no one's to grant
	} {
		if got := a.Forbids(c.sink, c.company); got != c.forbids {
			t.Errorf("Forbids(%q, %d) = %v, want %v", c.sink, c.company, got, c.forbids)
		}
	}
	for _, sink := range []string{config.BuiltinSink, "snow"} {
		if n := testing.AllocsPerRun(100, func() { a.Forbids(sink, 100) }); n != 0 {
			t.Errorf("Forbids(%q) allocates %.0f times per delivery, want 0", sink, n)
		}
	}
}
