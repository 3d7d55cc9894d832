package ingest

import (
	"context"
	"runtime"
	"syscall"
	"testing"
	"time"

	"github.com/hookgate/hookgate/store"
	"github.com/hookgate/hookgate/store/badger"
)

// BenchmarkParseEnvelope measures parsing the spec's example envelope:
// ParseEnvelope (the one-pass fast path) against parseEnvelopeSlow (strict
// checks plus encoding/json, the path every refusal takes).
func BenchmarkParseEnvelope(b *testing.B) {
	env := seed(b, "workorder.created")
	for _, c := range []struct {
		name  string
		parse func([]byte) (Parsed, error)
	}{{"fast", ParseEnvelope}, {"slow", parseEnvelopeSlow}} {
		b.Run(c.name, func(b *testing.B) {
			b.ReportAllocs()
			b.SetBytes(int64(len(env)))
			for b.Loop() {
				if _, err := c.parse(env); err != nil {
					b.Fatal(err)
				}
			}
		})
	}
}

// BenchmarkPublishBatch measures a bulk publish past the HTTP layer:
// PublishBatch of 500 seed envelopes (api.max_batch_events), each with
// one subscribed webhook, into a real Badger folder; an op is one batch,
// the /event figures are per envelope (CPU and allocations of the whole
// process, Badger's goroutines included). One batch at a time: its sync
// is in ns/event, not in cpu-µs/event.
func BenchmarkPublishBatch(b *testing.B) {
	st, err := badger.Open(badger.Options{Path: b.TempDir()})
	if err != nil {
		b.Fatal(err)
	}
	defer st.Close()
	svc := New(Options{
		Store: st, Clock: fixedClock{time.Date(2026, 1, 20, 9, 0, 0, 0, time.UTC)},
		Subscribers: oneHook{&store.Webhook{WebhookID: "w1", CompanyID: 100}},
	})
	env := seed(b, "workorder.created")
	rs := make([]Request, 500)
	for i := range rs {
		rs[i] = Request{Company: 100, ClientID: "c", Body: env}
	}
	ctx := context.Background()
	b.ReportAllocs()
	var m0, m1 runtime.MemStats
	runtime.ReadMemStats(&m0)
	cpu0 := cpuTime()
	for b.Loop() {
		for i, o := range svc.PublishBatch(ctx, rs) {
			if o.Err != nil {
				b.Fatalf("item %d: %v", i, o.Err)
			}
		}
	}
	cpu := cpuTime() - cpu0
	runtime.ReadMemStats(&m1)
	n := float64(b.N * len(rs))
	b.ReportMetric(float64(cpu.Microseconds())/n, "cpu-µs/event")
	b.ReportMetric(float64(b.Elapsed().Nanoseconds())/n, "ns/event")
	b.ReportMetric(float64(m1.Mallocs-m0.Mallocs)/n, "allocs/event")
}

// cpuTime is the process's user and system CPU time so far.
func cpuTime() time.Duration {
	var ru syscall.Rusage
	if err := syscall.Getrusage(syscall.RUSAGE_SELF, &ru); err != nil {
		return 0
	}
	return time.Duration(ru.Utime.Nano() + ru.Stime.Nano())
}
