package gateway

import (
	"testing"

	"github.com/hookgate/hookgate/gateway/gatewaytest"
	"github.com/hookgate/hookgate/store"
)

// TestEventCacheBoundedByBytes: many publishes of ~1 MiB events (with
// deliveries queued, so each is cached) keep the recent-events cache within
// delivery.event_cache_bytes, and the heap with it. A count-bounded cache
// held every one of them.
func TestEventCacheBoundedByBytes(t *testing.T) {
	cfg := gatewaytest.Config(t)
	cfg.Delivery.EventCacheBytes = 16 << 20
	tg := startGateway(t, cfg, false) // no dispatcher: the deliveries stay queued
	tg.AddWebhook(&store.Webhook{URL: "http://127.0.0.1:9/hook", Events: []string{"workorder.created"}})
	tok := tg.Token("acme", "acme-secret")
	env := gatewaytest.PaddedEnvelope(t, "workorder.created", 1000<<10)
	const n = 64
	before := gatewaytest.LiveHeap()
	for range n {
		if got := tg.Publish(tok, env); got["deliveries"] != 1.0 {
			t.Fatalf("publish: %v, want one delivery", got)
		}
	}
	grown := gatewaytest.LiveHeap() - before
	bytes, events := tg.G.recent.Size()
	t.Logf("%d events of %d KiB: cache %d events, %d MiB accounted; heap grew %d MiB", n, len(env)>>10, events, bytes>>20, grown>>20)
	if bytes > cfg.Delivery.EventCacheBytes || events == 0 {
		t.Errorf("cache holds %d bytes in %d events, want 1..%d bytes", bytes, events, cfg.Delivery.EventCacheBytes)
	}
	if grown > 40<<20 {
		t.Errorf("heap grew %d MiB for %d events of 1 MiB, want under 40 MiB (cache bound 16 MiB)", grown>>20, n)
	}
	// That an event over a sixteenth of the cache is not cached at all is
	// delivery's TestEventCacheSkipsLargeEvents.
}
