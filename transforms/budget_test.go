package transforms

import (
	"context"
	"strings"
	"sync"
	"testing"
	"time"
)

// deadlineSpy wraps an expression and records the deadline each
// evaluation was given.
type deadlineSpy struct {
	expression
	mu        *sync.Mutex
	deadlines *[]time.Time
}

func (s deadlineSpy) eval(ctx context.Context, input any, lim limits) (any, bool, *Error) {
	d, _ := ctx.Deadline() // zero when the evaluation got no deadline of the render
	s.mu.Lock()
	*s.deadlines = append(*s.deadlines, d)
	s.mu.Unlock()
	return s.expression.eval(ctx, input, lim)
}

// TestRenderSharesOneBudget (issue 12, finding 7): a URL template with 100
// slow placeholders, each well inside transforms.timeout alone but over it
// together, fails with the time-limit error before all of them run, and
// the payload template and every placeholder were given one and the same
// deadline, one timeout after the render began. Before, each placeholder
// got a fresh timeout: the render took 100 of them and succeeded.
func TestRenderSharesOneBudget(t *testing.T) {
	const placeholders, timeout = 100, 30 * time.Millisecond
	// About a millisecond per evaluation here (a few under -race): 100 are far
	// over the budget, one is far under it.
	const slow = `$sum($map([1..500], function($v){ $v }))`
	raw := "https://example.com/" + strings.Repeat("{{ "+slow+" }}/", placeholders)
	seed := seedEnvelope(t)
	for _, eng := range bothEngines {
		waitJSONataGoIdle(t)
		p, err := newTransformer(t, Options{Engine: eng, Timeout: timeout}).Program("k", 1, `{"a": 1}`, raw)
		if err != nil {
			t.Fatal(err)
		}
		var mu sync.Mutex
		var deadlines []time.Time
		p.payload = deadlineSpy{p.payload, &mu, &deadlines}
		for i := range p.url.parts {
			if p.url.parts[i].expr != nil {
				p.url.parts[i].expr = deadlineSpy{p.url.parts[i].expr, &mu, &deadlines}
			}
		}
		start := time.Now()
		_, _, err = p.Apply(context.Background(), seed)
		took := time.Since(start)
		te := asError(t, err)
		mu.Lock()
		n := len(deadlines) - 1 // placeholders evaluated, after the payload template
		if te.Template != TemplateURL || !strings.Contains(te.Message, "time limit") || !strings.Contains(te.Message, "transforms.timeout") {
			t.Fatalf("%s: %v, want the render's time-limit error", eng, err)
		}
		if n >= placeholders {
			t.Errorf("%s: all %d placeholders were evaluated (in %v): each had its own budget", eng, n, took)
		}
		for i, d := range deadlines {
			if d.IsZero() || !d.Equal(deadlines[0]) || d.Before(start.Add(timeout)) || d.After(start.Add(timeout+took)) {
				t.Fatalf("%s: evaluation %d had deadline %v; want the render's one deadline, a timeout after %v", eng, i, d, start)
			}
		}
		mu.Unlock()
		// Generous: gnata checks its context between steps and -race on a
		// busy host is slow; the old code took about 100 evaluations.
		if took > timeout+2*time.Second {
			t.Errorf("%s: the render took %v", eng, took)
		}
		t.Logf("%s: failed after %d of %d placeholders, %v", eng, n, placeholders, took)
	}
}
