package main

// End-to-end figures of the real binary (make bench). Each benchmark runs one
// scenario and reports its figures with b.ReportMetric; run with -benchtime=1x.

import (
	"bytes"
	"context"
	"fmt"
	"io"
	"net"
	"net/http"
	"os"
	"path/filepath"
	"slices"
	"strconv"
	"strings"
	"sync"
	"sync/atomic"
	"syscall"
	"testing"
	"time"

	"github.com/google/uuid"

	"github.com/hookgate/hookgate/gateway"
	"github.com/hookgate/hookgate/internal/procstat"
	"github.com/hookgate/hookgate/store"
	"github.com/hookgate/hookgate/store/badger"
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

// countingReceiver answers 200 and counts; made by newTimingReceiver it also
// notes when each trace id first arrived.
type countingReceiver struct {
	n     atomic.Int64
	mu    sync.Mutex
	times map[string]time.Time // trace id -> first received
	first chan struct{}
	once  sync.Once
}

// newCountingReceiver counts requests and does nothing else, so that the
// gateway's requests and the plain client's cost it the same.
func newCountingReceiver() *countingReceiver {
	return &countingReceiver{first: make(chan struct{})}
}

// newTimingReceiver also notes when each trace id first arrived (latency).
func newTimingReceiver() *countingReceiver {
	r := newCountingReceiver()
	r.times = map[string]time.Time{}
	return r
}

func (r *countingReceiver) ServeHTTP(w http.ResponseWriter, req *http.Request) {
	io.Copy(io.Discard, req.Body)
	if r.times != nil {
		now := time.Now()
		r.mu.Lock()
		if tr := req.Header.Get("X-FN-Event-Trace-Id"); tr != "" {
			if _, ok := r.times[tr]; !ok {
				r.times[tr] = now
			}
		}
		r.mu.Unlock()
	}
	r.n.Add(1)
	r.once.Do(func() { close(r.first) })
	w.WriteHeader(200)
}

func (r *countingReceiver) waitCount(b *testing.B, n int64, limit time.Duration) {
	deadline := time.Now().Add(limit)
	for r.n.Load() < n {
		if time.Now().After(deadline) {
			b.Fatalf("receiver got %d of %d within %v", r.n.Load(), n, limit)
		}
		time.Sleep(5 * time.Millisecond)
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

func envelopeFor(i int) []byte {
	return []byte(fmt.Sprintf(`{"event":{"name":"workorder.created","params":{"work_order_id":%d,"work_order_company_id":100}},`+
		`"timestamp":"2026-01-20T08:55:58-06:00","triggered_by_user":{"id":1068},"workorder":{"id":%d,"title":"Router Installation - Site 42",`+
		`"status":{"id":2,"name":"Published"},"company":{"id":100,"name":"Acme Corporation"},"location":{"city":"San Francisco","state":"CA","zip":"94105","country":"US"}}}`, i, i))
}

// eachConcurrently calls fn(i) for i = 1..n from conc goroutines, each
// taking the next i, and returns when all are done.
func eachConcurrently(n, conc int, fn func(i int)) {
	var next atomic.Int64
	var wg sync.WaitGroup
	for range conc {
		wg.Go(func() {
			for i := int(next.Add(1)); i <= n; i = int(next.Add(1)) {
				fn(i)
			}
		})
	}
	wg.Wait()
}

// publishAll sends n events round-robin over the gateways with conc
// concurrent producers; it fails the benchmark on any refusal.
func publishAll(b *testing.B, gws []*child, tok string, n, conc int) {
	var failed atomic.Int64
	client := &http.Client{Transport: &http.Transport{MaxIdleConnsPerHost: conc}}
	defer client.CloseIdleConnections()
	eachConcurrently(n, conc, func(i int) {
		req, _ := http.NewRequest("POST", gws[i%len(gws)].base+"/api/v1/events", bytes.NewReader(envelopeFor(i)))
		req.Header.Set("Authorization", "Bearer "+tok)
		req.Header.Set("Content-Type", "application/json")
		resp, err := client.Do(req)
		if err != nil || resp.StatusCode != 202 {
			failed.Add(1)
		}
		if resp != nil {
			io.Copy(io.Discard, resp.Body)
			resp.Body.Close()
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

	rc := newCountingReceiver()
	srv := httptestServer(rc)
	defer srv.Close()
	c = startBenchGateway(b, b.TempDir(), benchWebhooks(1, srv.URL))
	tok = c.token(nil)
	start = time.Now()
	publishAll(b, []*child{c}, tok, n, 64)
	b.ReportMetric(float64(n)/time.Since(start).Seconds(), "delivering-events/s")
}

// BenchmarkEndToEnd compares deliveries/s through the gateway with a plain
// Go HTTP client posting the same bodies to the same loopback receiver at
// the same concurrency (64, the gateway's worker count). Two gateway figures:
//
//   - drain: the deliveries were accepted before the clock starts (written
//     to the data folder with the gateway stopped, as a backlog after an
//     outage would be); the clock runs from the first delivery received to
//     the last. This is the delivery path alone — claim, template, signing,
//     the http sink plugin, the durable attempt record — and the figure the
//     target (≥ 40 % of the plain client) is checked against, because the
//     plain client is not publishing either.
//   - publish: producers publish over HTTP while the gateway delivers, so
//     every delivery also pays for a publish (with HOOKGATE_BENCH_FANOUT=N,
//     one publish per N deliveries).
//
// The machine's speed drifts by more than the figures differ between
// builds, so the plain client and the drain run in three adjacent pairs and
// every figure is the median of the three; the ratios are medians of the
// pairs' ratios, each taken from a plain run and the drain right after it.
func BenchmarkEndToEnd(b *testing.B) {
	const n, pairs = 40000, 3
	rc := newCountingReceiver()
	srv := httptestServer(rc)
	defer srv.Close()

	var plain, plainCPU, drain, ratio, gwUS, sinkUS, rcUS, cpuRatio []float64
	for range pairs {
		p, pc := plainRun(srv.URL+"/hook/0", n)
		d := drainRun(b, rc, srv.URL, n)
		plain, plainCPU, drain = append(plain, p), append(plainCPU, pc), append(drain, d.rate)
		ratio = append(ratio, 100*d.rate/p)
		gwUS, sinkUS, rcUS = append(gwUS, d.gateway), append(sinkUS, d.sink), append(rcUS, d.receiver)
		cpuRatio = append(cpuRatio, 100*pc/(d.gateway+d.sink+d.receiver))
	}
	b.ReportMetric(median(plain), "plain-deliveries/s")
	b.ReportMetric(median(plainCPU), "plain-cpu-us/request")
	b.ReportMetric(median(drain), "drain-deliveries/s")
	b.ReportMetric(median(ratio), "drain-%-of-plain")
	b.ReportMetric(slices.Min(ratio), "drain-%-of-plain-min")
	b.ReportMetric(slices.Max(ratio), "drain-%-of-plain-max")
	b.ReportMetric(median(gwUS), "drain-gateway-cpu-us/delivery")
	b.ReportMetric(median(sinkUS), "drain-sink-cpu-us/delivery")
	b.ReportMetric(median(rcUS), "drain-receiver-cpu-us/delivery")
	b.ReportMetric(median(cpuRatio), "drain-cpu-%-of-plain")

	fanOut := 1
	if v, err := strconv.Atoi(os.Getenv("HOOKGATE_BENCH_FANOUT")); err == nil && v > 0 {
		fanOut = v
	}
	// Publish while delivering.
	rc.n.Store(0)
	total := n / fanOut * fanOut
	c := startBenchGateway(b, b.TempDir(), benchWebhooks(fanOut, srv.URL))
	tok := c.token(nil)
	gwCPU, sinkCPU := c.cpu()
	start := time.Now()
	publishAll(b, []*child{c}, tok, n/fanOut, 64)
	rc.waitCount(b, int64(total), 5*time.Minute)
	gw := float64(total) / time.Since(start).Seconds()
	gwCPU2, sinkCPU2 := c.cpu()
	b.ReportMetric(gw, "publish-deliveries/s")
	b.ReportMetric(100*gw/median(plain), "publish-%-of-plain")
	b.ReportMetric(float64((gwCPU2-gwCPU).Microseconds())/float64(total), "publish-gateway-cpu-us/delivery")
	b.ReportMetric(float64((sinkCPU2-sinkCPU).Microseconds())/float64(total), "publish-sink-cpu-us/delivery")
}

// median of three or more figures (the upper middle one for an even count).
func median(v []float64) float64 {
	s := slices.Clone(v)
	slices.Sort(s)
	return s[len(s)/2]
}

// plainRun is plainRate plus the CPU this process (client and receiver)
// spent per request.
func plainRun(url string, n int) (rate, cpuUSPerRequest float64) {
	cpu0 := procstat.CPU(os.Getpid())
	rate = plainRate(url, n)
	return rate, float64((procstat.CPU(os.Getpid()) - cpu0).Microseconds()) / float64(n)
}

// drainFigures is one drain: deliveries/s and the CPU each process spent
// per delivery. Where the CPU goes: the gateway process (queue, storage,
// templates, signing, the host side of the plugin stream), the sink process
// (the plugin side of the stream and the HTTP request itself) and this
// process (the receiver). The CPU ratio — what the plain client and the
// receiver spend per request over what the whole gateway path spends per
// delivery — swings less between runs than the rate ratio.
type drainFigures struct {
	rate, gateway, sink, receiver float64
}

// drainRun writes n accepted deliveries for one webhook into a fresh data
// folder, starts the gateway on it and times the deliveries from the first
// received to the last.
func drainRun(b *testing.B, rc *countingReceiver, receiverURL string, n int) drainFigures {
	rc.n.Store(0)
	dir := b.TempDir()
	// Accepted one microsecond apart, oldest first, as a real backlog is.
	at0 := time.Now().Add(-time.Duration(n) * time.Microsecond)
	prefill(b, filepath.Join(dir, "data"), 1, n, 200, func(k int) (time.Time, time.Time, int) {
		at := at0.Add(time.Duration(k) * time.Microsecond)
		return at, at, 0
	})
	c := startBenchGateway(b, dir, benchWebhooks(1, receiverURL))
	defer c.stop()
	rc.waitCount(b, 1, time.Minute)
	gwCPU, sinkCPU := c.cpu()
	rcCPU := procstat.CPU(os.Getpid())
	first := time.Now()
	rc.waitCount(b, int64(n), 5*time.Minute)
	el := time.Since(first)
	gwCPU2, sinkCPU2 := c.cpu()
	rcCPU2 := procstat.CPU(os.Getpid())
	per := func(d time.Duration) float64 { return float64(d.Microseconds()) / float64(n-1) }
	return drainFigures{
		rate:    float64(n-1) / el.Seconds(),
		gateway: per(gwCPU2 - gwCPU), sink: per(sinkCPU2 - sinkCPU), receiver: per(rcCPU2 - rcCPU),
	}
}

// plainRate posts n envelopes to url from 64 goroutines with a plain Go
// client and returns requests/s.
func plainRate(url string, n int) float64 {
	client := &http.Client{Transport: &http.Transport{MaxIdleConnsPerHost: 64}}
	defer client.CloseIdleConnections()
	start := time.Now()
	eachConcurrently(n, 64, func(i int) {
		req, _ := http.NewRequest("POST", url, bytes.NewReader(envelopeFor(i)))
		req.Header.Set("Content-Type", "application/json")
		if resp, err := client.Do(req); err == nil {
			io.Copy(io.Discard, resp.Body)
			resp.Body.Close()
		}
	})
	return float64(n) / time.Since(start).Seconds()
}

// BenchmarkLatencyAt1000 publishes at a steady 1,000 events/s for 5 s and
// reports p50/p99 from the 202 to the receiver's arrival.
func BenchmarkLatencyAt1000(b *testing.B) {
	rc := newTimingReceiver()
	srv := httptestServer(rc)
	defer srv.Close()
	c := startBenchGateway(b, b.TempDir(), benchWebhooks(1, srv.URL))
	tok := c.token(nil)
	const rate, seconds = 1000, 5
	var mu sync.Mutex
	acceptedAt := map[string]time.Time{}
	client := &http.Client{Transport: &http.Transport{MaxIdleConnsPerHost: 64}}
	tick := time.NewTicker(time.Second / rate)
	defer tick.Stop()
	var wg sync.WaitGroup
	sem := make(chan struct{}, 64)
	b.ResetTimer()
	for i := 1; i <= rate*seconds; i++ {
		<-tick.C
		sem <- struct{}{}
		wg.Add(1)
		go func(i int) {
			defer func() { <-sem; wg.Done() }()
			req, _ := http.NewRequest("POST", c.base+"/api/v1/events", bytes.NewReader(envelopeFor(i)))
			req.Header.Set("Authorization", "Bearer "+tok)
			resp, err := client.Do(req)
			if err != nil {
				return
			}
			body, _ := io.ReadAll(resp.Body)
			resp.Body.Close()
			at := time.Now()
			if tr := traceOf(body); tr != "" {
				mu.Lock()
				acceptedAt[tr] = at
				mu.Unlock()
			}
		}(i)
	}
	wg.Wait()
	rc.waitCount(b, rate*seconds, time.Minute)
	var lat []time.Duration
	rc.mu.Lock()
	for tr, at := range acceptedAt {
		if got, ok := rc.times[tr]; ok {
			// Delivery may start before the producer reads its 202.
			lat = append(lat, max(0, got.Sub(at)))
		}
	}
	rc.mu.Unlock()
	slices.Sort(lat)
	if len(lat) == 0 {
		b.Fatal("no latencies")
	}
	b.ReportMetric(float64(lat[len(lat)/2].Microseconds())/1000, "p50-ms")
	b.ReportMetric(float64(lat[len(lat)*99/100].Microseconds())/1000, "p99-ms")
}

func traceOf(body []byte) string {
	i := bytes.Index(body, []byte(`"traceId":"`))
	if i < 0 {
		return ""
	}
	rest := body[i+len(`"traceId":"`):]
	j := bytes.IndexByte(rest, '"')
	if j < 0 {
		return ""
	}
	return string(rest[:j])
}

// BenchmarkMillionQueued reports RSS idle, RSS with 1,000,000 deliveries
// queued, and the time from start to the first delivery with that queue.
func BenchmarkMillionQueued(b *testing.B) {
	rc := newCountingReceiver()
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
	case <-rc.first:
	case <-time.After(2 * time.Minute):
		b.Fatal("no delivery within 2 minutes of start")
	}
	b.ReportMetric(float64(time.Since(start).Milliseconds()), "start-to-first-delivery-ms")
	b.ReportMetric(float64(c.rss())/(1<<20), "RSS-1M-queued-MB")
}

// prefill writes events × hooks pending deliveries straight into the store
// while the gateway is stopped, batch events per Ingest call (one call must
// fit one transaction). at gives event k's creation time, its deliveries'
// due time and how many attempts they have already made (each failed 503).
func prefill(b *testing.B, path string, hooks, events, batch int, at func(k int) (created, due time.Time, attempts int)) {
	st, err := badger.Open(badger.Options{Path: path})
	if err != nil {
		b.Fatal(err)
	}
	defer st.Close()
	ids := make([]string, hooks)
	for i := range ids {
		ids[i] = gateway.ConfigWebhookID("wh" + strconv.Itoa(i))
	}
	for e := 0; e < events; e += batch {
		var items []store.IngestItem
		for k := e; k < e+batch && k < events; k++ {
			created, due, attempts := at(k)
			ev := &store.Event{ID: uuid.NewString(), TraceID: uuid.NewString(), Name: "workorder.created",
				CompanyID: 100, WorkOrderID: int64(k), Payload: envelopeFor(k), ReceivedAt: created}
			it := store.IngestItem{Event: ev}
			for _, w := range ids {
				d := &store.Delivery{ID: uuid.NewString(), EventID: ev.ID, WebhookID: w,
					CompanyID: 100, EventName: ev.Name, WorkOrderID: ev.WorkOrderID, Priority: 1, Attempts: attempts,
					State: store.DeliveryPending, DueAt: due, CreatedAt: created, UpdatedAt: created}
				if attempts > 0 {
					d.LastStatus, d.LastError = 503, "503 Service Unavailable"
				}
				it.Deliveries = append(it.Deliveries, d)
			}
			items = append(items, it)
		}
		if _, err := st.Ingest(context.Background(), nil, items); err != nil {
			b.Fatal(err)
		}
	}
}

func httptestServer(h http.Handler) *testServer {
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		panic(err)
	}
	s := &http.Server{Handler: h}
	go s.Serve(ln)
	return &testServer{URL: "http://" + ln.Addr().String(), s: s}
}

type testServer struct {
	URL string
	s   *http.Server
}

func (t *testServer) Close() { t.s.Close() }

// rss reads VmRSS of the gateway process.
func (c *child) rss() int64 { return procstat.Memory(c.cmd.Process.Pid, "VmRSS") }

// rssWithSinks adds the sink subprocesses' RSS.
func (c *child) rssWithSinks() int64 {
	total := c.rss()
	for _, pid := range childPIDs(c.cmd.Process.Pid) {
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

// cpu returns the user+system CPU time used so far by the gateway process
// and by its sink subprocesses.
func (c *child) cpu() (gateway, sinks time.Duration) {
	gateway = procstat.CPU(c.cmd.Process.Pid)
	for _, pid := range childPIDs(c.cmd.Process.Pid) {
		sinks += procstat.CPU(pid)
	}
	return gateway, sinks
}
