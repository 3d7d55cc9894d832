package badger_test

import (
	"bytes"
	"context"
	"fmt"
	"io"
	"log/slog"
	"os"
	"os/exec"
	"runtime"
	"runtime/debug"
	"strings"
	"sync"
	"sync/atomic"
	"syscall"
	"testing"
	"time"

	"github.com/google/uuid"
	"github.com/hookgate/hookgate/store"
	"github.com/hookgate/hookgate/store/badger"
)

// payload is a ~1.5 KB event envelope.
var payload = []byte(`{"event":{"name":"workorder.status.published","params":{"workorder_id":12345}},"timestamp":"2026-03-01T12:00:00Z","triggered_by_user":{"id":7},"workorder":{"id":12345,"title":"` +
	strings.Repeat("Replace the rooftop unit compressor; bring ladder. ", 26) + `"}}`)

func quietLogger() *slog.Logger { return slog.New(slog.NewTextHandler(io.Discard, nil)) }

func openBench(b testing.TB, dir string) *badger.Store {
	return openBenchSync(b, dir, 0)
}

// openBenchSync opens with outcomes synced at most syncDelay late (0:
// every group synced, as openBench).
func openBenchSync(b testing.TB, dir string, syncDelay time.Duration) *badger.Store {
	s, err := badger.Open(badger.Options{Path: dir, Logger: quietLogger(), OutcomeSyncDelay: syncDelay})
	if err != nil {
		b.Fatal(err)
	}
	return s
}

// benchItem is one event fanned out to fan deliveries.
func benchItem(fan int, now time.Time) store.IngestItem {
	ev := &store.Event{ID: uuid.NewString(), TraceID: uuid.NewString(), Name: "workorder.status.published",
		CompanyID: 1, WorkOrderID: 12345, Payload: payload, ReceivedAt: now}
	it := store.IngestItem{Event: ev}
	for i := range fan {
		it.Deliveries = append(it.Deliveries, &store.Delivery{ID: uuid.NewString(), EventID: ev.ID,
			WebhookID: fmt.Sprintf("wh-%d", i), CompanyID: 1, EventName: ev.Name, WorkOrderID: 12345,
			Priority: 1, DueAt: now, CreatedAt: now, UpdatedAt: now})
	}
	return it
}

// BenchmarkIngest: 64 concurrent producers, one event each call, fan-out
// 1–3, ~1.5 KB payload, each call durable before it returns.
func BenchmarkIngest(b *testing.B) {
	s := openBench(b, b.TempDir())
	defer s.Close()
	ctx := context.Background()
	var seq atomic.Int64
	b.SetParallelism(max(1, 64/runtime.GOMAXPROCS(0)))
	b.ReportAllocs()
	start := time.Now()
	b.RunParallel(func(pb *testing.PB) {
		for pb.Next() {
			n := seq.Add(1)
			idem := &store.Idempotency{Key: fmt.Sprintf("client\x00%d", n), Response: []byte(`{"ok":true}`), TTL: time.Hour}
			if _, err := s.Ingest(ctx, idem, []store.IngestItem{benchItem(1+int(n%3), time.Now())}); err != nil {
				b.Error(err)
				return
			}
		}
	})
	b.ReportMetric(float64(b.N)/time.Since(start).Seconds(), "events/s")
}

