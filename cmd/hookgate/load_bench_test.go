package main

// Load figures of the real binary (make bench): many webhooks with fan-out,
// slow receivers next to fast ones, and a day's backlog of retries. Each
// benchmark is one scenario reporting its figures; run with -benchtime=1x.

import (
	"bytes"
	"context"
	"fmt"
	"io"
	"net/http"
	"os"
	"path/filepath"
	"slices"
	"strconv"
	"strings"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	"github.com/hookgate/hookgate/internal/benchrun"
	"github.com/hookgate/hookgate/internal/procstat"
)

const loadConfig = `
server  { listen = "%s" }
storage { path = "%s" }
delivery {
  workers = 64
  allow_http = true
  allow_private_networks = true
  %s
}
# Many clients get tokens from one address: lift the per-address limit.
api {
  rate_limit = 100000
  rate_burst = 10000
}
auth {
%s
}
%s
`

// startLoadGateway writes a config from its parts and starts the binary.
func startLoadGateway(b *testing.B, dir, delivery, clients, webhooks string) *child {
	addr := freePort(nil)
	cfgPath := filepath.Join(dir, "gateway.hcl")
	os.WriteFile(cfgPath, []byte(fmt.Sprintf(loadConfig, addr, filepath.Join(dir, "data"), delivery, clients, webhooks)), 0o600)
	c := startChildTB(b, cfgPath, addr)
	b.Cleanup(func() { c.stop() })
	return c
}

func clientBlock(company int) string {
	return fmt.Sprintf("client \"c%d\" {\n  secret = \"s%d\"\n  company_id = %d\n  scopes = [\"events:publish\"]\n}\n", company, company, company)
}

func tokenFor(b *testing.B, c *child, company int) string {
	resp, err := http.PostForm(c.base+"/authentication/api/oauth/token", map[string][]string{
		"grant_type": {"client_credentials"}, "client_id": {"c" + strconv.Itoa(company)}, "client_secret": {"s" + strconv.Itoa(company)}})
	if err != nil {
		b.Fatal(err)
	}
	defer resp.Body.Close()
	body, _ := io.ReadAll(resp.Body)
	const k = `"access_token":"`
	i := bytes.Index(body, []byte(k))
	if i < 0 {
		b.Fatalf("token: %s", body)
	}
	rest := body[i+len(k):]
	return string(rest[:bytes.IndexByte(rest, '"')])
}

func companyEnvelope(event string, company, i int) []byte {
	return []byte(fmt.Sprintf(`{"event":{"name":%q,"params":{"work_order_id":%d,"work_order_company_id":%d}},`+
		`"timestamp":"2026-01-20T08:55:58-06:00","triggered_by_user":{"id":1068},"workorder":{"id":%d,"title":"Router Installation - Site 42",`+
		`"status":{"id":2,"name":"Published"},"company":{"id":%d,"name":"Acme"}}}`, event, i, company, i, company))
}

// publishOne posts one envelope and returns the trace id ("" if refused).
func publishOne(client *http.Client, base, tok string, env []byte) string {
	st, tr, err := benchrun.Publish(context.Background(), client, base, tok, env)
	if err != nil || st != 202 {
		return ""
	}
	return tr
}

// rssSampler records the peak VmRSS and RssAnon of a process every 200 ms
// until stopped.
func rssSampler(pid int) (stop func() (rss, anon int64)) {
	var peak, peakAnon atomic.Int64
	done := make(chan struct{})
	quit := make(chan struct{})
	go func() {
		defer close(done)
		t := time.NewTicker(200 * time.Millisecond)
		defer t.Stop()
		for {
			if r := procstat.Memory(pid, "VmRSS"); r > peak.Load() {
				peak.Store(r)
			}
			if r := procstat.Memory(pid, "RssAnon"); r > peakAnon.Load() {
				peakAnon.Store(r)
			}
			select {
			case <-quit:
				return
			case <-t.C:
			}
		}
	}()
	return func() (int64, int64) { close(quit); <-done; return peak.Load(), peakAnon.Load() }
}

