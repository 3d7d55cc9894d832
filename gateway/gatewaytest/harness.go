// Package gatewaytest runs a real gateway for tests (Badger in a temp dir,
// the sinks as subprocesses of the test binary, real HTTP on loopback, a
// manual clock) and talks to it as a client would. The tests of gateway
// and of gateway/api share it; each builds its gateway (gateway.New) and
// hands it to Serve, so this package does not import gateway.
package gatewaytest

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
	"path/filepath"
	"runtime"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/google/uuid"

	"github.com/hookgate/hookgate/config"
	"github.com/hookgate/hookgate/gateway/api"
	"github.com/hookgate/hookgate/store"
)

// Server is what the harness needs of a gateway.
type Server interface {
	Serve(ln net.Listener) error
	Start()
	Shutdown(ctx context.Context) error
	Store() store.Store
	// PutWebhook stores and indexes a webhook as is, past the API's checks.
	PutWebhook(ctx context.Context, w *store.Webhook) error
}

// Harness is a running gateway G and the means to talk to it.
type Harness[G Server] struct {
	T     testing.TB
	G     G
	Base  string       // http://127.0.0.1:port
	Clock *ManualClock // nil on the wall clock
	Cfg   *config.Config
}

// T0 is where every harness clock starts.
var T0 = time.Date(2026, 1, 20, 14, 55, 58, 0, time.UTC)

// PollInterval is the dispatcher poll the harness's gateways use
// (gateway.Options.PollInterval).
const PollInterval = 5 * time.Millisecond

// Config is a config for a test gateway: Badger in a temp dir, plain HTTP
// to loopback receivers allowed, and three clients (acme, globex, reader).
func Config(t testing.TB) *config.Config {
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

// ListenPublic listens on a loopback port and sets server.public_url to
// it, so pre-signed URLs can be followed; hand the listener to Serve.
func ListenPublic(t testing.TB, cfg *config.Config) net.Listener {
	t.Helper()
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	cfg.Server.PublicURL = "http://" + ln.Addr().String()
	return ln
}

// Serve answers HTTP with g on ln (nil: a new loopback port), starts its
// delivery when start is set, and shuts it down when t ends.
func Serve[G Server](t testing.TB, g G, ln net.Listener, cfg *config.Config, clock *ManualClock, start bool) *Harness[G] {
	t.Helper()
	if ln == nil {
		var err error
		if ln, err = net.Listen("tcp", "127.0.0.1:0"); err != nil {
			t.Fatal(err)
		}
	}
	go g.Serve(ln)
	if start {
		g.Start()
	}
	t.Cleanup(func() {
		ctx, cancel := context.WithTimeout(context.Background(), 10*time.Second)
		defer cancel()
		if err := g.Shutdown(ctx); err != nil {
			t.Errorf("Shutdown: %v", err)
		}
	})
	return &Harness[G]{T: t, G: g, Base: "http://" + ln.Addr().String(), Clock: clock, Cfg: cfg}
}

// Token gets a bearer token over the real token endpoint.
func (tg *Harness[G]) Token(client, secret string) string {
	tg.T.Helper()
	form := url.Values{"grant_type": {"client_credentials"}, "client_id": {client}, "client_secret": {secret}}
	resp, err := http.PostForm(tg.Base+"/authentication/api/oauth/token", form)
	if err != nil {
		tg.T.Fatal(err)
	}
	defer resp.Body.Close()
	var body struct {
		AccessToken string `json:"access_token"`
		TokenType   string `json:"token_type"`
		ExpiresIn   int    `json:"expires_in"`
	}
	if resp.StatusCode != 200 {
		b, _ := io.ReadAll(resp.Body)
		tg.T.Fatalf("token: %d %s", resp.StatusCode, b)
	}
	if err := json.NewDecoder(resp.Body).Decode(&body); err != nil || body.TokenType != "Bearer" || body.AccessToken == "" {
		tg.T.Fatalf("token answer %+v, %v", body, err)
	}
	return body.AccessToken
}

// Response is one answer of the gateway, its JSON body decoded.
type Response struct {
	Status int
	Header http.Header
	Body   map[string]any
	Raw    []byte
}

// ErrMessage is the first error message of the envelope, or "".
func (r Response) ErrMessage() string {
	errs, _ := r.Body["errors"].([]any)
	if len(errs) == 0 {
		return ""
	}
	m, _ := errs[0].(map[string]any)
	s, _ := m["message"].(string)
	return s
}

// Do sends body to path with a bearer token (none when empty) and headers.
func (tg *Harness[G]) Do(method, path, token string, body []byte, hdr map[string]string) Response {
	tg.T.Helper()
	return tg.DoReader(method, path, token, bytes.NewReader(body), hdr)
}

// DoReader is Do with the body read from r: one of unknown length (not a
// bytes or strings reader) goes chunked.
func (tg *Harness[G]) DoReader(method, path, token string, body io.Reader, hdr map[string]string) Response {
	tg.T.Helper()
	req, _ := http.NewRequest(method, tg.Base+path, body)
	if token != "" {
		req.Header.Set("Authorization", "Bearer "+token)
	}
	req.Header.Set("Content-Type", "application/json")
	for k, v := range hdr {
		req.Header.Set(k, v)
	}
	resp, err := http.DefaultClient.Do(req)
	if err != nil {
		tg.T.Fatal(err)
	}
	defer resp.Body.Close()
	raw, _ := io.ReadAll(resp.Body)
	r := Response{Status: resp.StatusCode, Header: resp.Header, Raw: raw}
	_ = json.Unmarshal(raw, &r.Body)
	return r
}

// Publish sends an envelope and requires 202.
func (tg *Harness[G]) Publish(token string, env []byte) map[string]any {
	tg.T.Helper()
	r := tg.Do("POST", "/api/v1/events", token, env, nil)
	if r.Status != 202 {
		tg.T.Fatalf("publish: %d %s", r.Status, r.Raw)
	}
	return r.Body["result"].(map[string]any)
}

// seedPath is the spec's example envelope, found from this file so that
// tests of any package read it.
func seedPath() string {
	_, here, _, _ := runtime.Caller(0)
	return filepath.Join(filepath.Dir(here), "..", "..", "transforms", "testdata", "seed-envelope.json")
}

// Seed returns the spec's example envelope with its event name replaced.
func Seed(t testing.TB, event string) []byte {
	t.Helper()
	raw, err := os.ReadFile(seedPath())
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

// AddWebhook stores a webhook directly (the management API comes later).
func (tg *Harness[G]) AddWebhook(w *store.Webhook) *store.Webhook {
	tg.T.Helper()
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
	w.Source, w.Version, w.CreatedAt, w.UpdatedAt = store.SourceAPI, 1, T0, T0
	if err := tg.G.PutWebhook(context.Background(), w); err != nil {
		tg.T.Fatal(err)
	}
	return w
}

// Received is one request a receiver got.
type Received struct {
	Method string
	Path   string
	Header http.Header
	Body   []byte
}

// Receiver is a loopback endpoint whose answers a test scripts.
type Receiver struct {
	Srv    *httptest.Server // its URL is where webhooks point
	mu     sync.Mutex
	got    []Received
	notify chan Received
	Answer func(n int, w http.ResponseWriter, r *http.Request) // scripts the answers; n counts from 1
}

// NewReceiver starts a loopback receiver that answers with answer (nil: 200).
func NewReceiver(t *testing.T, answer func(n int, w http.ResponseWriter, r *http.Request)) *Receiver {
	rc := &Receiver{notify: make(chan Received, 1000), Answer: answer}
	rc.Srv = httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		body, _ := io.ReadAll(r.Body)
		rec := Received{Method: r.Method, Path: r.URL.Path, Header: r.Header.Clone(), Body: body}
		rc.mu.Lock()
		rc.got = append(rc.got, rec)
		n := len(rc.got)
		rc.mu.Unlock()
		if rc.Answer != nil {
			rc.Answer(n, w, r)
		}
		rc.notify <- rec
	}))
	t.Cleanup(rc.Srv.Close)
	return rc
}

