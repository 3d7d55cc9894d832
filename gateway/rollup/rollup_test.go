package rollup

import (
	"context"
	"errors"
	"reflect"
	"sync"
	"testing"
	"time"

	"github.com/hookgate/hookgate/store"
	"github.com/hookgate/hookgate/store/storetest"
)

// memRollups is a store.Rollups that keeps every AddRollups call and can
// refuse the next ones.
type memRollups struct {
	mu     sync.Mutex
	calls  [][]store.Rollup
	refuse int
	added  chan struct{}
}

func newMem() *memRollups { return &memRollups{added: make(chan struct{}, 16)} }

func (m *memRollups) AddRollups(ctx context.Context, rs []store.Rollup) error {
	m.mu.Lock()
	defer m.mu.Unlock()
	if m.refuse > 0 {
		m.refuse--
		return errors.New("disk on fire")
	}
	m.calls = append(m.calls, rs)
	m.added <- struct{}{}
	return nil
}

func (m *memRollups) ListRollups(context.Context, store.RollupFilter) ([]store.Rollup, error) {
	return nil, nil
}

// byScope indexes one call's rows by company/webhook/minute.
func byScope(rs []store.Rollup) map[string]store.Rollup {
	out := map[string]store.Rollup{}
	for _, r := range rs {
		out[r.Minute.Format("15:04")+" "+string(rune('0'+r.CompanyID))+"/"+r.WebhookID] = r
	}
	return out
}

func counts(kv ...any) map[store.Outcome]int64 {
	m := map[store.Outcome]int64{}
	for i := 0; i < len(kv); i += 2 {
		m[kv[i].(store.Outcome)] = int64(kv[i+1].(int))
	}
	return m
}

// TestFlushWritesDeltas: an attempt counts in its webhook's, its
// company's and the gateway's row of the minute it was observed in; the
// gateway's row keeps the most queue depth per priority; each Flush
// writes only what was observed since the last one (the store adds it),
// the running minute too; a write the store refused is written by the
// next flush, merged with what came meanwhile, not twice and not lost.
func TestFlushWritesDeltas(t *testing.T) {
	clock := storetest.ClockFor(t) // 12:00:00
	mem := newMem()
	a := New(Options{Store: mem, Clock: clock})
	clock.Advance(10 * time.Second)
	a.Observe("hook-a", 1, store.OutcomeSuccess, 2*time.Millisecond)
	a.Observe("hook-a", 1, store.OutcomeRetry, 30*time.Millisecond)
	a.Observe("hook-b", 2, store.OutcomeFailed, time.Second)
	a.SampleDepth([3]int{1, 5, 0})
	a.SampleDepth([3]int{0, 9, 2})
	if err := a.Flush(t.Context()); err != nil || len(mem.calls) != 1 {
		t.Fatalf("Flush: %d calls, %v; want one write", len(mem.calls), err)
	}
	got := byScope(mem.calls[0])
	want := map[string]map[store.Outcome]int64{
		"12:00 1/hook-a": counts(store.OutcomeSuccess, 1, store.OutcomeRetry, 1),
		"12:00 1/":       counts(store.OutcomeSuccess, 1, store.OutcomeRetry, 1),
		"12:00 2/hook-b": counts(store.OutcomeFailed, 1),
		"12:00 2/":       counts(store.OutcomeFailed, 1),
		"12:00 0/":       counts(store.OutcomeSuccess, 1, store.OutcomeRetry, 1, store.OutcomeFailed, 1),
	}
	if len(got) != len(want) {
		t.Fatalf("wrote rows %v, want the 5 of 12:00 (2 webhooks, 2 companies, the gateway)", got)
	}
	for k, w := range want {
		if r := got[k]; !reflect.DeepEqual(r.Attempts, w) || r.Latency.Count() != r.Total() {
			t.Errorf("row %s = %v (latency %v), want %v with one duration per attempt", k, r.Attempts, r.Latency, w)
		}
	}
	if d := got["12:00 0/"].Depth; d != [3]int64{1, 9, 2} {
		t.Errorf("gateway depth = %v, want [1 9 2] (the most of each priority)", d)
	}
	if d := got["12:00 1/hook-a"].Depth; d != [3]int64{} {
		t.Errorf("a webhook row has depth %v", d)
	}
	if p := got["12:00 1/hook-a"].Latency.Quantile(0.95); p < 25*time.Millisecond || p > 36*time.Millisecond {
		t.Errorf("p95 of hook-a = %s, want about 30ms", p)
	}

	clock.Advance(40 * time.Second) // 12:00:50: only what is new is written
	a.ObserveAttempt(&store.Attempt{WebhookID: "hook-a", CompanyID: 1, Outcome: store.OutcomeSuccess}, 3*time.Millisecond)
	if err := a.Flush(t.Context()); err != nil || len(mem.calls) != 2 {
		t.Fatalf("second Flush: %d calls, %v", len(mem.calls), err)
	}
	if got := byScope(mem.calls[1]); len(got) != 3 || got["12:00 1/hook-a"].Total() != 1 || got["12:00 0/"].Depth != [3]int64{} {
		t.Fatalf("second write = %v, want only the new attempt's 3 rows of 12:00", got)
	}

	clock.Advance(15 * time.Second) // 12:01:05
	a.Observe("hook-a", 1, store.OutcomeSuccess, time.Millisecond)
	mem.refuse = 1
	if err := a.Flush(t.Context()); err == nil {
		t.Fatal("Flush did not report the store's refusal")
	}
	a.Observe("hook-a", 1, store.OutcomeSuccess, time.Millisecond)
	if err := a.Flush(t.Context()); err != nil || len(mem.calls) != 3 {
		t.Fatalf("Flush after a refusal: %d calls, %v", len(mem.calls), err)
	}
	if r := byScope(mem.calls[2])["12:01 1/hook-a"]; r.Attempts[store.OutcomeSuccess] != 2 || r.Latency.Count() != 2 {
		t.Fatalf("12:01 hook-a = %+v, want the 2 successes observed around the refused write", r)
	}
	if err := a.Flush(t.Context()); err != nil || len(mem.calls) != 3 {
		t.Fatalf("Flush with nothing new wrote (%d calls, %v)", len(mem.calls), err)
	}
}

