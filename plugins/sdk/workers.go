package sdk

import (
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
	run func(job) // what a worker does with a job

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

// worker runs j, then whatever it is handed next, until it has been idle
// for workerIdle or the pool stops.
func (p *workerPool) worker(j job) {
	defer p.wg.Done()
	idle := time.NewTimer(workerIdle)
	defer idle.Stop()
	for {
		p.run(j)
		idle.Reset(workerIdle)
		select {
		case j = <-p.jobs:
			continue
		case <-idle.C:
		case <-p.done:
		}
		p.mu.Lock()
		p.alive--
		p.mu.Unlock()
		return
	}
}

// stop ends the idle workers and waits for all of them. The owner calls it
// once no job runs or will be submitted any more.
func (p *workerPool) stop() {
	p.once.Do(p.init)
	close(p.done)
	p.wg.Wait()
}
