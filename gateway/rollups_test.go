package gateway

import (
	"context"
	"testing"
	"time"

	"github.com/hookgate/hookgate/gateway/gatewaytest"
	"github.com/hookgate/hookgate/store"
	"github.com/hookgate/hookgate/store/badger"
)

// TestRollupsWrittenAtShutdown: the gateway runs the rollup aggregator
// from Start to Shutdown, and Shutdown writes the minute still running,
// so what was observed is in the store after a stop.
func TestRollupsWrittenAtShutdown(t *testing.T) {
	clock := gatewaytest.NewManualClock(gatewaytest.T0)
	st, err := badger.Open(badger.Options{Path: t.TempDir(), Clock: clock.Now, Logger: gatewaytest.Logger()})
	if err != nil {
		t.Fatal(err)
	}
	defer st.Close()
	g, err := New(context.Background(), Options{Config: gatewaytest.APIConfig(t), Clock: clock, Store: st,
		Sinks: gatewaytest.NopSinks{}, Logger: gatewaytest.Logger()})
	if err != nil {
		t.Fatal(err)
	}
	g.Start()
	g.rollups.aggregator().Observe("hook-1", 100, store.OutcomeSuccess, 12*time.Millisecond)
	if err := g.Shutdown(t.Context()); err != nil {
		t.Fatal(err)
	}
	got, err := st.ListRollups(t.Context(), store.RollupFilter{CompanyID: 100, WebhookID: "hook-1", From: gatewaytest.T0.Add(-time.Hour)})
	if err != nil || len(got) != 1 || got[0].Attempts[store.OutcomeSuccess] != 1 || !got[0].Minute.Equal(store.RollupMinute(gatewaytest.T0)) {
		t.Fatalf("rollups after Shutdown = %+v, %v; want the observed attempt in its minute", got, err)
	}
}

// TestRollupsFromDeliveries: real deliveries reach the charts' rollups:
// the attempt the worker records is counted in its webhook's minute and
// written within a sample interval.
func TestRollupsFromDeliveries(t *testing.T) {
	cfg := gatewaytest.Config(t)
	cfg.Storage.RollupSample = 20 * time.Millisecond
	tg := startGateway(t, cfg, true)
	w := tg.AddWebhook(&store.Webhook{URL: "http://127.0.0.1:1/", Status: store.StatusActive, Events: []string{"workorder.status.paid"}})
	tg.Publish(tg.Token("acme", "acme-secret"), gatewaytest.Seed(t, "workorder.status.paid"))
	tg.WaitFor(w.WebhookID, store.DeliveryPending, func(d *store.Delivery) bool { return d.Attempts == 1 })
	rs := tg.G.Store().(store.Rollups)
	f := store.RollupFilter{CompanyID: w.CompanyID, WebhookID: w.WebhookID, From: gatewaytest.T0.Add(-time.Hour)}
	for deadline := time.Now().Add(10 * time.Second); ; {
		got, err := rs.ListRollups(t.Context(), f)
		if err != nil {
			t.Fatal(err)
		}
		if len(got) == 1 && got[0].Attempts[store.OutcomeRetry] == 1 && got[0].Latency.Count() == 1 {
			return
		}
		if time.Now().After(deadline) {
			t.Fatalf("rollups of the webhook = %+v, want its one retried attempt", got)
		}
		select {
		case <-t.Context().Done():
			t.Fatal(t.Context().Err())
		case <-time.After(20 * time.Millisecond):
		}
	}
}