// BenchmarkRecordAttempt: 64 concurrent workers recording one attempt each
// call (half retries, half successes).
func BenchmarkRecordAttempt(b *testing.B) {
	s := openBench(b, b.TempDir())
	defer s.Close()
	ctx := context.Background()
	now := time.Now()
	for done := 0; done < b.N; done += 200 {
		items := make([]store.IngestItem, 0, 200)
		for range min(200, b.N-done) {
			items = append(items, benchItem(1, now))
		}
		if _, err := s.Ingest(ctx, nil, items); err != nil {
			b.Fatal(err)
		}
	}
	ds := make(chan *store.Delivery, b.N)
	for {
		got, err := s.ClaimDue(ctx, 1, now, 1000)
		if err != nil {
			b.Fatal(err)
		}
		if len(got) == 0 {
			break
		}
		for _, d := range got {
			ds <- d
		}
	}
	b.SetParallelism(max(1, 64/runtime.GOMAXPROCS(0)))
	b.ReportAllocs()
	b.ResetTimer()
	start := time.Now()
	b.RunParallel(func(pb *testing.PB) {
		for pb.Next() {
			d := <-ds
			a := &store.Attempt{DeliveryID: d.ID, Attempt: 1, WebhookID: d.WebhookID, CompanyID: 1, EventID: d.EventID,
				EventName: d.EventName, WorkOrderID: d.WorkOrderID, RequestURL: "https://example.test/hook",
				RequestMethod: "POST", RequestHeaders: map[string]string{"Content-Type": "application/json"},
				RequestBody: payload, ResponseStatus: 200, ResponseBody: []byte(`{"ok":true}`), DurationMs: 40, CreatedAt: time.Now()}
			next := *d
			next.Attempts = 1
			if d.ID[0]%2 == 0 {
				a.Outcome, next.State = store.OutcomeSuccess, store.DeliverySucceeded
			} else {
				a.ResponseStatus, a.Outcome, next.State, next.DueAt = 503, store.OutcomeRetry, store.DeliveryPending, now.Add(time.Minute)
			}
			if err := s.RecordAttempt(ctx, &next, a); err != nil {
				b.Error(err)
				return
			}
		}
	})
	b.ReportMetric(float64(b.N)/time.Since(start).Seconds(), "attempts/s")
}

// TestQueueMillion (HOOKGATE_BENCH_BIG=1) queues 1,000,000 deliveries
// (333,334 events of ~1.5 KB, fan-out 3), then measures in a fresh process
// the RSS after open and the time from open to the first ClaimDue batch.
func TestQueueMillion(t *testing.T) {
	if dir := os.Getenv("HOOKGATE_BENCH_REOPEN"); dir != "" {
		reopenAndClaim(t, dir)
		return
	}
	if os.Getenv("HOOKGATE_BENCH_BIG") != "1" {
		t.Skip("set HOOKGATE_BENCH_BIG=1 to queue a million deliveries")
	}
	dir := t.TempDir()
	s := openBench(t, dir)
	ctx := context.Background()
	now := time.Now()
	start := time.Now()
	const total = 1_000_000
	queued := 0
	for queued < total {
		// 64 producers of 1-event calls would take as long; batches of 100
		// events keep the setup short (the figure of interest is the reopen).
		items := make([]store.IngestItem, 0, 100)
		for range 100 {
			items = append(items, benchItem(min(3, total-queued), now))
			queued += len(items[len(items)-1].Deliveries)
			if queued >= total {
				break
			}
		}
		if _, err := s.Ingest(ctx, nil, items); err != nil {
			t.Fatal(err)
		}
	}
	t.Logf("queued %d deliveries in %v", queued, time.Since(start))
	runtime.GC()
	debug.FreeOSMemory()
	depth, _ := s.QueueDepth(ctx)
	t.Logf("writer: depth %v, %s, Go heap in use %s", depth, vmRSS(), heapInUse())
	if err := s.Close(); err != nil {
		t.Fatal(err)
	}
	t.Logf("data folder: %s", du(dir))

	cmd := exec.Command(os.Args[0], "-test.run=^TestQueueMillion$", "-test.v")
	cmd.Env = append(os.Environ(), "HOOKGATE_BENCH_REOPEN="+dir)
	var out bytes.Buffer
	cmd.Stdout, cmd.Stderr = &out, &out
	if err := cmd.Run(); err != nil {
		t.Fatalf("reopen process: %v\n%s", err, out.String())
	}
	t.Logf("reopen process:\n%s", out.String())
}

// TestIdleRSS reports the RSS of a freshly opened empty store.
func TestIdleRSS(t *testing.T) {
	if os.Getenv("HOOKGATE_BENCH_BIG") != "1" {
		t.Skip("set HOOKGATE_BENCH_BIG=1")
	}
	before := vmRSS()
	s := openBench(t, t.TempDir())
	time.Sleep(time.Second)
	runtime.GC()
	debug.FreeOSMemory()
	t.Logf("before open: %s; empty store open: %s, Go heap in use %s", before, vmRSS(), heapInUse())
	if err := s.Close(); err != nil {
		t.Fatal(err)
	}
}

