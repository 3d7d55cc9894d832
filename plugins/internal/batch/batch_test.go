package batch

import (
	"slices"
	"testing"
	"time"
)

func queue(items ...int) chan int {
	q := make(chan int, 16)
	for _, it := range items {
		q <- it
	}
	return q
}

// TestTakesWhatIsQueued: with no linger a batch is what is queued now.
func TestTakesWhatIsQueued(t *testing.T) {
	c := &Collector[int]{Q: queue(1, 2, 3)}
	b, open := c.Next(nil, nil)
	if !open || !slices.Equal(b, []int{1, 2, 3}) {
		t.Fatalf("got %v open %v", b, open)
	}
}

// TestFlushesOnCount: a full batch goes at once, however long the linger.
func TestFlushesOnCount(t *testing.T) {
	c := &Collector[int]{Q: queue(1, 2, 3, 4, 5), Limits: Limits{Max: 2, Linger: time.Hour}, Busy: func(int) bool { return true }}
	for _, want := range [][]int{{1, 2}, {3, 4}} {
		if b, _ := c.Next(nil, nil); !slices.Equal(b, want) {
			t.Fatalf("got %v, want %v", b, want)
		}
	}
}

// TestFlushesOnBytes: the byte limit ends a batch too.
func TestFlushesOnBytes(t *testing.T) {
	c := &Collector[int]{Q: queue(10, 10, 10), Limits: Limits{Bytes: 15}, Size: func(n int) int { return n }}
	if b, _ := c.Next(nil, nil); !slices.Equal(b, []int{10, 10}) {
		t.Fatalf("got %v", b)
	}
}

// TestLingersOnlyWhileBusy: an idle stream does not wait (a linger of an
// hour would hang the test); a busy one waits for the item on its way.
func TestLingersOnlyWhileBusy(t *testing.T) {
	idle := &Collector[int]{Q: queue(1), Limits: Limits{Max: 8, Linger: time.Hour}, Busy: func(int) bool { return false }}
	if b, _ := idle.Next(nil, nil); !slices.Equal(b, []int{1}) {
		t.Fatalf("idle: got %v", b)
	}

	q := queue(1)
	busy := &Collector[int]{Q: q, Limits: Limits{Max: 8, Linger: time.Millisecond},
		Busy: func(n int) bool { q <- 2; return n == 1 }} // 2 comes while the batch lingers
	if b, _ := busy.Next(nil, nil); !slices.Equal(b, []int{1, 2}) {
		t.Fatalf("busy: got %v", b)
	}
}

// TestLingerEnds: a busy stream whose next item does not come sends what
// it has when the linger runs out.
func TestLingerEnds(t *testing.T) {
	q := queue(1)
	c := &Collector[int]{Q: q, Limits: Limits{Max: 8, Linger: time.Millisecond}, Busy: func(int) bool { return true }}
	for range 3 { // the reused timer re-arms
		b, open := c.Next(nil, nil)
		if !open || !slices.Equal(b, []int{1}) {
			t.Fatalf("got %v open %v", b, open)
		}
		q <- 1
	}
}

// TestClosedAndStopped: a closed queue hands over what was left; stop
// ends a wait.
func TestClosedAndStopped(t *testing.T) {
	q := queue(1, 2)
	close(q)
	c := &Collector[int]{Q: q, Limits: Limits{Linger: time.Hour}, Busy: func(int) bool { return true }}
	if b, open := c.Next(nil, nil); open || !slices.Equal(b, []int{1, 2}) {
		t.Fatalf("got %v open %v", b, open)
	}
	stop := make(chan struct{})
	close(stop)
	c = &Collector[int]{Q: make(chan int)}
	if b, open := c.Next(stop, nil); open || len(b) != 0 {
		t.Fatalf("stopped: got %v open %v", b, open)
	}
	lingering := make(chan struct{})
	c = &Collector[int]{Q: queue(1), Limits: Limits{Linger: time.Hour},
		Busy: func(int) bool { close(lingering); return true }}
	stop = make(chan struct{})
	go func() { <-lingering; close(stop) }()
	if b, open := c.Next(stop, nil); open || !slices.Equal(b, []int{1}) {
		t.Fatalf("stopped while lingering: got %v open %v", b, open)
	}
}
