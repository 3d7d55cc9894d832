// Package batch gathers queued items into the messages of the delivery
// stream: the host's requests (plugins/host) and the sink's results
// (plugins/sdk) travel in batches, so one gRPC message and one wake-up of
// each side serve many deliveries.
package batch

import (
	"runtime"
	"time"
)

// Limits bound one batch and say how long it may wait to fill.
type Limits struct {
	// Max is the most items in one batch; 0: no count limit.
	Max int
	// Bytes is the most approximate bytes (as Collector.Size counts them)
	// a batch grows to; 0: no limit.
	Bytes int
	// Linger is how long the first item may wait for others to join it,
	// and only while Collector.Busy says more are on their way; 0: a
	// batch is whatever is queued when it is taken.
	Linger time.Duration
}

// Collector takes batches off a queue. One goroutine owns it.
type Collector[T any] struct {
	Q      <-chan T
	Limits Limits
	// Size is an item's approximate size in bytes (for Limits.Bytes).
	Size func(T) int
	// Busy reports whether more items are on their way (requests still in
	// flight), given the n items of the batch so far. Without it, or when
	// it is false, a batch never lingers: an idle stream sends at once,
	// and a batch waits only for items that are coming anyway.
	Busy func(n int) bool

	timer *time.Timer
}

// Next waits for an item (or stop), then takes what is queued up to the
// limits; if that leaves room and more are on their way, it waits the
// linger and takes what came meanwhile. It appends to into[:0] and returns the
// batch; open is false when the queue was closed (the batch holds what
// was left) or stop was closed.
func (c *Collector[T]) Next(stop <-chan struct{}, into []T) (batch []T, open bool) {
	open = true
	batch = into[:0]
	select {
	case it, ok := <-c.Q:
		if !ok {
			return batch, false
		}
		batch = append(batch, it)
	case <-stop:
		return batch, false
	}
	// Let the goroutines that are about to queue an item run first, so
	// that under load they share this batch; when nothing else is
	// runnable this returns at once.
	runtime.Gosched()
	size := c.size(batch[0])
	batch, size, open = c.drain(batch, size)
	if !open || c.full(len(batch), size) || c.Limits.Linger <= 0 || c.Busy == nil || !c.Busy(len(batch)) {
		return batch, open
	}
	// Linger by sleeping, not by waiting on the queue: a sender parked on
	// the queue is woken by every item, which costs more than the
	// messages batching saves; asleep it is woken once, then takes all
	// that came meanwhile.
	select {
	case <-c.startTimer():
	case <-stop:
		c.stopTimer()
		return batch, false
	}
	batch, _, open = c.drain(batch, size)
	return batch, open
}

// drain takes what is queued, up to the limits, without waiting.
func (c *Collector[T]) drain(batch []T, size int) ([]T, int, bool) {
	for !c.full(len(batch), size) {
		select {
		case it, ok := <-c.Q:
			if !ok {
				return batch, size, false
			}
			batch, size = append(batch, it), size+c.size(it)
		default:
			return batch, size, true
		}
	}
	return batch, size, true
}

func (c *Collector[T]) full(n, size int) bool {
	return (c.Limits.Max > 0 && n >= c.Limits.Max) || (c.Limits.Bytes > 0 && size >= c.Limits.Bytes)
}

func (c *Collector[T]) size(it T) int {
	if c.Size == nil {
		return 0
	}
	return c.Size(it)
}

// startTimer arms the one reused timer for Linger (since Go 1.23 a
// stopped or reset timer never delivers a stale tick).
func (c *Collector[T]) startTimer() <-chan time.Time {
	if c.timer == nil {
		c.timer = time.NewTimer(c.Limits.Linger)
	} else {
		c.timer.Reset(c.Limits.Linger)
	}
	return c.timer.C
}

func (c *Collector[T]) stopTimer() {
	if c.timer != nil {
		c.timer.Stop()
	}
}