func reopenAndClaim(t *testing.T, dir string) {
	ctx := context.Background()
	t.Logf("before open: %s", vmRSS())
	start := time.Now()
	s := openBench(t, dir)
	opened := time.Since(start)
	depth, _ := s.QueueDepth(ctx)
	ds, err := s.ClaimDue(ctx, 1, time.Now(), 100)
	if err != nil || len(ds) != 100 {
		t.Fatalf("ClaimDue: %d, %v", len(ds), err)
	}
	first := time.Since(start)
	t.Logf("open %v, open→first claim of 100: %v, depth %v, %s", opened, first, depth, vmRSS())
	c0 := time.Now()
	for range 100 {
		if _, err := s.ClaimDue(ctx, 1, time.Now(), 100); err != nil {
			t.Fatal(err)
		}
	}
	t.Logf("100 more claims of 100: %v; %s", time.Since(c0), vmRSS())
	time.Sleep(2 * time.Second) // let compactions settle, then the idle figure
	runtime.GC()
	debug.FreeOSMemory()
	t.Logf("idle after 2s: %s, Go heap in use %s", vmRSS(), heapInUse())
	if err := s.Close(); err != nil {
		t.Fatal(err)
	}
}

func vmRSS() string {
	b, _ := os.ReadFile("/proc/self/status")
	var out []string
	for _, l := range strings.Split(string(b), "\n") {
		for _, f := range []string{"VmRSS:", "RssAnon:", "RssFile:"} {
			if strings.HasPrefix(l, f) {
				out = append(out, f+" "+strings.TrimSpace(strings.TrimPrefix(l, f)))
			}
		}
	}
	return strings.Join(out, " ")
}

func heapInUse() string {
	var m runtime.MemStats
	runtime.ReadMemStats(&m)
	return fmt.Sprintf("%d MB", m.HeapInuse>>20)
}

func du(dir string) string {
	out, err := exec.Command("du", "-sh", dir).Output()
	if err != nil {
		return err.Error()
	}
	return strings.Fields(string(out))[0]
}

// BenchmarkDeliveryCycle: 64 concurrent callers, each call one whole
// delivery: Ingest of an event with one delivery (durable), ClaimDue of one,
// GetEvent, RecordAttempt (success, durable). Reports process CPU per cycle
// (all goroutines, badger's included), the figure the gateway pays.
func BenchmarkDeliveryCycle(b *testing.B) {
	s := openBench(b, b.TempDir())
	defer s.Close()
	ctx := context.Background()
	b.SetParallelism(max(1, 64/runtime.GOMAXPROCS(0)))
	b.ReportAllocs()
	b.ResetTimer()
	cpu0, start := cpuTime(), time.Now()
	b.RunParallel(func(pb *testing.PB) {
		for pb.Next() {
			now := time.Now()
			if _, err := s.Ingest(ctx, nil, []store.IngestItem{benchItem(1, now)}); err != nil {
				b.Error(err)
				return
			}
			// Our own ingest is committed, so at least one delivery is
			// unclaimed (each caller claims one per ingest). now is an hour
			// ahead so that all of them are due: a claim that waits for the
			// claim lock with time.Now() may find only deliveries created
			// after its now.
			if !deliverOne(b, s, time.Now().Add(time.Hour)) {
				return
			}
		}
	})
	el := time.Since(start)
	b.ReportMetric(float64(b.N)/el.Seconds(), "cycles/s")
	b.ReportMetric(float64((cpuTime()-cpu0).Microseconds())/float64(b.N), "cpu-µs/cycle")
}

// deliverOne does what a gateway worker does with the store for one
// delivery: claims one due at now, then finishOne. False (and the
// benchmark failed) on error or when nothing was due.
func deliverOne(b *testing.B, s *badger.Store, now time.Time) bool {
	got, err := s.ClaimDue(context.Background(), 1, now, 1)
	if err != nil || len(got) != 1 {
		b.Errorf("ClaimDue: %d, %v", len(got), err)
		return false
	}
	return finishOne(b, s, got[0])
}

