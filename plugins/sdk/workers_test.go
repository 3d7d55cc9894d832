package sdk

import (
	"sync"
	"sync/atomic"
	"testing"
	"time"
)

// TestWorkerPoolRunsEveryJobConcurrently: a job that blocks never holds up
// another one, and stop waits for every worker.
func TestWorkerPoolRunsEveryJobConcurrently(t *testing.T) {
	const n = 50
	var (
		started sync.WaitGroup
		release = make(chan struct{})
		ran     atomic.Int32
	)
	started.Add(n)
	p := &workerPool{run: func(job) {
		started.Done()
		<-release // every job waits until all of them have started
		ran.Add(1)
	}}
	for range n {
		p.submit(job{})
	}
	started.Wait()
	close(release)
	p.stop()
	if ran.Load() != n {
		t.Fatalf("ran %d jobs, want %d", ran.Load(), n)
	}
	if p.alive != 0 {
		t.Fatalf("%d workers left after stop", p.alive)
	}
}

// TestWorkerPoolReusesIdleWorkers: an idle worker takes the next job, so
// sequential jobs need one goroutine.
func TestWorkerPoolReusesIdleWorkers(t *testing.T) {
	done := make(chan struct{})
	p := &workerPool{run: func(job) { done <- struct{}{} }}
	p.submit(job{})
	<-done
	for range 20 {
		// What submit tries first: hand the job to an idle worker.
		deadline := time.Now().Add(5 * time.Second)
		for taken := false; !taken; {
			select {
			case p.jobs <- job{}:
				taken = true
			default:
				if time.Now().After(deadline) {
					t.Fatal("the idle worker never took a job")
				}
				time.Sleep(time.Millisecond)
			}
		}
		<-done
	}
	p.mu.Lock()
	alive := p.alive
	p.mu.Unlock()
	p.stop()
	if alive != 1 {
		t.Fatalf("%d workers for sequential jobs, want 1", alive)
	}
}

// TestWorkerPoolIdleWorkerExits: a worker with no job for its idle period
// (here shortened) exits, and the next job starts a new one.
func TestWorkerPoolIdleWorkerExits(t *testing.T) {
	done := make(chan struct{})
	p := &workerPool{run: func(job) { done <- struct{}{} }, idle: 5 * time.Millisecond}
	defer p.stop()
	alive := func() int {
		p.mu.Lock()
		defer p.mu.Unlock()
		return p.alive
	}
	for range 2 {
		p.submit(job{})
		<-done
		deadline := time.Now().Add(5 * time.Second)
		for alive() != 0 {
			if time.Now().After(deadline) {
				t.Fatalf("%d workers still alive long after their idle period", alive())
			}
			time.Sleep(time.Millisecond)
		}
	}
}
