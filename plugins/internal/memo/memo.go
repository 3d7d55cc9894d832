// Package memo remembers the results of a pure function of a string for
// the sinks' per-delivery work that repeats (a webhook's URL parsed and
// checked, a header name canonicalized): one map read instead of the work
// and its allocations.
package memo

import (
	"strings"
	"sync"
)

// Memo is a bounded, concurrency-safe memo of F. The zero value is not
// usable; set F and Max.
type Memo[V any] struct {
	// F computes a value; it must be pure (same input, same result) and
	// its results must not be changed by callers. It is given a copy of
	// the input, which its result may keep.
	F func(string) V
	// Max bounds the entries kept; past it the memo starts over, so that
	// endlessly varied inputs cost a map insert each, not memory.
	Max int

	mu sync.RWMutex
	m  map[string]V
}

// Get returns F(k), from the memo when k was seen.
func (c *Memo[V]) Get(k string) V {
	c.mu.RLock()
	v, ok := c.m[k]
	c.mu.RUnlock()
	if ok {
		return v
	}
	// A copy: k may share memory with much more (a batch's strings), which
	// the memo must not keep alive.
	k = strings.Clone(k)
	v = c.F(k)
	c.mu.Lock()
	if c.m == nil || len(c.m) >= c.Max {
		c.m = make(map[string]V)
	}
	c.m[k] = v
	c.mu.Unlock()
	return v
}
