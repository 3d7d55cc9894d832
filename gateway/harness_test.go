package gateway

import (
	"bytes"
	"context"
	"encoding/json"
	"io"
	"log/slog"
	"net"
	"net/http"
	"net/http/httptest"
	"net/url"
	"os"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/google/uuid"

	"github.com/hookgate/hookgate/config"
	"github.com/hookgate/hookgate/gateway/api"
	"github.com/hookgate/hookgate/store"
)

// testGateway is a real gateway (Badger in a temp dir, the http sink as a
// subprocess, real HTTP) with a manual clock.
type testGateway struct {
	t     testing.TB
	g     *Gateway
	base  string
	clock *ManualClock
	cfg   *config.Config
}

var t0 = time.Date(2026, 1, 20, 14, 55, 58, 0, time.UTC)

func testConfig(t testing.TB) *config.Config {
	cfg := config.Defaults()
	cfg.File = "test.hcl"
	cfg.Storage.Path = t.TempDir()
	cfg.Delivery.AllowHTTP = true
	cfg.Delivery.AllowPrivateNetworks = true
	cfg.Delivery.Timeout = 2 * time.Second
	cfg.Delivery.Workers = 8
	cfg.Auth.Clients = []config.Client{
		{ID: "acme", Secret: "acme-secret", CompanyID: 100, UserID: 1068, Scopes: []string{api.ScopePublish, api.ScopeWebhooksRead, api.ScopeWebhooksWrite}},
		{ID: "globex", Secret: "globex-secret", CompanyID: 200, UserID: 7, Scopes: []string{api.ScopePublish}},
		{ID: "reader", Secret: "reader-secret", CompanyID: 100, UserID: 9, Scopes: []string{api.ScopeWebhooksRead}},
	}
	return &cfg
}

// startGateway starts a gateway on cfg; start=false leaves the dispatcher stopped.
func startGateway(t *testing.T, cfg *config.Config, start bool) *testGateway {
	return startGatewayTB(t, cfg, start)
}

func startGatewayTB(t testing.TB, cfg *config.Config, start bool) *testGateway {
	return startGatewayClock(t, cfg, start, NewManualClock(t0))
}

// startGatewayClock starts a gateway with the given clock; benchmarks use
// the wall clock so due times spread out as in production. opts change the
// Options (a logger to read, no sink processes).
func startGatewayClock(t testing.TB, cfg *config.Config, start bool, clk Clock, opts ...func(*Options)) *testGateway {
	t.Helper()
	clock, _ := clk.(*ManualClock)
	o := Options{
		Config: cfg, Clock: clk, BuiltinCommand: sinkCommand,
		Logger:       testLogger(),
		PollInterval: 5 * time.Millisecond,
	}
	for _, f := range opts {
		f(&o)
	}
	g, err := New(context.Background(), o)
	if err != nil {
		t.Fatalf("New: %v", err)
	}
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	go g.Serve(ln)
	if start {
		g.Start()
	}
	tg := &testGateway{t: t, g: g, base: "http://" + ln.Addr().String(), clock: clock, cfg: cfg}
	t.Cleanup(func() {
		ctx, cancel := context.WithTimeout(context.Background(), 10*time.Second)
		defer cancel()
		if err := g.Shutdown(ctx); err != nil {
			t.Errorf("Shutdown: %v", err)
		}
	})
	return tg
}

// token gets a bearer token over the real token endpoint.
func (tg *testGateway) token(client, secret string) string {
	tg.t.Helper()
	form := url.Values{"grant_type": {"client_credentials"}, "client_id": {client}, "client_secret": {secret}}
	resp, err := http.PostForm(tg.base+"/authentication/api/oauth/token", form)
	if err != nil {
		tg.t.Fatal(err)
	}
	defer resp.Body.Close()
	var body struct {
		AccessToken string `json:"access_token"`
		TokenType   string `json:"token_type"`
		ExpiresIn   int    `json:"expires_in"`
	}
	if resp.StatusCode != 200 {
		b, _ := io.ReadAll(resp.Body)
		tg.t.Fatalf("token: %d %s", resp.StatusCode, b)
	}
	if err := json.NewDecoder(resp.Body).Decode(&body); err != nil || body.TokenType != "Bearer" || body.AccessToken == "" {
		tg.t.Fatalf("token answer %+v, %v", body, err)
	}
	return body.AccessToken
}

type apiResp struct {
	Status int
	Header http.Header
	Body   map[string]any
	Raw    []byte
}

func (r apiResp) errMessage() string {
	errs, _ := r.Body["errors"].([]any)
	if len(errs) == 0 {
		return ""
	}
	m, _ := errs[0].(map[string]any)
	s, _ := m["message"].(string)
	return s
}

func (tg *testGateway) do(method, path, token string, body []byte, hdr map[string]string) apiResp {
	tg.t.Helper()
	return tg.doReader(method, path, token, bytes.NewReader(body), hdr)
}

// doReader is do with the body read from r: one of unknown length (not a
// bytes or strings reader) goes chunked.
func (tg *testGateway) doReader(method, path, token string, body io.Reader, hdr map[string]string) apiResp {
	tg.t.Helper()
	req, _ := http.NewRequest(method, tg.base+path, body)
	if token != "" {
		req.Header.Set("Authorization", "Bearer "+token)
	}
	req.Header.Set("Content-Type", "application/json")
	for k, v := range hdr {
		req.Header.Set(k, v)
	}
	resp, err := http.DefaultClient.Do(req)
	if err != nil {
		tg.t.Fatal(err)
	}
	defer resp.Body.Close()
	raw, _ := io.ReadAll(resp.Body)
	r := apiResp{Status: resp.StatusCode, Header: resp.Header, Raw: raw}
	_ = json.Unmarshal(raw, &r.Body)
	return r
}