// BenchmarkFanOut10kWebhooks: 10,000 webhooks in gateway.hcl across 100
// companies (100 each, half subscribed to workorder.created), so each event
// fans out to 50 webhooks. Reports the start time with that config, events/s
// accepted, deliveries/s end to end, and the gateway's peak RSS.
func BenchmarkFanOut10kWebhooks(b *testing.B) {
	const companies, perCompany, fanOut, events = 100, 100, 50, 2000
	var n atomic.Int64
	srv := httptestServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		io.Copy(io.Discard, r.Body)
		n.Add(1)
	}))
	defer srv.Close()
	var clients, hooks strings.Builder
	for co := 1; co <= companies; co++ {
		clients.WriteString(clientBlock(co))
		for i := range perCompany {
			ev := "workorder.routed"
			if i < fanOut {
				ev = "workorder.created"
			}
			fmt.Fprintf(&hooks, "webhook \"c%d-w%d\" {\n  company_id = %d\n  url = \"%s/c%d/%d\"\n  events = [%q]\n}\n", co, i, co, srv.URL, co, i, ev)
		}
	}
	start := time.Now()
	c := startLoadGateway(b, b.TempDir(), "", clients.String(), hooks.String())
	startup := time.Since(start)
	toks := make([]string, companies+1)
	for co := 1; co <= companies; co++ {
		toks[co] = tokenFor(b, c, co)
	}
	peak := rssSampler(c.cmd.Process.Pid)
	b.ResetTimer()
	start = time.Now()
	client := &http.Client{Transport: &http.Transport{MaxIdleConnsPerHost: 32}}
	eachConcurrently(events, 32, func(i int) {
		co := 1 + i%companies
		if publishOne(client, c.base, toks[co], companyEnvelope("workorder.created", co, i)) == "" {
			b.Errorf("event %d refused", i)
		}
	})
	ingest := time.Since(start)
	want := int64(events * fanOut)
	deadline := time.Now().Add(10 * time.Minute)
	for n.Load() < want && time.Now().Before(deadline) {
		time.Sleep(10 * time.Millisecond)
	}
	total := time.Since(start)
	rss, anon := peak()
	b.ReportMetric(startup.Seconds(), "start-10k-webhooks-s")
	b.ReportMetric(float64(events)/ingest.Seconds(), "events/s")
	b.ReportMetric(float64(n.Load())/total.Seconds(), "deliveries/s")
	b.ReportMetric(float64(rss)/(1<<20), "peak-RSS-MB")
	b.ReportMetric(float64(anon)/(1<<20), "peak-anon-RSS-MB")
	if n.Load() < want {
		b.Fatalf("delivered %d of %d", n.Load(), want)
	}
}

// BenchmarkSlowReceivers: 100 webhooks whose receivers take 2 s each, fed
// 100 deliveries a second (more than 64 workers can serve at 2 s), next to
// 2 fast webhooks fed 400 deliveries a second, for 15 s. Reports the fast
// webhooks' throughput and latency (202 to arrival) with the fairness
// defaults, and with fairness off (per-webhook limit = workers, no slow
// class) for comparison.
func BenchmarkSlowReceivers(b *testing.B) {
	for _, mode := range []struct{ name, delivery string }{
		{"fair", ""}, // the defaults: per-webhook limit = workers, slow share 0.5
		{"fair-8-per-webhook", "max_in_flight_per_webhook = 8"},
		{"unfair", "max_in_flight_per_webhook = 64\n  slow_share = 1"},
	} {
		b.Run(mode.name, func(b *testing.B) { slowReceivers(b, mode.delivery) })
	}
}

