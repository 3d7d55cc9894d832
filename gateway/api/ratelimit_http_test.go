package api_test

import (
	"github.com/hookgate/hookgate/gateway/gatewaytest"
	"strconv"
	"testing"
	"time"
)

// TestRateLimit: 100 a minute with bursts of 20 per client, headers on
// every answer, 429 in the envelope, refill by the injected clock, and
// publishing left alone.
func TestRateLimit(t *testing.T) {
	cfg := gatewaytest.APIConfig(t)
	cfg.API.RateLimit, cfg.API.RateBurst = 100, 20
	tg := startAPIGateway(t, cfg)
	tok := tg.Token("acme", "acme-secret") // the token endpoint counts per address
	tok2 := tg.Token("acme", "acme-secret")
	for i := 0; i < 20; i++ {
		tokn := tok
		if i%2 == 1 {
			tokn = tok2 // every token of a client shares its bucket
		}
		r := tg.Call("GET", "/api/v1/webhooks", tokn, nil)
		if r.Status != 200 {
			t.Fatalf("request %d: %d", i+1, r.Status)
		}
		if got := r.Header.Get("X-RateLimit-Remaining"); got != strconv.Itoa(19-i) {
			t.Errorf("request %d: remaining %s, want %d", i+1, got, 19-i)
		}
		if r.Header.Get("X-RateLimit-Limit") != "100" {
			t.Errorf("limit header %q", r.Header.Get("X-RateLimit-Limit"))
		}
	}
	r := tg.Call("GET", "/api/v1/webhooks", tok, nil)
	if r.Status != 429 || r.Body["errors"].([]any)[0].(map[string]any)["code"] != 429.0 || r.Header.Get("Retry-After") != "1" {
		t.Fatalf("21st request: %d %s Retry-After=%s", r.Status, r.Raw, r.Header.Get("Retry-After"))
	}
	reset, _ := strconv.ParseInt(r.Header.Get("X-RateLimit-Reset"), 10, 64)
	// Empty bucket: full again after 20 × 0.6 s = 12 s.
	if want := tg.Clock.Now().Add(12 * time.Second).Unix(); reset != want {
		t.Errorf("reset %d, want %d", reset, want)
	}
	// Another client has its own bucket; publishing is not limited.
	tg.Must(200, "GET", "/api/v1/webhooks", tg.Token("reader", "reader-secret"), nil)
	for i := 0; i < 25; i++ {
		tg.Publish(tok, gatewaytest.Seed(t, "workorder.created"))
	}
	// 0.6 s gives one request back.
	tg.Clock.Advance(600 * time.Millisecond)
	if r := tg.Call("GET", "/api/v1/webhooks", tok, nil); r.Status != 200 || r.Header.Get("X-RateLimit-Remaining") != "0" {
		t.Errorf("after 0.6s: %d remaining %s", r.Status, r.Header.Get("X-RateLimit-Remaining"))
	}
	tg.Clock.Advance(time.Minute)
	if r := tg.Call("GET", "/api/v1/webhooks", tok, nil); r.Header.Get("X-RateLimit-Remaining") != "19" {
		t.Errorf("after a minute: remaining %s, want 19 (the burst)", r.Header.Get("X-RateLimit-Remaining"))
	}
	// Errors carry the headers too, and a bad token is limited by address.
	if r := tg.Call("GET", "/api/v1/webhooks/nope", tok, nil); r.Status != 404 || r.Header.Get("X-RateLimit-Remaining") == "" {
		t.Errorf("404 without rate headers: %v", r.Header)
	}
	if r := tg.Call("GET", "/api/v1/webhooks", "garbage", nil); r.Status != 401 || r.Header.Get("X-RateLimit-Limit") != "100" {
		t.Errorf("401 without rate headers: %v", r.Header)
	}
}
