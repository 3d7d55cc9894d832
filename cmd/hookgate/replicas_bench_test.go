package main

// Figures for scale-out (make bench): deliveries/s with 1, 2 and 3 replicas
// on one PostgreSQL next to Badger on one node, and how long a surviving
// replica takes to send a dead replica's leased deliveries. Everything —
// replicas, sink plugins, PostgreSQL, producers, receiver — shares the
// machine (2 cores here), so more replicas add no CPU: the rows show the
// cost of the shared database and the coordination, not a cluster's reach.
// Run with -benchtime=1x.

import (
	"fmt"
	"io"
	"net/http"
	"runtime"
	"strconv"
	"strings"
	"testing"
	"time"

	"github.com/hookgate/hookgate/internal/benchrun"
)

// BenchmarkReplicasThroughput: deliveries/s, publish to delivery, for
// Badger on one node and for 1, 2 and 3 replicas on one PostgreSQL
// (fsync on, like Badger's synced commits). Each event fans out to 8
// webhooks, so the per-webhook in-flight limit (delivery.
// max_in_flight_per_webhook) does not cap 64 workers.
func BenchmarkReplicasThroughput(b *testing.B) {
	const events, hooks = 2500, 8
	const n = events * hooks
	b.Logf("machine: %d cores (GOMAXPROCS %d) shared by replicas, PostgreSQL, producers and receiver", runtime.NumCPU(), runtime.GOMAXPROCS(0))
	b.Run("badger-1-node", func(b *testing.B) {
		rc := benchrun.NewReceiver(false)
		srv := httptestServer(rc)
		defer srv.Close()
		c := startBenchGateway(b, b.TempDir(), benchWebhooks(hooks, srv.URL))
		tok := c.token(nil)
		start := time.Now()
		publishAll(b, []*child{c}, tok, events, 64)
		waitCount(b, rc, n, 5*time.Minute)
		b.ReportMetric(float64(n)/time.Since(start).Seconds(), "deliveries/s")
		b.ReportMetric(float64(runtime.NumCPU()), "cores")
	})
	for _, replicas := range []int{1, 2, 3} {
		b.Run(fmt.Sprintf("postgres-%d-replicas", replicas), func(b *testing.B) {
			_, dsn := startPostgres(b, true)
			rc := benchrun.NewReceiver(false)
			srv := httptestServer(rc)
			defer srv.Close()
			gws := startReplicas(b, dsn, benchWebhooks(hooks, srv.URL), replicas, 64).gws
			tok := gws[0].token(nil)
			start := time.Now()
			publishAll(b, gws, tok, events, 64)
			waitCount(b, rc, n, 5*time.Minute)
			b.ReportMetric(float64(n)/time.Since(start).Seconds(), "deliveries/s")
			b.ReportMetric(float64(runtime.NumCPU()), "cores")
		})
	}
}

// BenchmarkLeaseHandover: two replicas busy with slow deliveries; one is
// SIGKILLed; reports how long until the survivor has sent every delivery
// the dead one held (bounded by the lease, storage.lease, here the
// shortest a 2s delivery timeout allows: 12s).
func BenchmarkLeaseHandover(b *testing.B) {
	_, dsn := startPostgres(b, true)
	rc := newOverlapReceiver(300 * time.Millisecond)
	srv := httptestServer(rc)
	defer srv.Close()
	gws := startReplicas(b, dsn, fmt.Sprintf(receiverWebhook, srv.URL), 2, 8).gws
	tok := gws[0].token(nil)
	publishAll(b, gws, tok, 200, 8)
	deadline := time.Now().Add(30 * time.Second)
	for rc.done.Load() < 20 && time.Now().Before(deadline) {
		time.Sleep(10 * time.Millisecond)
	}
	// Kill while the victim holds deliveries: otherwise there is nothing to
	// hand over and nothing to measure.
	kill, n := killHolding(rc, gws[1], 1, nil)
	if n < 1 {
		b.Fatalf("replica 1 never had a delivery in flight")
	}
	for rc.done.Load() < 200 {
		if time.Since(kill) > 2*time.Minute {
			b.Fatalf("delivered %d of 200 within 2m of the kill", rc.done.Load())
		}
		time.Sleep(20 * time.Millisecond)
	}
	took, cut, back := rc.pickup(kill)
	if cut == 0 || back != cut {
		b.Fatalf("%d deliveries cut by the kill, %d re-sent", cut, back)
	}
	b.ReportMetric(took.Seconds(), "pickup-s")
	b.ReportMetric(replicaLease.Seconds(), "lease-s")
	b.ReportMetric(float64(cut), "handed-over")
	b.ReportMetric(float64(runtime.NumCPU()), "cores")
}

// inFlight reads the hookgate_deliveries_in_flight gauge of the child (-1
// when it cannot be read).
func (c *child) inFlight() int {
	resp, err := http.Get(c.base + "/metrics")
	if err != nil {
		return -1
	}
	defer resp.Body.Close()
	body, _ := io.ReadAll(resp.Body)
	for _, line := range strings.Split(string(body), "\n") {
		if v, ok := strings.CutPrefix(line, "hookgate_deliveries_in_flight "); ok {
			n, err := strconv.Atoi(strings.TrimSpace(v))
			if err != nil {
				return -1
			}
			return n
		}
	}
	return -1
}