// finishOne reads a claimed delivery's event and records a successful
// attempt, as a gateway worker does after the request.
func finishOne(b *testing.B, s drainStore, d *store.Delivery) bool {
	next, a, ok := attemptOf(b, s, d)
	if !ok {
		return false
	}
	if err := s.RecordAttempt(context.Background(), next, a); err != nil {
		b.Error(err)
		return false
	}
	return true
}

// attemptOf reads a claimed delivery's event and returns the delivery's
// new state and the record of a successful attempt.
func attemptOf(b *testing.B, s drainStore, d *store.Delivery) (*store.Delivery, *store.Attempt, bool) {
	ev, err := s.GetEvent(context.Background(), d.EventID)
	if err != nil {
		b.Error(err)
		return nil, nil, false
	}
	at := time.Now()
	a := &store.Attempt{DeliveryID: d.ID, Attempt: d.Attempts + 1, WebhookID: d.WebhookID, CompanyID: d.CompanyID,
		EventID: d.EventID, EventName: d.EventName, WorkOrderID: d.WorkOrderID, RequestURL: "https://example.test/hook",
		RequestMethod: "POST", RequestHeaders: map[string]string{"Content-Type": "application/json"},
		RequestBody: ev.Payload, RequestBodyIsPayload: true, ResponseStatus: 200, ResponseBody: []byte(`{"ok":true}`),
		Outcome: store.OutcomeSuccess, DurationMs: 40, CreatedAt: at}
	next := *d
	next.Attempts, next.State, next.LastStatus, next.UpdatedAt = d.Attempts+1, store.DeliverySucceeded, 200, at
	return &next, a, true
}

// BenchmarkDrainBacklog: the store's share of draining a backlog. Each
// iteration writes 20,000 pending deliveries (one per event, ~1.5 KB
// payloads) with the store, reopens it so they are read from tables on disk
// as after an outage, and drains them as the gateway does (drain). Reports
// deliveries/s and the process's CPU per delivery (badger's goroutines
// included).
func BenchmarkDrainBacklog(b *testing.B) { benchDrain(b, false, 0) }

// BenchmarkDrainBacklogRecorder is BenchmarkDrainBacklog with the
// gateway's recorder: workers hand their outcomes to one goroutine that
// writes all those waiting with one RecordAttempts, and a worker's slot is
// freed once its outcome is written (gateway/delivery/recorder.go), and
// outcomes are synced at most 200ms late, the gateway's default
// storage.outcome_sync_delay (commit.go, "Outcomes").
func BenchmarkDrainBacklogRecorder(b *testing.B) { benchDrain(b, true, 200*time.Millisecond) }

// BenchmarkDrainBacklogRecorderSyncEach is BenchmarkDrainBacklogRecorder
// with storage.outcome_sync_delay 0: every group of outcomes synced before
// its workers go on, as before the delay existed.
func BenchmarkDrainBacklogRecorderSyncEach(b *testing.B) { benchDrain(b, true, 0) }

func benchDrain(b *testing.B, recorder bool, syncDelay time.Duration) {
	benchDrainOf(b, recorder, syncDelay, payload)
}

// benchDrainOf is benchDrain with events of payload pl.
func benchDrainOf(b *testing.B, recorder bool, syncDelay time.Duration, pl []byte) {
	const n, batch = 20000, 200
	ctx := context.Background()
	var cost drainCost
	var keys uint64
	for range b.N {
		b.StopTimer()
		dir := b.TempDir()
		s := openBench(b, dir)
		now := time.Now()
		for i := 0; i < n; i += batch {
			items := make([]store.IngestItem, batch)
			for k := range items {
				// A microsecond apart, as a real backlog is: deliveries
				// due at the same instant are a different case (see
				// docs/storage.md, "Queue").
				items[k] = benchItem(1, now.Add(time.Duration(i+k)*time.Microsecond))
				items[k].Event.Payload = pl
			}
			if _, err := s.Ingest(ctx, nil, items); err != nil {
				b.Fatal(err)
			}
		}
		s.Close()
		s = openBenchSync(b, dir, syncDelay)
		b.StartTimer()
		keys0 := s.KeyWrites()
		cost.drain(b, s, n, now.Add(time.Hour), recorder)
		keys += s.KeyWrites() - keys0
		b.StopTimer()
		s.Close()
	}
	cost.report(b, n)
	b.ReportMetric(float64(keys)/float64(b.N*n), "keys/delivery")
}

