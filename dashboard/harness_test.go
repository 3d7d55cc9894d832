package dashboard_test

import (
	"context"
	"encoding/json"
	"io"
	"log/slog"
	"net"
	"net/http"
	"net/http/httptest"
	"net/url"
	"os"
	"slices"
	"strings"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	"github.com/hashicorp/hcl/v2"

	"github.com/hookgate/hookgate/config"
	"github.com/hookgate/hookgate/gateway"
	"github.com/hookgate/hookgate/gateway/api"
	"github.com/hookgate/hookgate/plugins/sdk/sdktest"
)

// liveGateway is a real gateway (Badger in a temp dir, the http sink as a
// subprocess, the wall clock) listening on loopback.
type liveGateway struct {
	base string
	g    *gateway.Gateway
}

func startGateway(t *testing.T) *liveGateway {
	t.Helper()
	cfg := config.Defaults()
	cfg.File = "test.hcl"
	cfg.Storage.Path = t.TempDir()
	cfg.Delivery.AllowHTTP = true
	cfg.Delivery.AllowPrivateNetworks = true
	cfg.Delivery.Timeout = 2 * time.Second
	cfg.Storage.RollupSample = 100 * time.Millisecond // the charts follow deliveries within the test's waits
	cfg.Delivery.Workers = 4
	// One automatic retry, an hour away: the test's second attempt is the
	// one it asks for with the Retry button.
	cfg.Delivery.Backoff = []time.Duration{time.Hour}
	cfg.API.RateLimit, cfg.API.RateBurst = 100_000, 100_000
	cfg.Auth.Clients = []config.Client{
		{ID: "acme", Secret: "acme-secret", CompanyID: 100, UserID: 1068,
			Scopes: []string{api.ScopePublish, api.ScopeWebhooksRead, api.ScopeWebhooksWrite}},
	}
	// A webhook from the HCL file: read-only in the dashboard.
	cfg.Webhooks = []config.Webhook{{
		Name: "erp", CompanyID: 100, UserID: 1068, URL: "https://erp.example.com/hooks/fn", Method: "post",
		Status: "inactive", Events: []string{"workorder.status.approved"}, Sink: "http",
		Range: hcl.Range{Filename: "gateway.hcl", Start: hcl.Pos{Line: 42, Column: 1}},
	}}
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	cfg.Server.PublicURL = "http://" + ln.Addr().String()
	logger := slog.New(slog.NewTextHandler(io.Discard, nil))
	if os.Getenv("HOOKGATE_TEST_LOG") != "" {
		logger = slog.New(slog.NewTextHandler(os.Stderr, &slog.HandlerOptions{Level: slog.LevelDebug}))
	}
	g, err := gateway.New(context.Background(), gateway.Options{
		Config: &cfg, BuiltinCommand: sdktest.Command, Logger: logger, PollInterval: 10 * time.Millisecond,
	})
	if err != nil {
		ln.Close()
		t.Fatalf("gateway.New: %v", err)
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
	return &liveGateway{base: cfg.Server.PublicURL, g: g}
}

// token gets a bearer token for the API calls the test makes as a producer.
func (lg *liveGateway) token(t *testing.T) string {
	t.Helper()
	resp, err := http.PostForm(lg.base+"/authentication/api/oauth/token",
		url.Values{"grant_type": {"client_credentials"}, "client_id": {"acme"}, "client_secret": {"acme-secret"}})
	if err != nil {
		t.Fatal(err)
	}
	defer resp.Body.Close()
	var body struct {
		AccessToken string `json:"access_token"`
	}
	if err := json.NewDecoder(resp.Body).Decode(&body); err != nil || body.AccessToken == "" {
		t.Fatalf("token: %d %v", resp.StatusCode, err)
	}
	return body.AccessToken
}

// publish sends the seed envelope as event name through the API.
func (lg *liveGateway) publish(t *testing.T, token, name string) {
	t.Helper()
	raw, err := os.ReadFile("../transforms/testdata/seed-envelope.json")
	if err != nil {
		t.Fatal(err)
	}
	var env map[string]any
	if err := json.Unmarshal(raw, &env); err != nil {
		t.Fatal(err)
	}
	env["event"].(map[string]any)["name"] = name
	status, answer := lg.post(t, token, "/api/v1/events", env)
	if status != http.StatusAccepted {
		t.Fatalf("publish: %d %s", status, answer)
	}
}

// post sends body as JSON to the API as the token's client and returns
// the answer's status and body.
func (lg *liveGateway) post(t *testing.T, token, path string, body any) (int, []byte) {
	t.Helper()
	raw, _ := json.Marshal(body)
	req, _ := http.NewRequest("POST", lg.base+path, strings.NewReader(string(raw)))
	req.Header.Set("Authorization", "Bearer "+token)
	req.Header.Set("Content-Type", "application/json")
	resp, err := http.DefaultClient.Do(req)
	if err != nil {
		t.Fatal(err)
	}
	defer resp.Body.Close()
	answer, err := io.ReadAll(resp.Body)
	if err != nil {
		t.Fatal(err)
	}
	return resp.StatusCode, answer
}

// flakyReceiver fails its first request with a 500 and accepts the rest,
// so the logs have a failed delivery to retry.
func flakyReceiver(t *testing.T) (string, *atomic.Int32) {
	var n atomic.Int32
	srv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		_, _ = io.Copy(io.Discard, r.Body)
		w.Header().Set("Content-Type", "application/json")
		if n.Add(1) == 1 {
			w.WriteHeader(http.StatusInternalServerError)
			_, _ = w.Write([]byte(`{"error":"database is restarting"}`))
			return
		}
		_, _ = w.Write([]byte(`{"ok":true}`))
	}))
	t.Cleanup(srv.Close)
	return srv.URL, &n
}

