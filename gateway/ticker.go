package gateway

import (
	"context"
	"sync"
	"time"
)

// ticker runs a job on its own goroutine every interval, from start until
// stop; stop waits for a run in progress. The job gets a context that ends
// at stop, so blocking work inside it is cut short.
type ticker struct {
	cancel context.CancelFunc
	wg     sync.WaitGroup
}

func (t *ticker) start(every time.Duration, run func(ctx context.Context)) {
	if t.cancel != nil {
		return
	}
	ctx, cancel := context.WithCancel(context.Background())
	t.cancel = cancel
	t.wg.Add(1)
	go func() {
		defer t.wg.Done()
		tick := time.NewTicker(every)
		defer tick.Stop()
		for {
			select {
			case <-ctx.Done():
				return
			case <-tick.C:
				run(ctx)
			}
		}
	}()
}

func (t *ticker) stop() {
	if t.cancel != nil {
		t.cancel()
		t.wg.Wait()
	}
}