// drainCost adds up what a benchmark's drains cost the process.
type drainCost struct {
	cpu, wall time.Duration
	allocs    uint64
}

// drain runs drain and adds its CPU, wall time and allocations.
func (c *drainCost) drain(b *testing.B, s drainStore, n int, now time.Time, recorder bool) {
	allocs0 := mallocs()
	cpu0, start := cpuTime(), time.Now()
	drain(b, s, n, now, recorder)
	c.cpu += cpuTime() - cpu0
	c.wall += time.Since(start)
	c.allocs += mallocs() - allocs0
}

// report reports deliveries/s, the process's CPU and allocations per
// delivery over b.N drains of n deliveries.
func (c drainCost) report(b *testing.B, n int) {
	total := float64(b.N * n)
	b.ReportMetric(total/c.wall.Seconds(), "deliveries/s")
	b.ReportMetric(float64(c.cpu.Microseconds())/total, "cpu-µs/delivery")
	b.ReportMetric(float64(c.allocs)/total, "allocs/delivery")
}

func mallocs() uint64 {
	var m runtime.MemStats
	runtime.ReadMemStats(&m)
	return m.Mallocs
}

// drainStore is what drain needs of a store: the Store, or a prototype
// measured beside it (logproto_bench_test.go).
type drainStore interface {
	ClaimDue(ctx context.Context, priority int, now time.Time, limit int) ([]*store.Delivery, error)
	GetEvent(ctx context.Context, eventID string) (*store.Event, error)
	RecordAttempt(ctx context.Context, d *store.Delivery, a *store.Attempt) error
	RecordAttempts(ctx context.Context, recs []store.AttemptRecord) error
}

// drain claims as the gateway's dispatcher does (one claimer, as many at a
// time as workers are free) and finishes each delivery in one of 64
// workers, until n are done: each worker records its own attempt, or with
// recorder hands it to one goroutine that writes all those waiting at once.
func drain(b *testing.B, s drainStore, n int, now time.Time, recorder bool) {
	const workers = 64
	work := make(chan *store.Delivery, workers)
	freed := make(chan struct{}, workers)
	outcomes := make(chan store.AttemptRecord, workers)
	var wg sync.WaitGroup
	for range workers {
		wg.Go(func() {
			for d := range work {
				if !recorder {
					finishOne(b, s, d)
					freed <- struct{}{}
					continue
				}
				next, a, ok := attemptOf(b, s, d)
				if ok {
					outcomes <- store.AttemptRecord{Delivery: next, Attempt: a}
				}
			}
		})
	}
	recDone := make(chan struct{})
	go func() {
		defer close(recDone)
		var recs []store.AttemptRecord
		for r := range outcomes {
			recs = append(recs[:0], r)
			for more := true; more && len(recs) < 256; {
				select {
				case r, ok := <-outcomes:
					if more = ok; ok {
						recs = append(recs, r)
					}
				default:
					more = false
				}
			}
			if err := s.RecordAttempts(context.Background(), recs); err != nil {
				b.Error(err)
			}
			for range recs {
				freed <- struct{}{}
			}
		}
	}()
	defer func() { close(outcomes); <-recDone }()
	for claimed, free := 0, workers; claimed < n; {
		got, err := s.ClaimDue(context.Background(), 1, now, free)
		if err != nil {
			b.Fatal(err)
		}
		for _, d := range got {
			work <- d
		}
		claimed, free = claimed+len(got), free-len(got)
		if len(got) == 0 && free == workers {
			b.Fatalf("nothing left to claim after %d of %d", claimed, n)
		}
		if free == 0 || len(got) == 0 {
			<-freed // wait for a worker; take every other slot freed meanwhile
			free++
			for more := true; more; {
				select {
				case <-freed:
					free++
				default:
					more = false
				}
			}
		}
	}
	close(work)
	wg.Wait()
}

// cpuTime is the process's user+system CPU time so far.
func cpuTime() time.Duration {
	var ru syscall.Rusage
	if err := syscall.Getrusage(syscall.RUSAGE_SELF, &ru); err != nil {
		return 0
	}
	return time.Duration(ru.Utime.Nano() + ru.Stime.Nano())
}