// publish sends an envelope and requires 202.
func (tg *testGateway) publish(token string, env []byte) map[string]any {
	tg.t.Helper()
	r := tg.do("POST", "/api/v1/events", token, env, nil)
	if r.Status != 202 {
		tg.t.Fatalf("publish: %d %s", r.Status, r.Raw)
	}
	return r.Body["result"].(map[string]any)
}

// seed returns the spec's example envelope with its event name replaced.
func seed(t testing.TB, event string) []byte {
	t.Helper()
	raw, err := os.ReadFile("../transforms/testdata/seed-envelope.json")
	if err != nil {
		t.Fatal(err)
	}
	var m map[string]any
	if err := json.Unmarshal(raw, &m); err != nil {
		t.Fatal(err)
	}
	m["event"].(map[string]any)["name"] = event
	out, _ := json.Marshal(m)
	return out
}

// addWebhook stores a webhook directly (the management API comes later).
func (tg *testGateway) addWebhook(w *store.Webhook) *store.Webhook {
	tg.t.Helper()
	if w.WebhookID == "" {
		w.WebhookID = uuid.NewString()
	}
	if w.Method == "" {
		w.Method = "post"
	}
	if w.Status == "" {
		w.Status = store.StatusActive
	}
	if w.Sink == "" {
		w.Sink = "http"
	}
	if w.Secret == "" {
		w.Secret = "01999f51-5c66-4449-b441-6b4a053fee6a"
	}
	if w.CompanyID == 0 {
		w.CompanyID = 100
	}
	w.Source, w.Version, w.CreatedAt, w.UpdatedAt = store.SourceAPI, 1, t0, t0
	if err := tg.g.store.PutWebhook(context.Background(), w, nil); err != nil {
		tg.t.Fatal(err)
	}
	tg.g.index.Put(w)
	return w
}

// received is one request a receiver got.
type received struct {
	Method string
	Path   string
	Header http.Header
	Body   []byte
}

// receiver is a loopback endpoint whose answers a test scripts.
type receiver struct {
	srv    *httptest.Server
	mu     sync.Mutex
	got    []received
	notify chan received
	answer func(n int, w http.ResponseWriter, r *http.Request) // n counts from 1
}

func newReceiver(t *testing.T, answer func(n int, w http.ResponseWriter, r *http.Request)) *receiver {
	rc := &receiver{notify: make(chan received, 1000), answer: answer}
	rc.srv = httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		body, _ := io.ReadAll(r.Body)
		rec := received{Method: r.Method, Path: r.URL.Path, Header: r.Header.Clone(), Body: body}
		rc.mu.Lock()
		rc.got = append(rc.got, rec)
		n := len(rc.got)
		rc.mu.Unlock()
		if rc.answer != nil {
			rc.answer(n, w, r)
		}
		rc.notify <- rec
	}))
	t.Cleanup(rc.srv.Close)
	return rc
}

// next waits for the next request (a real wait for real I/O, bounded).
func (rc *receiver) next(t *testing.T) received {
	t.Helper()
	select {
	case r := <-rc.notify:
		return r
	case <-time.After(10 * time.Second):
		t.Fatal("receiver: no request within 10s")
		return received{}
	}
}

// none asserts that nothing arrives within d.
func (rc *receiver) none(t *testing.T, d time.Duration) {
	t.Helper()
	select {
	case r := <-rc.notify:
		t.Fatalf("receiver: unexpected request %s %s", r.Method, r.Path)
	case <-time.After(d):
	}
}

// waitDelivery polls the store until a delivery of the webhook reaches state.
func (tg *testGateway) waitDelivery(webhookID string, state store.DeliveryState) *store.Delivery {
	tg.t.Helper()
	return tg.waitFor(webhookID, state, func(*store.Delivery) bool { return true })
}

// waitFor polls the store (real I/O is happening) until a delivery of the
// webhook is in state and satisfies ok.
func (tg *testGateway) waitFor(webhookID string, state store.DeliveryState, ok func(*store.Delivery) bool) *store.Delivery {
	tg.t.Helper()
	deadline := time.Now().Add(10 * time.Second)
	for time.Now().Before(deadline) {
		ds, err := tg.g.store.ListDeliveries(context.Background(), webhookID, "", time.Time{}, time.Time{})
		if err != nil {
			tg.t.Fatal(err)
		}
		for _, d := range ds {
			if d.State == state && ok(d) {
				return d
			}
		}
		time.Sleep(5 * time.Millisecond)
	}
	tg.t.Fatalf("no delivery of webhook %s reached state %s", webhookID, state)
	return nil
}

func bufioCopy(dst *strings.Builder, resp *http.Response) (int64, error) {
	return io.Copy(dst, resp.Body)
}

// testLogger discards logs unless HOOKGATE_TEST_LOG is set.
func testLogger() *slog.Logger {
	if os.Getenv("HOOKGATE_TEST_LOG") != "" {
		return slog.New(slog.NewTextHandler(os.Stderr, &slog.HandlerOptions{Level: slog.LevelDebug}))
	}
	return slog.New(slog.NewTextHandler(io.Discard, nil))
}

// newReceiverTB is a bare loopback endpoint for benchmarks; it returns its URL.
func newReceiverTB(t testing.TB, h http.HandlerFunc) string {
	srv := httptest.NewServer(h)
	t.Cleanup(srv.Close)
	return srv.URL
}