// TestRunTicks: each tick samples the queue depth and writes what was
// observed; when its context ends Run writes the rest and returns.
func TestRunTicks(t *testing.T) {
	clock := storetest.ClockFor(t)
	mem := newMem()
	ticks := make(chan time.Time)
	depths := make(chan [3]int, 1)
	a := New(Options{Store: mem, Clock: clock, Ticks: ticks, Depth: func(context.Context) ([3]int, error) { return <-depths, nil }})
	ctx, cancel := context.WithCancel(t.Context())
	done := make(chan struct{})
	go func() { a.Run(ctx); close(done) }()

	a.Observe("hook-a", 1, store.OutcomeSuccess, time.Millisecond)
	depths <- [3]int{0, 7, 0}
	ticks <- clock.Now() // samples 7 into 12:00, writes it
	wait := func(what string) {
		t.Helper()
		select {
		case <-mem.added:
		case <-time.After(10 * time.Second):
			t.Fatalf("no write %s", what)
		}
	}
	wait("at the tick")
	clock.Advance(time.Minute)
	depths <- [3]int{0, 3, 0}
	ticks <- clock.Now() // samples 3 into 12:01, writes it
	wait("at the second tick")
	a.Observe("hook-a", 1, store.OutcomeRetry, time.Millisecond)
	cancel()
	wait("at stop")
	select {
	case <-done:
	case <-time.After(10 * time.Second):
		t.Fatal("Run did not return after its context ended")
	}
	first, second, last := byScope(mem.calls[0]), byScope(mem.calls[1]), byScope(mem.calls[2])
	if r := first["12:00 0/"]; r.Depth != [3]int64{0, 7, 0} || r.Total() != 1 {
		t.Fatalf("12:00 gateway row = %+v, want depth [0 7 0] and 1 attempt", r)
	}
	if r := second["12:01 0/"]; r.Depth != [3]int64{0, 3, 0} || len(second) != 1 {
		t.Fatalf("second tick wrote %v, want the gateway row of 12:01 with depth [0 3 0]", second)
	}
	if r := last["12:01 1/hook-a"]; r.Attempts[store.OutcomeRetry] != 1 || len(last) != 3 {
		t.Fatalf("at stop wrote %v, want the retry observed after the last tick", last)
	}
}
