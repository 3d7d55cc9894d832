package benchrun

import (
	"fmt"
	"io"
	"sync"
	"time"
)

// progress rewrites one line on w (a terminal's stderr) every 250 ms:
// the phase, how many of its deliveries arrived and the rate so far.
type progress struct {
	w    io.Writer
	mu   sync.Mutex
	name string
	of   int64
	cnt  func() int64
	at   time.Time
	quit chan struct{}
	wg   sync.WaitGroup
}

func newProgress(w io.Writer) *progress {
	p := &progress{w: w, quit: make(chan struct{})}
	if w == nil {
		return p
	}
	p.wg.Go(func() {
		t := time.NewTicker(250 * time.Millisecond)
		defer t.Stop()
		for {
			select {
			case <-p.quit:
				return
			case <-t.C:
				p.print()
			}
		}
	})
	return p
}

// phase starts a new phase of of deliveries counted by cnt (nil: none).
func (p *progress) phase(name string, of int64, cnt func() int64) {
	p.mu.Lock()
	p.name, p.of, p.cnt, p.at = name, of, cnt, time.Now()
	p.mu.Unlock()
	p.print()
}

func (p *progress) print() {
	if p.w == nil {
		return
	}
	p.mu.Lock()
	defer p.mu.Unlock()
	line := p.name + " …"
	if p.cnt != nil {
		n := p.cnt()
		line = fmt.Sprintf("%-20s %8d / %d  %8.0f/s", p.name, n, p.of, float64(n)/time.Since(p.at).Seconds())
	}
	fmt.Fprintf(p.w, "\r%-72s", line)
}

// done stops the line and clears it.
func (p *progress) done() {
	close(p.quit)
	p.wg.Wait()
	if p.w != nil {
		fmt.Fprintf(p.w, "\r%72s\r", "")
	}
}
