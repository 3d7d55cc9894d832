package main

// End-to-end figures of the real binary (make bench). Each benchmark runs one
// scenario and reports its figures with b.ReportMetric; run with -benchtime=1x.

import (
	"context"
	"fmt"
	"net/http"
	"os"
	"path/filepath"
	"strings"
	"sync/atomic"
	"syscall"
	"testing"
	"time"

	"github.com/hookgate/hookgate/internal/benchrun"
	"github.com/hookgate/hookgate/internal/procstat"
)

const benchConfig = `
server  { listen = "%s" }
storage { path = "%s" }
delivery {
  workers = 64
  allow_http = true
  allow_private_networks = true
}
# The benchmarks measure what the gateway can take, not one company's quota.
quotas { publish_rate = 0 }
` + acmePublisher + `%s
`

func benchWebhooks(n int, receiverURL string) string {
	var b strings.Builder
	for i := range n {
		fmt.Fprintf(&b, "webhook \"wh%d\" {\n  company_id = 100\n  url = \"%s/hook/%d\"\n  events = [\"workorder.created\"]\n}\n", i, receiverURL, i)
	}
	return b.String()
}

// waitCount waits until rc has received n requests, failing b after limit.
func waitCount(b *testing.B, rc *benchrun.Receiver, n int64, limit time.Duration) {
	if err := rc.WaitCount(context.Background(), n, limit); err != nil {
		b.Fatal(err)
	}
}

func startBenchGateway(b *testing.B, dir string, webhooks string) *child {
	addr := freePort(nil)
	cfgPath := filepath.Join(dir, "gateway.hcl")
	os.WriteFile(cfgPath, []byte(fmt.Sprintf(benchConfig, addr, filepath.Join(dir, "data"), webhooks)), 0o600)
	c := startChildTB(b, cfgPath, addr)
	b.Cleanup(func() { c.stop() })
	return c
}

// envelopeFor is the envelope of the real-binary tests: work order i of
// company 100, its natural size.
func envelopeFor(i int) []byte { return benchrun.Envelope(i, 0) }

// eachConcurrently calls fn(i) for i = 1..n from conc goroutines.
func eachConcurrently(n, conc int, fn func(i int)) {
	benchrun.EachConcurrently(context.Background(), n, conc, fn)
}

// publishAll sends n events round-robin over the gateways with conc
// concurrent producers; it fails the benchmark on any refusal.
func publishAll(b *testing.B, gws []*child, tok string, n, conc int) {
	var failed atomic.Int64
	client := benchrun.NewClient(conc)
	defer client.CloseIdleConnections()
	eachConcurrently(n, conc, func(i int) {
		if st, _, err := benchrun.Publish(context.Background(), client, gws[i%len(gws)].base, tok, envelopeFor(i)); err != nil || st != 202 {
			failed.Add(1)
		}
	})
	if failed.Load() > 0 {
		b.Fatalf("%d publishes failed", failed.Load())
	}
}

// BenchmarkDurableIngestHTTP: events/s accepted over HTTP into the real
// binary (each synced to disk before its 202, one delivery queued per
// event), 64 concurrent producers on the same 2 cores. Two figures:
// "queued", while the receiver holds every request (the workers wait, the
// deliveries pile up in the queue: what producers see when receivers are
// slow or down), and "delivering", while the gateway also delivers every
// event as fast as it can.
func BenchmarkDurableIngestHTTP(b *testing.B) {
	const n = 20000
	release := make(chan struct{})
	stalled := httptestServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		select {
		case <-release:
		case <-r.Context().Done():
		}
	}))
	defer stalled.Close()
	defer close(release) // before Close: let held requests end
	c := startBenchGateway(b, b.TempDir(), benchWebhooks(1, stalled.URL))
	tok := c.token(nil)
	start := time.Now()
	publishAll(b, []*child{c}, tok, n, 64)
	b.ReportMetric(float64(n)/time.Since(start).Seconds(), "queued-events/s")

	rc := benchrun.NewReceiver(false)
	srv := httptestServer(rc)
	defer srv.Close()
	c = startBenchGateway(b, b.TempDir(), benchWebhooks(1, srv.URL))
	tok = c.token(nil)
	start = time.Now()
	publishAll(b, []*child{c}, tok, n, 64)
	b.ReportMetric(float64(n)/time.Since(start).Seconds(), "delivering-events/s")
}

// traceOf is the traceId of a publish response body.
func traceOf(body []byte) string { return benchrun.TraceOf(body) }

// median of the figures (the upper middle one for an even count).
func median(v []float64) float64 { return benchrun.Median(v) }

// BenchmarkMillionQueued reports RSS idle, RSS with 1,000,000 deliveries
// queued, and the time from start to the first delivery with that queue.
func BenchmarkMillionQueued(b *testing.B) {
	rc := benchrun.NewReceiver(false)
	srv := httptestServer(rc)
	defer srv.Close()
	dir := b.TempDir()
	const hooks, events = 50, 20000 // 50 × 20,000 = 1,000,000 deliveries
	c := startBenchGateway(b, dir, benchWebhooks(hooks, srv.URL+"/closed"))
	time.Sleep(2 * time.Second) // let start-up work settle before reading idle RSS
	b.ReportMetric(float64(c.rss())/(1<<20), "idle-RSS-MB")
	b.ReportMetric(float64(c.rssWithSinks())/(1<<20), "idle-RSS-with-sinks-MB")
	c.stop()

	now := time.Now()
	prefill(b, filepath.Join(dir, "data"), hooks, events, 10, func(int) (time.Time, time.Time, int) { return now, now, 0 })

	start := time.Now()
	c = startBenchGateway(b, dir, benchWebhooks(hooks, srv.URL))
	select {
	case <-rc.First():
	case <-time.After(2 * time.Minute):
		b.Fatal("no delivery within 2 minutes of start")
	}
	b.ReportMetric(float64(time.Since(start).Milliseconds()), "start-to-first-delivery-ms")
	b.ReportMetric(float64(c.rss())/(1<<20), "RSS-1M-queued-MB")
}

// prefill writes events × hooks pending deliveries for webhooks wh0.. into
// the data folder at path while the gateway is stopped (benchrun.Prefill).
func prefill(b *testing.B, path string, hooks, events, batch int, at func(k int) (created, due time.Time, attempts int)) {
	if err := benchrun.Prefill(context.Background(), path, benchrun.HookNames(hooks), events, batch, 0, at); err != nil {
		b.Fatal(err)
	}
}

// httptestServer serves h on a loopback port (benchrun.Serve).
func httptestServer(h http.Handler) *benchrun.Server {
	s, err := benchrun.Serve(h)
	if err != nil {
		panic(err)
	}
	return s
}

// rss reads VmRSS of the gateway process.
func (c *child) rss() int64 { return procstat.Memory(c.cmd.Process.Pid, "VmRSS") }

// rssWithSinks adds the sink subprocesses' RSS.
func (c *child) rssWithSinks() int64 {
	total := c.rss()
	for _, pid := range procstat.Children(c.cmd.Process.Pid) {
		total += procstat.Memory(pid, "VmRSS")
	}
	return total
}

func (c *child) stop() {
	if c.cmd.ProcessState != nil {
		return
	}
	c.cmd.Process.Signal(syscall.SIGTERM)
	c.cmd.Wait()
}
