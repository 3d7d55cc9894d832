package gateway

import (
	"context"
	"net/http"
	"strings"
	"sync/atomic"
	"testing"
	"time"

	"github.com/hookgate/hookgate/gateway/gatewaytest"
	"github.com/hookgate/hookgate/store"
)

// TestLowDiskRefusesEventsAndPausesDeliveries: below storage.min_free_bytes
// a publish gets 507 in the error envelope and accepts nothing, a retry
// coming due is not claimed, and the metrics say so; once a quarter more
// than the minimum is free again the retry goes out.
func TestLowDiskRefusesEventsAndPausesDeliveries(t *testing.T) {
	rc := gatewaytest.NewReceiver(t, func(n int, w http.ResponseWriter, _ *http.Request) {
		if n == 1 {
			w.WriteHeader(500) // the first attempt fails: a retry is queued
		}
	})
	tg := startGateway(t, gatewaytest.Config(t), false)
	var free atomic.Uint64
	free.Store(1 << 30)
	tg.G.disk.free = func(string) (uint64, error) { return free.Load(), nil }
	tg.G.disk.check()
	tg.G.Start()
	w := tg.AddWebhook(&store.Webhook{URL: rc.Srv.URL + "/in", Events: []string{"workorder.created"}})
	tok := tg.Token("acme", "acme-secret")
	env := gatewaytest.Seed(t, "workorder.created")

	tg.Publish(tok, env)
	if got := rc.Next(t).Header.Get("X-FN-Delivery-Id"); !strings.HasSuffix(got, ":1") {
		t.Fatalf("first attempt %q", got)
	}
	tg.WaitFor(w.WebhookID, store.DeliveryPending, func(d *store.Delivery) bool { return d.Attempts == 1 })

	setFree := func(n uint64) {
		free.Store(n)
		tg.G.disk.check()
	}
	setFree(10 << 20) // 10 MiB, below the default 64 MiB
	r := tg.Do("POST", "/api/v1/events", tok, env, nil)
	want := "the gateway's data folder is low on space (10 MiB free, storage.min_free_bytes is 64 MiB): nothing was accepted; publish again once space is freed"
	if r.Status != 507 || r.ErrMessage() != want || r.Body["result"] == nil {
		t.Fatalf("publish on a low disk: %d %s", r.Status, r.Raw)
	}
	depth := func() int {
		d, err := tg.G.store.QueueDepth(context.Background())
		if err != nil {
			t.Fatal(err)
		}
		return d[0] + d[1] + d[2]
	}
	if n := depth(); n != 1 {
		t.Fatalf("queue holds %d deliveries, want only the retry (the refused event queued none)", n)
	}
	metrics := string(tg.Do("GET", "/metrics", "", nil, nil).Raw)
	for _, line := range []string{"hookgate_storage_low 1\n", "hookgate_storage_free_bytes 1.048576e+07\n"} {
		if !strings.Contains(metrics, line) {
			t.Errorf("metrics lack %q", line)
		}
	}

	// The retry comes due, but nothing is claimed while the disk is low,
	// nor just above the minimum (it resumes at a quarter above it).
	tg.Clock.Advance(11 * time.Second)
	tg.G.Kick()
	for _, n := range []uint64{10 << 20, 64<<20 + 1, 80<<20 - 1} {
		setFree(n)
		if got := tg.G.dispatcher.ClaimOnce(context.Background()); got != 0 {
			t.Fatalf("%d MiB free: claimed %d deliveries", n>>20, got)
		}
		if r := tg.Do("POST", "/api/v1/events", tok, env, nil); r.Status != 507 {
			t.Fatalf("%d bytes free: publish %d, want 507", n, r.Status)
		}
	}
	if n := depth(); n != 1 {
		t.Fatalf("queue holds %d, want the retry still waiting", n)
	}

	setFree(80 << 20)
	if got := rc.Next(t).Header.Get("X-FN-Delivery-Id"); !strings.HasSuffix(got, ":2") {
		t.Fatalf("after space came back: %q, want attempt 2", got)
	}
	tg.Publish(tok, env)
	if !strings.Contains(string(tg.Do("GET", "/metrics", "", nil, nil).Raw), "hookgate_storage_low 0\n") {
		t.Error("metrics still say low")
	}
}

// TestDiskGuardOff: min_free_bytes = 0 means no guard at all.
func TestDiskGuardOff(t *testing.T) {
	cfg := gatewaytest.Config(t)
	cfg.Storage.MinFreeBytes = 0
	tg := startGateway(t, cfg, false)
	if tg.G.disk != nil || tg.G.disk.Low() {
		t.Fatal("a guard with min_free_bytes = 0")
	}
	if strings.Contains(string(tg.Do("GET", "/metrics", "", nil, nil).Raw), "hookgate_storage_low") {
		t.Error("storage metrics without a guard")
	}
}

// TestStatfsFree reads a real file system: some space, and an error for a
// folder that does not exist (the guard then keeps its last state).
func TestStatfsFree(t *testing.T) {
	if n, err := statfsFree(t.TempDir()); err != nil || n == 0 {
		t.Fatalf("statfsFree(temp dir) = %d, %v", n, err)
	}
	if _, err := statfsFree(t.TempDir() + "/missing"); err == nil {
		t.Fatal("no error for a missing folder")
	}
}

// TestDiskGuardChecksAfterLargeWrites: a producer sending large events does
// not wait for the timer: past diskCheckEveryBytes of admitted events the
// next publish reads the free space itself and is refused if it is low.
func TestDiskGuardChecksAfterLargeWrites(t *testing.T) {
	var free atomic.Uint64
	var reads atomic.Int64
	free.Store(1 << 30)
	d := newDiskGuard(t.TempDir(), 64<<20, gatewaytest.Logger())
	d.free = func(string) (uint64, error) { reads.Add(1); return free.Load(), nil }
	d.check() // no ticker: only admit can check from here on
	free.Store(1 << 20)
	n := 0
	for d.admit(1 << 20) {
		if n++; n > diskCheckEveryBytes>>20 {
			t.Fatalf("still admitting after %d MiB past a drop to 1 MiB free", n)
		}
	}
	if n != diskCheckEveryBytes>>20-1 || reads.Load() != 2 {
		t.Errorf("refused after %d MiB with %d reads; want the %dth MiB to check once", n, reads.Load(), diskCheckEveryBytes>>20)
	}
	if !d.Low() {
		t.Error("not low after the check")
	}
}
