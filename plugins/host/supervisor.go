package host

import (
	"context"
	"errors"
	"fmt"
	"log/slog"
	"sync"
	"time"

	"github.com/hookgate/hookgate/plugins/sdk"
)

// stableAfter is how long a process must have run for its exit to count as
// a fresh failure: the restart backoff starts over instead of growing.
const stableAfter = time.Minute

// supervisor owns one sink: its current process and the restarts.
type supervisor struct {
	spec    Spec
	opts    *Options
	log     *slog.Logger
	closing <-chan struct{} // closed when the host closes

	mu       sync.Mutex
	cur      *proc         // the live process, or the dead one being replaced
	changed  chan struct{} // closed (and replaced) whenever cur changes
	lastErr  error         // why there is no live process, while restarting
	restarts int
}

func newSupervisor(spec Spec, opts *Options, closing <-chan struct{}) *supervisor {
	return &supervisor{
		spec:    spec,
		opts:    opts,
		closing: closing,
		log:     opts.Logger.With("sink", spec.Name),
		changed: make(chan struct{}),
	}
}

// start launches the first process; its error is the one Start reports.
func (s *supervisor) start(ctx context.Context) error {
	p, err := launch(ctx, s.spec, s.opts, s.log)
	if err != nil {
		return err
	}
	s.set(p, nil)
	return nil
}

func (s *supervisor) set(p *proc, err error) {
	s.mu.Lock()
	defer s.mu.Unlock()
	if p != nil {
		s.cur = p
	}
	s.lastErr = err
	close(s.changed)
	s.changed = make(chan struct{})
}

// supervise restarts the process whenever it dies, until ctx ends.
func (s *supervisor) supervise(ctx context.Context) {
	attempt := 0
	for {
		s.mu.Lock()
		p := s.cur
		s.mu.Unlock()
		select {
		case <-p.dead:
		case <-ctx.Done():
			return
		}
		s.log.Warn("sink process stopped; restarting", "reason", p.deadErr.Error())
		p.shutdown()
		s.set(nil, p.deadErr)
		if time.Since(p.started) > stableAfter {
			attempt = 0
		}
		for {
			if !sleep(ctx, backoff(attempt, s.opts.RestartBackoff, s.opts.MaxRestartBackoff)) {
				return
			}
			attempt++
			np, err := launch(ctx, s.spec, s.opts, s.log)
			if err == nil {
				s.log.Info("sink process restarted")
				s.mu.Lock()
				s.restarts++
				s.mu.Unlock()
				s.set(np, nil)
				break
			}
			if ctx.Err() != nil {
				return
			}
			s.log.Error("restarting sink failed", "error", err.Error())
			s.set(nil, err)
		}
	}
}

func backoff(attempt int, first, max time.Duration) time.Duration {
	d := first
	for i := 0; i < attempt && d < max; i++ {
		d *= 2
	}
	return min(d, max)
}

// sleep waits d or until ctx ends; it reports whether d elapsed.
func sleep(ctx context.Context, d time.Duration) bool {
	t := time.NewTimer(d)
	defer t.Stop()
	select {
	case <-t.C:
		return true
	case <-ctx.Done():
		return false
	}
}

// live returns the live process, waiting up to wait for a restart.
func (s *supervisor) live(ctx context.Context, wait time.Duration) (*proc, error) {
	var timer <-chan time.Time
	for {
		s.mu.Lock()
		p, changed, lastErr := s.cur, s.changed, s.lastErr
		s.mu.Unlock()
		if p != nil && !p.isDead() {
			return p, nil
		}
		if timer == nil {
			t := time.NewTimer(wait)
			defer t.Stop()
			timer = t.C
		}
		select {
		case <-changed:
		case <-ctx.Done():
			return nil, ctx.Err()
		case <-s.closing:
			return nil, errUnavailable{errHostClosed}
		case <-timer:
			if lastErr == nil && p != nil {
				lastErr = p.deadErr
			}
			return nil, errUnavailable{lastErr}
		}
	}
}

type errUnavailable struct{ cause error }

func (e errUnavailable) Error() string {
	if e.cause == nil {
		return "restarting"
	}
	return "restarting after: " + e.cause.Error()
}

func (s *supervisor) deliver(ctx context.Context, req *sdk.Request) (*sdk.Result, error) {
	p, err := s.live(ctx, req.Timeout)
	var unavailable errUnavailable
	switch {
	case errors.As(err, &unavailable):
		return &sdk.Result{Error: fmt.Sprintf("sink %s unavailable: %v", s.spec.Name, err), Retryable: true}, nil
	case err != nil:
		return nil, err
	}
	return p.deliver(ctx, req)
}

// stop ends the current process; supervise must have returned.
func (s *supervisor) stop() {
	s.mu.Lock()
	p := s.cur
	s.mu.Unlock()
	if p != nil {
		p.fail(errHostClosed)
		p.shutdown()
	}
}
