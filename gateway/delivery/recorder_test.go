package delivery

import (
	"bytes"
	"context"
	"log/slog"
	"strconv"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/hookgate/hookgate/config"
	"github.com/hookgate/hookgate/store"
	"github.com/hookgate/hookgate/store/badger"
)

// gatedQueue records the size of each write; the first write waits for
// gate, so outcomes pile up behind it.
type gatedQueue struct {
	Queue
	entered, gate chan struct{}
	once          sync.Once
	mu            sync.Mutex
	writes        []int
	inFlightAt    []int64 // the dispatcher's in-flight count when each write began
	d             *Dispatcher
}

func (q *gatedQueue) write(n int) {
	q.mu.Lock()
	q.writes = append(q.writes, n)
	q.inFlightAt = append(q.inFlightAt, q.d.InFlight())
	q.mu.Unlock()
	q.once.Do(func() { close(q.entered); <-q.gate })
}

func (q *gatedQueue) RecordAttempt(context.Context, *store.Delivery, *store.Attempt) error {
	q.write(1)
	return nil
}

func (q *gatedQueue) RecordAttempts(_ context.Context, recs []store.AttemptRecord) error {
	q.write(len(recs))
	return nil
}

// successOf is the outcome of delivery i's successful first attempt.
func successOf(i int) *outcome {
	del := &store.Delivery{ID: "d" + strconv.Itoa(i), WebhookID: "w", CompanyID: 1, State: store.DeliveryInFlight}
	next := *del
	next.State, next.Attempts = store.DeliverySucceeded, 1
	return &outcome{claimed: del, rec: store.AttemptRecord{Delivery: &next, Attempt: &store.Attempt{DeliveryID: del.ID, Attempt: 1}},
		dec: decision{state: store.DeliverySucceeded, outcome: store.OutcomeSuccess}}
}

// TestRecorderWritesWaitingOutcomesTogether: outcomes handed over while a
// write is syncing go in the next write together, up to record_batch; no
// delivery leaves the in-flight count before its own write returned.
func TestRecorderWritesWaitingOutcomesTogether(t *testing.T) {
	cfg := config.Defaults().Delivery
	cfg.RecordBatch, cfg.RecordLinger = 3, 0
	q := &gatedQueue{entered: make(chan struct{}), gate: make(chan struct{})}
	d := New(Options{Delivery: cfg, Queue: q})
	q.d = d
	d.unrecorded.Store(6)
	go d.recordLoop(context.Background())
	d.outcomes <- successOf(0)
	<-q.entered // the first write is syncing: the next five wait
	for i := 1; i <= 5; i++ {
		d.outcomes <- successOf(i)
	}
	if got := d.InFlight(); got != 6 {
		t.Fatalf("in flight %d while the first write syncs, want 6: nothing released before it is durable", got)
	}
	close(q.gate)
	close(d.outcomes)
	<-d.recDone
	if want := []int{1, 3, 2}; len(q.writes) != 3 || q.writes[0] != want[0] || q.writes[1] != want[1] || q.writes[2] != want[2] {
		t.Fatalf("writes of %v outcomes, want %v (the waiting ones together, at most record_batch)", q.writes, want)
	}
	if want := []int64{6, 5, 2}; q.inFlightAt[0] != want[0] || q.inFlightAt[1] != want[1] || q.inFlightAt[2] != want[2] {
		t.Fatalf("in flight when each write began: %v, want %v (released batch by batch)", q.inFlightAt, want)
	}
	if got := d.InFlight(); got != 0 {
		t.Fatalf("in flight %d after every write, want 0", got)
	}
}

// TestRecordedLogsDeadAtWarn: a recorded outcome's line is written at its
// level only (a delivery gone dead warns; a success is a debug line, not
// even formatted at the usual info level).
func TestRecordedLogsDeadAtWarn(t *testing.T) {
	var buf bytes.Buffer
	log := slog.New(slog.NewTextHandler(&buf, &slog.HandlerOptions{Level: slog.LevelInfo}))
	d := New(Options{Delivery: config.Defaults().Delivery, Queue: &gatedQueue{}, Log: log})
	for _, st := range []store.DeliveryState{store.DeliverySucceeded, store.DeliveryDead} {
		del := &store.Delivery{ID: "d-" + string(st), WebhookID: "w", CompanyID: 1, State: store.DeliveryInFlight}
		next := *del
		next.State, next.Attempts = st, 1
		d.unrecorded.Add(1)
		d.recorded(&outcome{claimed: del, rec: store.AttemptRecord{Delivery: &next, Attempt: &store.Attempt{DeliveryID: del.ID, Attempt: 1}},
			dec: decision{state: st}, status: 500, err: "boom"})
	}
	out := buf.String()
	if !strings.Contains(out, "level=WARN") || !strings.Contains(out, "delivery=d-dead:1") || strings.Contains(out, "d-succeeded") {
		t.Fatalf("log %q: want the dead delivery's warning only", out)
	}
}

