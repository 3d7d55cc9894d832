package main

// Fairness between companies (make bench; issue 12, finding 5): how long
// company B's first delivery waits behind company A's backlog, on the
// shipped delivery defaults (64 workers). Run with -benchtime=1x.

import (
	"fmt"
	"io"
	"net/http"
	"os"
	"path/filepath"
	"slices"
	"strings"
	"sync/atomic"
	"testing"
	"time"
)

const fairnessConfig = `
server  { listen = "%s" }
storage {
%s
}
delivery {
  workers = 64
  allow_http = true
  allow_private_networks = true
}
# Tokens for both companies come from one address.
api {
  rate_limit = 100000
  rate_burst = 10000
}
auth {
%s%s}
%s
`

// BenchmarkCompanyBacklog: company A has 500 webhooks (in gateway.hcl) and
// publishes 40 events, 20,000 deliveries to loopback receivers; then company
// B publishes one event for its one webhook. Reports, over a few rounds,
// how long B's delivery took from its publish to its arrival (p50 and
// max, ms), how much of it the publish itself took (p50), and A's drain
// rate, for Badger and for one replica on PostgreSQL.
func BenchmarkCompanyBacklog(b *testing.B) {
	for _, driver := range []string{"badger", "postgres"} {
		b.Run(driver, func(b *testing.B) { companyBacklog(b, driver) })
	}
}

func companyBacklog(b *testing.B, driver string) {
	const hooksA, eventsA, rounds = 500, 40, 3
	const coA, coB = 100, 200
	var gotA atomic.Int64
	arrivedB := make(chan time.Time, rounds)
	srv := httptestServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		io.Copy(io.Discard, r.Body)
		if strings.HasPrefix(r.URL.Path, "/b") {
			arrivedB <- time.Now()
			return
		}
		gotA.Add(1)
	}))
	defer srv.Close()
	dir := b.TempDir()
	storage := fmt.Sprintf("  path = %q", filepath.Join(dir, "data"))
	if driver == "postgres" {
		_, dsn := startPostgres(b, true)
		storage = fmt.Sprintf("  driver = \"postgres\"\n  dsn = %q\n  path = %q", dsn, filepath.Join(dir, "pid"))
	}
	var hooks strings.Builder
	for i := range hooksA {
		fmt.Fprintf(&hooks, "webhook \"a%d\" {\n  company_id = %d\n  url = \"%s/a/%d\"\n  events = [\"workorder.created\"]\n}\n", i, coA, srv.URL, i)
	}
	fmt.Fprintf(&hooks, "webhook \"b\" {\n  company_id = %d\n  url = \"%s/b\"\n  events = [\"workorder.created\"]\n}\n", coB, srv.URL)
	addr := freePort(b)
	cfgPath := filepath.Join(dir, "gateway.hcl")
	cfg := fmt.Sprintf(fairnessConfig, addr, storage, clientBlock(coA), clientBlock(coB), hooks.String())
	if err := os.WriteFile(cfgPath, []byte(cfg), 0o600); err != nil {
		b.Fatal(err)
	}
	c := startChildTB(b, cfgPath, addr)
	b.Cleanup(c.stop)
	tokA, tokB := tokenFor(b, c, coA), tokenFor(b, c, coB)
	client := &http.Client{Transport: &http.Transport{MaxIdleConnsPerHost: 8}}
	defer client.CloseIdleConnections()

	var delays, publishes []float64
	var drain time.Duration
	b.ResetTimer()
	for r := range rounds {
		start := time.Now()
		eachConcurrently(eventsA, 8, func(i int) {
			if publishOne(client, c.base, tokA, companyEnvelope("workorder.created", coA, r*eventsA+i)) == "" {
				b.Errorf("company A event %d refused", i)
			}
		})
		sent := time.Now()
		if publishOne(client, c.base, tokB, companyEnvelope("workorder.created", coB, r)) == "" {
			b.Fatal("company B's event refused")
		}
		publishes = append(publishes, float64(time.Since(sent).Microseconds())/1000)
		select {
		case at := <-arrivedB:
			delays = append(delays, float64(at.Sub(sent).Microseconds())/1000)
		case <-time.After(5 * time.Minute):
			b.Fatal("company B's delivery never arrived")
		}
		want := int64((r + 1) * eventsA * hooksA)
		deadline := time.Now().Add(5 * time.Minute)
		for gotA.Load() < want {
			if time.Now().After(deadline) {
				b.Fatalf("company A got %d of %d deliveries", gotA.Load(), want)
			}
			time.Sleep(5 * time.Millisecond)
		}
		drain += time.Since(start)
	}
	b.Logf("company B's first-attempt delays (ms): %.1f, of which its publish: %.1f", delays, publishes)
	b.ReportMetric(median(delays), "B-first-attempt-p50-ms")
	b.ReportMetric(slices.Max(delays), "B-first-attempt-max-ms")
	b.ReportMetric(median(publishes), "B-publish-p50-ms")
	b.ReportMetric(float64(rounds*eventsA*hooksA)/drain.Seconds(), "A-deliveries/s")
}