func slowReceivers(b *testing.B, delivery string) {
	const slowHooks, fastHooks, seconds = 100, 2, 15
	var mu sync.Mutex
	arrived := map[string]time.Time{}
	var slowDone, fastDone atomic.Int64
	slow := httptestServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		io.Copy(io.Discard, r.Body)
		select {
		case <-time.After(2 * time.Second):
			slowDone.Add(1)
		case <-r.Context().Done():
		}
	}))
	defer slow.Close()
	fast := httptestServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		io.Copy(io.Discard, r.Body)
		now := time.Now()
		mu.Lock()
		if tr := r.Header.Get("X-FN-Event-Trace-Id"); tr != "" {
			if _, ok := arrived[tr]; !ok {
				arrived[tr] = now
			}
		}
		mu.Unlock()
		fastDone.Add(1)
	}))
	defer fast.Close()
	var hooks strings.Builder
	for i := range slowHooks {
		fmt.Fprintf(&hooks, "webhook \"slow%d\" {\n  company_id = 100\n  url = \"%s/slow/%d\"\n  events = [\"workorder.created\"]\n}\n", i, slow.URL, i)
	}
	for i := range fastHooks {
		fmt.Fprintf(&hooks, "webhook \"fast%d\" {\n  company_id = 100\n  url = \"%s/fast/%d\"\n  events = [\"workorder.routed\"]\n}\n", i, fast.URL, i)
	}
	c := startLoadGateway(b, b.TempDir(), delivery, clientBlock(100), hooks.String())
	tok := tokenFor(b, c, 100)
	client := &http.Client{Transport: &http.Transport{MaxIdleConnsPerHost: 32}}
	accepted := map[string]time.Time{}
	var wg sync.WaitGroup
	sem := make(chan struct{}, 32)
	publish := func(event string, i int, keep bool) {
		sem <- struct{}{}
		wg.Add(1)
		go func() {
			defer func() { <-sem; wg.Done() }()
			tr := publishOne(client, c.base, tok, companyEnvelope(event, 100, i))
			if keep && tr != "" {
				at := time.Now()
				mu.Lock()
				accepted[tr] = at
				mu.Unlock()
			}
		}()
	}
	b.ResetTimer()
	start := time.Now()
	tick := time.NewTicker(5 * time.Millisecond) // 200 fast events/s × 2 webhooks
	defer tick.Stop()
	for i := 0; time.Since(start) < seconds*time.Second; i++ {
		<-tick.C
		if i%200 == 0 { // 1 slow event/s × 100 webhooks
			publish("workorder.created", i, false)
		}
		publish("workorder.routed", i, true)
	}
	wg.Wait()
	sent := time.Since(start)
	want := int64(len(accepted) * fastHooks)
	deadline := time.Now().Add(5 * time.Minute)
	for fastDone.Load() < want && time.Now().Before(deadline) {
		time.Sleep(10 * time.Millisecond)
	}
	fastTook := time.Since(start)
	var lat []time.Duration
	mu.Lock()
	for tr, at := range accepted {
		if got, ok := arrived[tr]; ok {
			lat = append(lat, max(0, got.Sub(at)))
		}
	}
	mu.Unlock()
	slices.Sort(lat)
	if len(lat) == 0 {
		b.Fatal("no fast delivery arrived")
	}
	b.ReportMetric(float64(fastDone.Load())/fastTook.Seconds(), "fast-deliveries/s")
	b.ReportMetric(float64(want)/sent.Seconds(), "fast-offered/s")
	b.ReportMetric(float64(lat[len(lat)/2].Microseconds())/1000, "fast-p50-ms")
	b.ReportMetric(float64(lat[len(lat)*99/100].Microseconds())/1000, "fast-p99-ms")
	b.ReportMetric(float64(slowDone.Load())/fastTook.Seconds(), "slow-deliveries/s")
}

// BenchmarkBacklogDrain24h: a receiver was down for a day, so 1,000,000
// deliveries wait for their next retry, due times spread over the last 24 h
// (20,000 events × 50 webhooks, each with one failed attempt). The gateway
// starts with the receiver back up; reports the drain rate over the first
// 60 s, the projected time to drain it all, and the gateway's RSS.
func BenchmarkBacklogDrain24h(b *testing.B) {
	const hooks, events = 50, 20000
	var n atomic.Int64
	srv := httptestServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		io.Copy(io.Discard, r.Body)
		n.Add(1)
	}))
	defer srv.Close()
	dir := b.TempDir()
	t := time.Now()
	// Deliveries that failed once and are due again at times spread over
	// the last 24 h, as after a day's outage.
	now := time.Now()
	prefill(b, filepath.Join(dir, "data"), hooks, events, 50, func(k int) (time.Time, time.Time, int) {
		created := now.Add(-24*time.Hour + time.Duration(k)*(24*time.Hour/time.Duration(events)))
		return created, created.Add(10 * time.Second), 1
	})
	prefill := time.Since(t)
	start := time.Now()
	c := startLoadGateway(b, dir, "", clientBlock(100), benchWebhooks(hooks, srv.URL))
	startup := time.Since(start)
	peak := rssSampler(c.cmd.Process.Pid)
	b.ResetTimer() // also drops metrics reported before it: report them after
	const window = 60 * time.Second
	time.Sleep(window)
	got := n.Load()
	rate := float64(got) / window.Seconds()
	b.ReportMetric(rate, "drain-deliveries/s")
	b.ReportMetric(float64(hooks*events)/rate/60, "projected-drain-min")
	rss, anon := peak()
	b.ReportMetric(prefill.Seconds(), "prefill-1M-s")
	b.ReportMetric(startup.Seconds(), "start-s")
	b.ReportMetric(float64(rss)/(1<<20), "peak-RSS-MB")
	b.ReportMetric(float64(anon)/(1<<20), "peak-anon-RSS-MB")
}