// TestRecorderLingersOnlyForDeliveriesInFlight: with a record_linger, an
// outcome alone in flight is written at once, and one whose sibling is
// still in flight waits for it, so both go in one write.
func TestRecorderLingersOnlyForDeliveriesInFlight(t *testing.T) {
	cfg := config.Defaults().Delivery
	cfg.RecordLinger = time.Hour // only the outcomes in flight can end the wait
	q := &gatedQueue{entered: make(chan struct{}), gate: make(chan struct{})}
	close(q.gate)
	d := New(Options{Delivery: cfg, Queue: q})
	q.d = d
	go d.recordLoop(context.Background())
	// Handed over, an outcome's delivery no longer counts as sending.
	d.outcomes <- successOf(0)
	select {
	case <-q.entered:
	case <-time.After(10 * time.Second): // a failure's bound, not a pause
		t.Fatal("the only delivery in flight waited for outcomes that cannot come")
	}
	d.sending.Store(2)
	d.outcomes <- successOf(1)
	d.sending.Add(-1) // the sibling is still sending
	d.outcomes <- successOf(2)
	d.sending.Add(-1)
	close(d.outcomes)
	<-d.recDone
	if len(q.writes) != 2 || q.writes[0] != 1 || q.writes[1] != 2 {
		t.Fatalf("writes of %v outcomes, want [1 2] (the second waited for its sibling in flight)", q.writes)
	}
}

// blockedRecords is a store whose outcome writes wait until open is
// closed, like a disk that is full.
type blockedRecords struct {
	*badger.Store // with its filtered claim, so fairness applies
	open          chan struct{}
}

func (b *blockedRecords) RecordAttempts(ctx context.Context, recs []store.AttemptRecord) error {
	<-b.open
	return b.Store.RecordAttempts(ctx, recs)
}

func (b *blockedRecords) RecordAttempt(ctx context.Context, d *store.Delivery, a *store.Attempt) error {
	<-b.open
	return b.Store.RecordAttempt(ctx, d, a)
}

// blockedRig is a rig whose recorder cannot write until open is called
// (at the latest by the test's cleanup, before the rig's own).
func blockedRig(t *testing.T, cfg config.Delivery, hooks hookMap) (r *throttleRig, open func()) {
	t.Helper()
	st, clock := rigStore(t)
	blocked := &blockedRecords{Store: st, open: make(chan struct{})}
	r = throttleRigOn(t, blocked, clock, cfg, hooks, nil)
	var once sync.Once
	open = func() { once.Do(func() { close(blocked.open) }) }
	t.Cleanup(open) // its workers may wait on the recorder
	return r, open
}

// TestClaimsStopAtTwiceTheWorkersUnrecorded: a worker is free once it has
// handed its outcome over, but a recorder that cannot write stops the
// claims once twice the workers are claimed and not recorded, so the
// outcomes waiting in memory are bounded; nothing is lost once it writes.
func TestClaimsStopAtTwiceTheWorkersUnrecorded(t *testing.T) {
	cfg := rigConfig()   // 8 workers
	cfg.SpareWorkers = 0 // the company may use every worker: the global bound is what this checks
	r, open := blockedRig(t, cfg, hookMap{"h": hook("h", "", 0)})
	r.publish("h", 100)
	for range 10 {
		r.d.ClaimOnce(r.ctx)
		r.waitSent()
	}
	if got, want := r.sink.count("h"), 2*cfg.Workers; got != want {
		t.Fatalf("%d sent while the recorder could not write, want %d (twice the workers)", got, want)
	}
	if got := r.d.InFlight(); got != int64(2*cfg.Workers) {
		t.Fatalf("%d in flight, want %d: claimed and not recorded", got, 2*cfg.Workers)
	}
	open()
	for range 100 {
		if r.sink.count("h") == 100 && r.d.InFlight() == 0 {
			break
		}
		r.claim()
	}
	if got := len(r.attemptsOf("h")); got != 100 || r.sink.count("h") != 100 {
		t.Fatalf("%d attempts recorded and %d sent once the recorder could write, want 100 each", got, r.sink.count("h"))
	}
}

// TestOutcomesWaitingLeaveTheSpareWorkersToOthers: while the recorder
// cannot write, one company's outcomes waiting for it stop its claims at
// twice its limit, short of the dispatcher's bound, so another company's
// first delivery still gets a spare worker (BenchmarkCompanyBacklog: it
// waited for the recorder, tens of milliseconds, without this).
func TestOutcomesWaitingLeaveTheSpareWorkersToOthers(t *testing.T) {
	cfg := rigConfig() // 8 workers, 2 of them spare: company A's limit is 6
	b := hook("b", "", 0)
	b.CompanyID = 2
	r, open := blockedRig(t, cfg, hookMap{"a": hook("a", "", 0), "b": b})
	r.publish("a", 100)
	for range 10 {
		r.d.ClaimOnce(r.ctx)
		r.waitSent()
	}
	limit := cfg.Workers - cfg.SpareWorkers
	if got := r.sink.count("a"); got != 2*limit {
		t.Fatalf("company A sent %d while the recorder could not write, want %d (twice its limit)", got, 2*limit)
	}
	r.clock.add(time.Millisecond)
	r.publish("b", 1)
	r.d.ClaimOnce(r.ctx)
	r.waitSent()
	if got := r.sink.count("b"); got != 1 {
		t.Fatalf("company B sent %d of its 1 delivery while A's outcomes waited for the recorder: A took the spare room", got)
	}
	open()
}
