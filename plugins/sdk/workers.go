package sdk

import (
	"cmp"
	"sync"
	"time"
)

// Worker pool sizing. A delivery runs deep into net/http, so a fresh
// goroutine per delivery spends a good share of its CPU growing (copying)
// its stack; a worker that stays keeps its grown stack for the next one.
const (
	// maxPooledWorkers bounds the goroutines kept between deliveries.
	// Past it each further concurrent delivery gets a goroutine of its
	// own, as if there were no pool: concurrency itself is never capped.
	maxPooledWorkers = 512
	// workerIdle is how long a worker waits for its next delivery before
	// it exits, so a burst does not leave its workers behind for good.
	workerIdle = 10 * time.Second
)

// workerPool runs jobs on long-lived goroutines, started on demand. The
// delivery stream owns it: submit is called from the one goroutine that
// reads the stream, and stop, called once after the last job finished,
// ends every worker and waits for them.
type workerPool struct {
	run  func(job)     // what a worker does with a job
	idle time.Duration // workerIdle when 0 (tests shorten it)

	once  sync.Once
	jobs  chan job      // unbuffered: a send succeeds only into an idle worker
	done  chan struct{} // closed by stop
	wg    sync.WaitGroup
	mu    sync.Mutex
	alive int // pooled workers running
}

func (p *workerPool) init() {
	p.jobs = make(chan job)
	p.done = make(chan struct{})
}

// submit runs j on an idle worker, or else on a new one. It never waits.
func (p *workerPool) submit(j job) {
	p.once.Do(p.init)
	select {
	case p.jobs <- j:
		return
	default:
	}
	p.mu.Lock()
	pooled := p.alive < maxPooledWorkers
	if pooled {
		p.alive++
	}
	p.mu.Unlock()
	p.wg.Add(1)
	if pooled {
		go p.worker(j)
		return
	}
	go func() {
		defer p.wg.Done()
		p.run(j)
	}()
}

// worker runs j, then whatever it is handed next, until it has run no
// job for a whole period of its timer (workerIdle: it exits between one
// and two periods after its last job) or the pool stops. The timer is
// re-armed once a period, not after every job: a reset per delivery was a
// timer heap update per delivery.
func (p *workerPool) worker(j job) {
	defer p.wg.Done()
	period := cmp.Or(p.idle, workerIdle)
	idle := time.NewTimer(period)
	defer idle.Stop()
	for ok := true; ok; j, ok = p.wait(idle, period) {
		p.run(j)
	}
	p.mu.Lock()
	p.alive--
	p.mu.Unlock()
}

// wait returns a worker's next job, called right after it ran one; false
// when a tick of idle finds no job run since the previous tick, or the
// pool stops.
func (p *workerPool) wait(idle *time.Timer, period time.Duration) (job, bool) {
	ran := true
	for {
		select {
		case j := <-p.jobs:
			return j, true
		case <-idle.C:
			if !ran {
				return job{}, false
			}
			ran = false
			idle.Reset(period)
		case <-p.done:
			return job{}, false
		}
	}
}

// stop ends the idle workers and waits for all of them. The owner calls it
// once no job runs or will be submitted any more.
func (p *workerPool) stop() {
	p.once.Do(p.init)
	close(p.done)
	p.wg.Wait()
}
