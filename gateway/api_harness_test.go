package gateway

import (
	"context"
	"encoding/json"
	"net"
	"testing"
	"time"

	"github.com/hookgate/hookgate/config"
	"github.com/hookgate/hookgate/gateway/api"
)

// apiConfig is testConfig with a rate limit no test walk reaches (the
// manual clock does not refill buckets) and a second company's writer.
func apiConfig(t *testing.T) *config.Config {
	cfg := testConfig(t)
	cfg.API.RateLimit, cfg.API.RateBurst = 1_000_000, 1_000_000
	cfg.Auth.Clients = append(cfg.Auth.Clients,
		config.Client{ID: "globex-admin", Secret: "globex-admin-secret", CompanyID: 200, UserID: 8,
			Scopes: []string{api.ScopeWebhooksRead, api.ScopeWebhooksWrite}},
		config.Client{ID: "writer", Secret: "writer-secret", CompanyID: 100, UserID: 11,
			Scopes: []string{api.ScopeWebhooksWrite}},
	)
	return cfg
}

// startAPIGateway is startGateway with server.public_url set to the
// address it listens on, so pre-signed URLs can be followed.
func startAPIGateway(t *testing.T, cfg *config.Config) *testGateway {
	t.Helper()
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	cfg.Server.PublicURL = "http://" + ln.Addr().String()
	clock := NewManualClock(t0)
	g, err := New(context.Background(), Options{
		Config: cfg, Clock: clock, BuiltinCommand: sinkCommand, Logger: testLogger(), PollInterval: 5 * time.Millisecond,
	})
	if err != nil {
		ln.Close()
		t.Fatalf("New: %v", err)
	}
	go g.Serve(ln)
	g.Start()
	t.Cleanup(func() {
		ctx, cancel := context.WithTimeout(context.Background(), 10*time.Second)
		defer cancel()
		if err := g.Shutdown(ctx); err != nil {
			t.Errorf("Shutdown: %v", err)
		}
	})
	return &testGateway{t: t, g: g, base: cfg.Server.PublicURL, clock: clock, cfg: cfg}
}

// call sends body (marshalled unless it is a string or []byte) and decodes the answer.
func (tg *testGateway) call(method, path, token string, body any) apiResp {
	tg.t.Helper()
	var raw []byte
	switch b := body.(type) {
	case nil:
	case string:
		raw = []byte(b)
	case []byte:
		raw = b
	default:
		var err error
		if raw, err = json.Marshal(b); err != nil {
			tg.t.Fatal(err)
		}
	}
	return tg.do(method, path, token, raw, nil)
}

// must calls and requires status want, returning the result.
func (tg *testGateway) must(want int, method, path, token string, body any) apiResp {
	tg.t.Helper()
	r := tg.call(method, path, token, body)
	if r.Status != want {
		tg.t.Fatalf("%s %s: %d %s, want %d", method, path, r.Status, r.Raw, want)
	}
	return r
}

func (r apiResp) result() map[string]any {
	m, _ := r.Body["result"].(map[string]any)
	return m
}

func (r apiResp) list() []map[string]any {
	items, _ := r.Body["result"].([]any)
	out := make([]map[string]any, len(items))
	for i, it := range items {
		out[i], _ = it.(map[string]any)
	}
	return out
}

func (r apiResp) meta() map[string]any {
	m, _ := r.Body["metadata"].(map[string]any)
	return m
}

func (r apiResp) metaInt(k string) int {
	f, _ := r.meta()[k].(float64)
	return int(f)
}

// newHook is a valid create body for url.
func newHook(url string, events ...string) map[string]any {
	if len(events) == 0 {
		events = []string{"workorder.status.published"}
	}
	return map[string]any{"url": url, "method": "post", "status": "active", "events": events}
}

// create posts a webhook and returns its result object.
func (tg *testGateway) create(token string, body map[string]any) map[string]any {
	tg.t.Helper()
	return tg.must(200, "POST", "/api/v1/webhooks", token, body).result()
}

// history returns a webhook's history, oldest first.
func (tg *testGateway) history(token, id string) []map[string]any {
	tg.t.Helper()
	return tg.must(200, "GET", "/api/v1/webhooks/"+id+"/history?sortDirection=ASC&perPage=500", token, nil).list()
}

func strs(v any) []string {
	items, _ := v.([]any)
	out := make([]string, len(items))
	for i, it := range items {
		out[i], _ = it.(string)
	}
	return out
}

func jsonMarshal(v any) ([]byte, error) { return json.Marshal(v) }