// Next waits for the next request (a real wait for real I/O, bounded).
func (rc *Receiver) Next(t *testing.T) Received {
	t.Helper()
	select {
	case r := <-rc.notify:
		return r
	case <-time.After(10 * time.Second):
		t.Fatal("receiver: no request within 10s")
		return Received{}
	}
}

// None asserts that nothing arrives within d.
func (rc *Receiver) None(t *testing.T, d time.Duration) {
	t.Helper()
	select {
	case r := <-rc.notify:
		t.Fatalf("receiver: unexpected request %s %s", r.Method, r.Path)
	case <-time.After(d):
	}
}

// WaitDelivery polls the store until a delivery of the webhook reaches state.
func (tg *Harness[G]) WaitDelivery(webhookID string, state store.DeliveryState) *store.Delivery {
	tg.T.Helper()
	return tg.WaitFor(webhookID, state, func(*store.Delivery) bool { return true })
}

// WaitFor polls the store (real I/O is happening) until a delivery of the
// webhook is in state and satisfies ok.
func (tg *Harness[G]) WaitFor(webhookID string, state store.DeliveryState, ok func(*store.Delivery) bool) *store.Delivery {
	tg.T.Helper()
	deadline := time.Now().Add(10 * time.Second)
	for time.Now().Before(deadline) {
		ds, err := tg.G.Store().ListDeliveries(context.Background(), webhookID, "", time.Time{}, time.Time{})
		if err != nil {
			tg.T.Fatal(err)
		}
		for _, d := range ds {
			if d.State == state && ok(d) {
				return d
			}
		}
		time.Sleep(5 * time.Millisecond)
	}
	tg.T.Fatalf("no delivery of webhook %s reached state %s", webhookID, state)
	return nil
}

// BufioCopy reads resp's body into dst.
func BufioCopy(dst *strings.Builder, resp *http.Response) (int64, error) {
	return io.Copy(dst, resp.Body)
}

// Logger discards logs unless HOOKGATE_TEST_LOG is set.
func Logger() *slog.Logger {
	if os.Getenv("HOOKGATE_TEST_LOG") != "" {
		return slog.New(slog.NewTextHandler(os.Stderr, &slog.HandlerOptions{Level: slog.LevelDebug}))
	}
	return slog.New(slog.NewTextHandler(io.Discard, nil))
}

// NewReceiverTB is a bare loopback endpoint for benchmarks; it returns its URL.
func NewReceiverTB(t testing.TB, h http.HandlerFunc) string {
	srv := httptest.NewServer(h)
	t.Cleanup(srv.Close)
	return srv.URL
}