// createWebhook posts a webhook through the API and returns its id.
func (lg *liveGateway) createWebhook(t *testing.T, token string, body map[string]any) string {
	t.Helper()
	status, answer := lg.post(t, token, "/api/v1/webhooks", body)
	var env struct {
		Result struct {
			WebhookID string `json:"webhookId"`
		} `json:"result"`
	}
	if err := json.Unmarshal(answer, &env); err != nil || status != http.StatusOK || env.Result.WebhookID == "" {
		t.Fatalf("create webhook: %d %s", status, answer)
	}
	return env.Result.WebhookID
}

// received is one request a test receiver got.
type received struct {
	event, sequence, deliveryID string
}

// laneReceiver answers its first request with a 404 (a permanent failure:
// the delivery is dead-lettered at once) and accepts the rest, recording
// every request in arrival order.
type laneReceiver struct {
	url string
	mu  sync.Mutex
	got []received
}

func newLaneReceiver(t *testing.T) *laneReceiver {
	lr := &laneReceiver{}
	srv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		_, _ = io.Copy(io.Discard, r.Body)
		lr.mu.Lock()
		lr.got = append(lr.got, received{event: r.Header.Get("X-FN-Event-Name"), sequence: r.Header.Get("X-FN-Sequence"),
			deliveryID: r.Header.Get("X-FN-Delivery-Id")})
		first := len(lr.got) == 1
		lr.mu.Unlock()
		if first {
			http.Error(w, `{"error":"no such work order"}`, http.StatusNotFound)
			return
		}
		_, _ = w.Write([]byte(`{"ok":true}`))
	}))
	t.Cleanup(srv.Close)
	lr.url = srv.URL
	return lr
}

// requests returns what the receiver got so far.
func (lr *laneReceiver) requests() []received {
	lr.mu.Lock()
	defer lr.mu.Unlock()
	return slices.Clone(lr.got)
}

// waitFor polls (bounded) until the receiver got n requests and returns them.
func (lr *laneReceiver) waitFor(t *testing.T, n int) []received {
	t.Helper()
	deadline := time.Now().Add(15 * time.Second)
	for {
		got := lr.requests()
		if len(got) >= n {
			return got
		}
		if time.Now().After(deadline) {
			t.Fatalf("the receiver got %d requests within 15s, want %d: %v", len(got), n, got)
		}
		time.Sleep(20 * time.Millisecond) // deliveries happen in the gateway's own time
	}
}
