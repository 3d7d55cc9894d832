package delivery

import (
	"context"
	"io"
	"log/slog"
	"path/filepath"
	"sync"
	"sync/atomic"
	"syscall"
	"testing"
	"time"

	"github.com/hookgate/hookgate/config"
	"github.com/hookgate/hookgate/events"
	"github.com/hookgate/hookgate/gateway/webhooks"
	"github.com/hookgate/hookgate/internal/benchrun"
	"github.com/hookgate/hookgate/plugins/sdk"
	"github.com/hookgate/hookgate/store"
	"github.com/hookgate/hookgate/store/badger"
	"github.com/hookgate/hookgate/transforms"
)

// BenchmarkDispatch drains a backlog of b.N deliveries written before the
// dispatcher starts (their events are not in the cache, as in `hookgate
// bench`'s drain) through the gateway's side of a delivery: claims,
// reading the event, the bench's template, headers and signature, the
// handover to a sink that answers from another goroutine (as the stream's
// receive loop does), the decision and the recorder. What is left out is
// the claim scan and Badger's write path (the backlog is claimed at once
// beforehand, outcomes are counted, not written) and the sink process,
// each measured elsewhere (store/badger's BenchmarkDrainBacklog,
// plugins/host's BenchmarkDeliverViaPlugin). It reports this process's
// CPU per delivery, which moves much less than the rate on a shared
// machine; run it with -benchtime 20000x.
func BenchmarkDispatch(b *testing.B) {
	path := filepath.Join(b.TempDir(), "data")
	now := time.Now()
	if err := benchrun.Prefill(context.Background(), path, benchrun.HookNames(1), b.N, 200, benchrun.DefaultPayloadSize,
		func(int) (time.Time, time.Time, int) { return now, now, 0 }); err != nil {
		b.Fatal(err)
	}
	log := slog.New(slog.NewTextHandler(io.Discard, nil))
	st, err := badger.Open(badger.Options{Path: path, Logger: log})
	if err != nil {
		b.Fatal(err)
	}
	defer st.Close()
	tr, err := transforms.New(transforms.Options{Timeout: 5 * time.Second})
	if err != nil {
		b.Fatal(err)
	}
	w := &store.Webhook{WebhookID: webhooks.ConfigWebhookID(benchrun.HookNames(1)[0]), CompanyID: 100, URL: "http://127.0.0.1:1/hook",
		Method: "POST", Status: store.StatusActive, Secret: "whsec-bench", Sink: "http", PayloadTemplate: benchrun.PayloadTemplate, Version: 1}
	// Claimed beforehand: the claim scan is the store's (store/badger's
	// BenchmarkDrainBacklog), and a scan past b.N unrecorded claims would
	// measure nothing real.
	backlog, err := st.ClaimDue(context.Background(), int(events.PriorityNormal), time.Now(), b.N)
	if err != nil || len(backlog) != b.N {
		b.Fatalf("claimed %d of %d: %v", len(backlog), b.N, err)
	}
	q := &backlogQueue{Queue: st, backlog: backlog, done: make(chan struct{}), want: int64(b.N)}
	sink := newAsyncSink()
	defer sink.close()
	cfg := config.Defaults().Delivery
	d := New(Options{Delivery: cfg, LogMaxBody: 64 << 10, Queue: q, Webhooks: oneWebhook{w}, Sinks: sink,
		Transformer: tr, Events: NewEventCache(cfg.EventCacheBytes), Log: log})
	b.ReportAllocs()
	cpu0 := processCPU()
	b.ResetTimer()
	d.Start()
	select {
	case <-q.done:
	case <-time.After(10 * time.Minute):
		b.Fatalf("drained %d of %d", q.n.Load(), b.N)
	}
	b.StopTimer()
	cpu := processCPU() - cpu0
	d.Stop(context.Background())
	b.ReportMetric(float64(cpu.Microseconds())/float64(b.N), "cpu-µs/delivery")
}

// backlogQueue hands out a backlog claimed beforehand, reads events from a
// real store and only counts the outcomes it is asked to record.
type backlogQueue struct {
	Queue
	mu      sync.Mutex
	backlog []*store.Delivery
	n       atomic.Int64
	want    int64
	done    chan struct{}
}

func (q *backlogQueue) ClaimDue(_ context.Context, _ int, _ time.Time, limit int) ([]*store.Delivery, error) {
	q.mu.Lock()
	defer q.mu.Unlock()
	n := min(limit, len(q.backlog))
	out := q.backlog[:n:n]
	q.backlog = q.backlog[n:]
	return out, nil
}

func (q *backlogQueue) RecordAttempt(context.Context, *store.Delivery, *store.Attempt) error {
	q.add(1)
	return nil
}

func (q *backlogQueue) RecordAttempts(_ context.Context, recs []store.AttemptRecord) error {
	q.add(len(recs))
	return nil
}

func (q *backlogQueue) add(n int) {
	if q.n.Add(int64(n)) == q.want {
		close(q.done)
	}
}

type oneWebhook struct{ w *store.Webhook }

func (o oneWebhook) Get(id string) *store.Webhook {
	if id == o.w.WebhookID {
		return o.w
	}
	return nil
}

// asyncSink answers every request with 200 from its own goroutine, so the
// caller waits for a hand-over as it does for the sink stream's answer.
type asyncSink struct {
	in   chan asyncCall
	stop chan struct{}
	done chan struct{}
}

type asyncCall struct {
	req *sdk.Request
	out chan *sdk.Result
}

func newAsyncSink() *asyncSink {
	s := &asyncSink{in: make(chan asyncCall, 1024), stop: make(chan struct{}), done: make(chan struct{})}
	go func() {
		defer close(s.done)
		for {
			select {
			case c := <-s.in:
				c.out <- &sdk.Result{Status: 200, Headers: map[string]string{"Content-Type": "application/json"}, Body: []byte(`{"ok":true}`), BodySize: 11}
			case <-s.stop:
				return
			}
		}
	}()
	return s
}

func (s *asyncSink) Deliver(ctx context.Context, _ string, req *sdk.Request) (*sdk.Result, error) {
	c := asyncCall{req: req, out: make(chan *sdk.Result, 1)}
	select {
	case s.in <- c:
	case <-ctx.Done():
		return nil, ctx.Err()
	}
	select {
	case r := <-c.out:
		return r, nil
	case <-ctx.Done():
		return nil, ctx.Err()
	}
}

func (s *asyncSink) close() { close(s.stop); <-s.done }

// processCPU is this process's user+system CPU time so far.
func processCPU() time.Duration {
	var ru syscall.Rusage
	if err := syscall.Getrusage(syscall.RUSAGE_SELF, &ru); err != nil {
		return 0
	}
	return time.Duration(ru.Utime.Nano() + ru.Stime.Nano())
}
