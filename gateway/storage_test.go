package gateway

import (
	"context"
	"sync"
	"testing"
	"time"

	"github.com/google/uuid"

	"github.com/hookgate/hookgate/config"
	"github.com/hookgate/hookgate/gateway/gatewaytest"
	"github.com/hookgate/hookgate/store"
	"github.com/hookgate/hookgate/store/postgres/pgtest"
)

// testCluster starts a throwaway PostgreSQL that lives as long as t.
// Missing PostgreSQL fails t.
func testCluster(t *testing.T) *pgtest.Cluster {
	t.Helper()
	ctx, cancel := context.WithTimeout(context.Background(), 3*time.Minute)
	defer cancel()
	c, err := pgtest.Start(ctx, pgtest.Options{})
	if err != nil {
		t.Fatalf("cannot start a throwaway PostgreSQL: %v", err)
	}
	t.Cleanup(func() { _ = c.Stop() })
	return c
}

// postgresConfig returns a test config on a fresh database of a throwaway
// cluster that lives as long as t.
func postgresConfig(t *testing.T) func() *config.Config {
	t.Helper()
	dsn, err := testCluster(t).NewEmptyDatabase(t.Context())
	if err != nil {
		t.Fatal(err)
	}
	return func() *config.Config {
		cfg := gatewaytest.Config(t)
		cfg.Storage.Driver, cfg.Storage.DSN = config.DriverPostgres, dsn
		cfg.API.RateLimit, cfg.API.RateBurst = 60, 5
		cfg.Webhooks = []config.Webhook{{Name: "hcl", CompanyID: 100, URL: "https://hooks.example.com/x", Method: "post",
			Status: string(store.StatusActive), Events: []string{"workorder.created"}, Sink: "http"}}
		return cfg
	}
}

// TestReplicasCoordinate: two gateways on one database reconcile the HCL
// webhooks once, auto-deactivate a failing webhook once, and share the API
// rate limit and a company's publish rate.
func TestReplicasCoordinate(t *testing.T) {
	newCfg := postgresConfig(t)
	clock := gatewaytest.NewManualClock(gatewaytest.T0)
	var a, b *testGateway
	var wg sync.WaitGroup
	cfgA, cfgB := newCfg(), newCfg()
	for _, c := range []*config.Config{cfgA, cfgB} {
		c.Quotas.PublishRate, c.Quotas.PublishBurst = 1, 3
	}
	wg.Go(func() { a = startGatewayClock(t, cfgA, false, clock) })
	wg.Go(func() { b = startGatewayClock(t, cfgB, false, clock) })
	wg.Wait()
	ctx := context.Background()
	id := ConfigWebhookID("hcl")
	if h, err := a.G.Store().ListHistory(ctx, id); err != nil || len(h) != 1 {
		t.Fatalf("history of the HCL webhook after two replicas started: %d entries (%v), want 1", len(h), err)
	}

	// Every delivery of the webhook fails for 8 days.
	st := a.G.Store()
	ev := &store.Event{ID: uuid.NewString(), TraceID: uuid.NewString(), Name: "workorder.created", CompanyID: 100, Payload: []byte(`{}`)}
	d := &store.Delivery{ID: uuid.NewString(), WebhookID: id, CompanyID: 100, EventName: ev.Name, Priority: 1, DueAt: gatewaytest.T0}
	if _, err := st.Ingest(ctx, nil, []store.IngestItem{{Event: ev, Deliveries: []*store.Delivery{d}}}); err != nil {
		t.Fatal(err)
	}
	next := *d
	next.Attempts, next.State, next.DueAt = 1, store.DeliveryPending, gatewaytest.T0.Add(time.Hour)
	if err := st.RecordAttempt(ctx, &next, &store.Attempt{Attempt: 1, WebhookID: id, CompanyID: 100, Outcome: store.OutcomeRetry,
		ResponseStatus: 500, CreatedAt: gatewaytest.T0}); err != nil {
		t.Fatal(err)
	}
	clock.Advance(8 * 24 * time.Hour)
	var mu sync.Mutex
	var deactivated []string
	for _, g := range []*testGateway{a, b, a, b} {
		wg.Go(func() {
			ids, err := g.G.CheckLifecycle(ctx)
			if err != nil {
				t.Error(err)
			}
			mu.Lock()
			deactivated = append(deactivated, ids...)
			mu.Unlock()
		})
	}
	wg.Wait()
	if len(deactivated) != 1 {
		t.Fatalf("deactivated %v across four checks on two replicas, want once", deactivated)
	}
	if h, _ := b.G.Store().ListHistory(ctx, id); len(h) != 2 {
		t.Fatalf("history after auto-deactivation: %d entries, want 2", len(h))
	}

	// One client, one bucket: the burst of 5 is shared by both replicas.
	tok := a.Token("acme", "acme-secret")
	ok := 0
	for i := range 10 {
		if r := []*testGateway{a, b}[i%2].Do("GET", "/api/v1/webhooks", tok, nil, nil); r.Status == 200 {
			ok++
		}
	}
	if ok != 5 {
		t.Fatalf("%d of 10 requests alternating between replicas passed, want the burst of 5", ok)
	}

	// One company, one publish bucket: the burst of 3 is shared too.
	env := gatewaytest.Seed(t, "workorder.created")
	ok = 0
	for i := range 6 {
		if r := []*testGateway{a, b}[i%2].Do("POST", "/api/v1/events", tok, env, nil); r.Status == 202 {
			ok++
		}
	}
	if ok != 3 {
		t.Fatalf("%d of 6 publishes alternating between replicas accepted, want the burst of 3", ok)
	}
}
