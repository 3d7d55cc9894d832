package benchrun

import (
	"context"
	"fmt"
	"io"
	"net/http"
	"sync"
	"sync/atomic"
	"time"
)

// Receiver is the loopback webhook receiver: it answers 200 and counts.
// Made with timing, it also notes when each trace id first arrived.
type Receiver struct {
	n      atomic.Int64
	timing atomic.Bool
	mu     sync.Mutex
	times  map[string]time.Time // trace id -> first received, while timing
	first  chan struct{}
	once   sync.Once
}

// NewReceiver makes a receiver; timing also keeps each trace id's first
// arrival (for latency), which costs a lock and a map entry per request,
// so throughput runs go without it and cost the gateway's requests and
// the plain client's the same.
func NewReceiver(timing bool) *Receiver {
	r := &Receiver{first: make(chan struct{})}
	if timing {
		r.StartTiming()
	}
	return r
}

// StartTiming forgets the arrivals noted so far and notes them from now on.
func (r *Receiver) StartTiming() {
	r.mu.Lock()
	r.times = map[string]time.Time{}
	r.mu.Unlock()
	r.timing.Store(true)
}

// ServeHTTP reads the body, notes the arrival and answers 200.
func (r *Receiver) ServeHTTP(w http.ResponseWriter, req *http.Request) {
	io.Copy(io.Discard, req.Body)
	if r.timing.Load() {
		now := time.Now()
		if tr := req.Header.Get("X-FN-Event-Trace-Id"); tr != "" {
			r.mu.Lock()
			if _, ok := r.times[tr]; !ok {
				r.times[tr] = now
			}
			r.mu.Unlock()
		}
	}
	r.n.Add(1)
	r.once.Do(func() { close(r.first) })
	w.WriteHeader(200)
}

// Count is how many requests arrived since the last Reset.
func (r *Receiver) Count() int64 { return r.n.Load() }

// Reset sets the count back to 0.
func (r *Receiver) Reset() { r.n.Store(0) }

// First is closed when the first request arrives.
func (r *Receiver) First() <-chan struct{} { return r.first }

// Arrival is when trace id tr first arrived (timing receivers only).
func (r *Receiver) Arrival(tr string) (time.Time, bool) {
	r.mu.Lock()
	defer r.mu.Unlock()
	at, ok := r.times[tr]
	return at, ok
}

// stallLimit ends a wait in which no request arrived for this long: the
// rest are not coming (failed deliveries), whatever the overall limit.
const stallLimit = 30 * time.Second

// WaitCount waits until n requests have arrived, at most limit, and gives
// up sooner when none arrives for 30 s.
func (r *Receiver) WaitCount(ctx context.Context, n int64, limit time.Duration) error {
	ctx, cancel := context.WithTimeout(ctx, limit)
	defer cancel()
	t := time.NewTicker(2 * time.Millisecond)
	defer t.Stop()
	last, lastAt := r.n.Load(), time.Now()
	for got := last; got < n; got = r.n.Load() {
		if got != last {
			last, lastAt = got, time.Now()
		} else if time.Since(lastAt) > stallLimit {
			return fmt.Errorf("the receiver got %d of %d requests, then none for %v", got, n, stallLimit)
		}
		select {
		case <-ctx.Done():
			return fmt.Errorf("the receiver got %d of %d requests within %v", r.n.Load(), n, limit)
		case <-t.C:
		}
	}
	return nil
}
