package gateway

import (
	"context"
	"net/http"
	"strings"
	"testing"
	"time"

	standardwebhooks "github.com/standard-webhooks/standard-webhooks/libraries/go"

	"github.com/hookgate/hookgate/config"
	"github.com/hookgate/hookgate/gateway/delivery"
	"github.com/hookgate/hookgate/gateway/gatewaytest"
	"github.com/hookgate/hookgate/gateway/webhooks"
	"github.com/hookgate/hookgate/signature"
	"github.com/hookgate/hookgate/store"
)

const (
	oldSecret  = "6f0c2d4e-7a1b-4c3d-9e8f-0a1b2c3d4e5f"
	newSecret2 = "01999f51-5c66-4449-b441-6b4a053fee6a"
)

func TestSigningSecretsAndRotation(t *testing.T) {
	w := &store.Webhook{Secret: oldSecret}
	next := *w
	next.Secret = newSecret2
	webhooks.RotateSecret(w, &next, time.Hour, gatewaytest.T0)
	if next.PreviousSecret != oldSecret || !next.PreviousSecretExpiresAt.Equal(gatewaytest.T0.Add(time.Hour)) {
		t.Fatalf("rotation kept %q until %v", next.PreviousSecret, next.PreviousSecretExpiresAt)
	}
	if got := delivery.SigningSecrets(&next, gatewaytest.T0.Add(59*time.Minute)); len(got) != 2 || got[0] != newSecret2 || got[1] != oldSecret {
		t.Errorf("during the grace: %v, want new then old", got)
	}
	if got := delivery.SigningSecrets(&next, gatewaytest.T0.Add(time.Hour)); len(got) != 1 || got[0] != newSecret2 {
		t.Errorf("at the end of the grace: %v, want only the new", got)
	}
	// A grace of 0 keeps nothing; an unchanged secret keeps its grace.
	none := *w
	none.Secret = newSecret2
	webhooks.RotateSecret(w, &none, 0, gatewaytest.T0)
	if none.PreviousSecret != "" {
		t.Errorf("grace 0 kept the old secret")
	}
	same := next
	webhooks.RotateSecret(&next, &same, 24*time.Hour, gatewaytest.T0.Add(time.Minute))
	if same.PreviousSecret != oldSecret || !same.PreviousSecretExpiresAt.Equal(gatewaytest.T0.Add(time.Hour)) {
		t.Errorf("an update without a new secret changed the grace")
	}
	webhooks.RotateSecret(&next, &same, 24*time.Hour, gatewaytest.T0.Add(2*time.Hour))
	if same.PreviousSecret != "" {
		t.Errorf("an expired previous secret is kept in the record")
	}
}

// TestRotationAndStandardWebhooksEndToEnd: over the API, a secret update
// with secretGracePeriod signs with both secrets until the grace ends; a
// standard-webhooks webhook sends webhook-id = the delivery uuid on every
// retry; history never holds a secret.
func TestRotationAndStandardWebhooksEndToEnd(t *testing.T) {
	rc := gatewaytest.NewReceiver(t, func(n int, w http.ResponseWriter, _ *http.Request) {
		if n == 2 {
			w.WriteHeader(503) // one retry, to see webhook-id stay
			return
		}
		w.WriteHeader(200)
	})
	tg := startAPIGateway(t, gatewaytest.APIConfig(t))
	tok := tg.Token("acme", "acme-secret")
	body := gatewaytest.NewHook(rc.Srv.URL+"/in", "workorder.created")
	body["secret"], body["signatureFormat"] = oldSecret, "standard-webhooks"
	hook := tg.Create(tok, body)
	id := hook["webhookId"].(string)
	if hook["signatureFormat"] != "standard-webhooks" || hook["previousSecretExpiresAt"] != nil {
		t.Fatalf("created %v", hook)
	}
	upd := tg.Must(200, "PUT", "/api/v1/webhooks/"+id, tok, map[string]any{"secret": newSecret2, "secretGracePeriod": "1h"}).Result()
	if upd["previousSecretExpiresAt"] != gatewaytest.T0.Add(time.Hour).Format(time.RFC3339) || upd["secret"] != newSecret2 {
		t.Fatalf("update answered %v", upd)
	}
	tg.Must(200, "POST", "/api/v1/webhooks/"+id+"/test", tok, nil)
	got := rc.Next(t)
	if want := signature.Sign(newSecret2, got.Body) + "," + signature.Sign(oldSecret, got.Body); got.Header.Get(delivery.HeaderSignature) != want {
		t.Errorf("during the grace X-FN-Signature = %s, want new,old", got.Header.Get(delivery.HeaderSignature))
	}
	uuid, _, _ := strings.Cut(got.Header.Get(delivery.HeaderDeliveryID), ":")
	if got.Header.Get("webhook-id") != uuid {
		t.Errorf("webhook-id %q, want the delivery uuid %q", got.Header.Get("webhook-id"), uuid)
	}
	lib, _ := standardwebhooks.NewWebhook(signature.StandardSecret(oldSecret))
	if err := lib.VerifyIgnoringTimestamp(got.Body, got.Header); err != nil {
		t.Errorf("old secret during the grace: %v", err)
	}

	tg.Clock.Advance(2 * time.Hour) // the grace is over
	tok = tg.Token("acme", "acme-secret")
	tg.Must(200, "POST", "/api/v1/webhooks/"+id+"/test", tok, nil)
	first := rc.Next(t) // answered 503
	// The retry is scheduled from the clock when the attempt is recorded:
	// wait for that before moving the clock past it.
	tg.WaitFor(id, store.DeliveryPending, func(d *store.Delivery) bool { return d.Attempts == 1 })
	tg.Clock.Advance(time.Minute)
	tg.G.Kick()
	retry := rc.Next(t)
	if retry.Header.Get(delivery.HeaderSignature) != signature.Sign(newSecret2, retry.Body) {
		t.Errorf("after the grace X-FN-Signature = %s, want the new secret only", retry.Header.Get(delivery.HeaderSignature))
	}
	if first.Header.Get("webhook-id") == "" || first.Header.Get("webhook-id") != retry.Header.Get("webhook-id") {
		t.Errorf("webhook-id changed across a retry: %q then %q", first.Header.Get("webhook-id"), retry.Header.Get("webhook-id"))
	}
	if err := lib.VerifyIgnoringTimestamp(retry.Body, retry.Header); err == nil {
		t.Error("the old secret still verifies after the grace")
	}
	newLib, _ := standardwebhooks.NewWebhook(signature.StandardSecret(newSecret2))
	if err := newLib.VerifyIgnoringTimestamp(retry.Body, retry.Header); err != nil {
		t.Errorf("the new secret: %v", err)
	}
	raw := tg.Must(200, "GET", "/api/v1/webhooks/"+id+"/history", tok, nil).Raw
	if strings.Contains(string(raw), oldSecret) || strings.Contains(string(raw), newSecret2) || !strings.Contains(string(raw), "secret_regenerated") {
		t.Errorf("history: %s", raw)
	}
}

func TestSigningFieldsValidation(t *testing.T) {
	tg := startAPIGateway(t, gatewaytest.APIConfig(t))
	tok := tg.Token("acme", "acme-secret")
	id := tg.Create(tok, gatewaytest.NewHook("https://example.com/in"))["webhookId"].(string)
	bad := func(method, path string, body map[string]any, want string) {
		t.Helper()
		r := tg.Call(method, path, tok, body)
		if r.Status != 400 || !strings.Contains(r.ErrMessage(), want) {
			t.Errorf("%v: %d %s, want 400 naming %s", body, r.Status, r.Raw, want)
		}
	}
	with := func(extra map[string]any) map[string]any {
		b := gatewaytest.NewHook("https://example.com/in")
		for k, v := range extra {
			b[k] = v
		}
		return b
	}
	bad("POST", "/api/v1/webhooks", with(map[string]any{"signatureFormat": "svix"}), "'signatureFormat'")
	bad("POST", "/api/v1/webhooks", with(map[string]any{"secretGracePeriod": "1h"}), "'secretGracePeriod'")
	bad("PUT", "/api/v1/webhooks/"+id, map[string]any{"secretGracePeriod": "1h"}, "'secretGracePeriod'")
	bad("PUT", "/api/v1/webhooks/"+id, map[string]any{"secret": newSecret2, "secretGracePeriod": "169h"}, "'secretGracePeriod'")
	bad("PUT", "/api/v1/webhooks/"+id, map[string]any{"secret": newSecret2, "secretGracePeriod": "soon"}, "'secretGracePeriod'")
	for _, v := range []string{"a\r\nX-Injected: 1", "a\nb", "a\x00b"} {
		bad("PUT", "/api/v1/webhooks/"+id, map[string]any{"webhookAttribute": map[string]any{"header": map[string]any{"X-Token": v}}}, `"X-Token"`)
	}
	ok := tg.Must(200, "PUT", "/api/v1/webhooks/"+id, tok, map[string]any{"secret": newSecret2, "secretGracePeriod": "0s"}).Result()
	if ok["previousSecretExpiresAt"] != nil {
		t.Errorf("grace 0 keeps the old secret until %v", ok["previousSecretExpiresAt"])
	}
	w, _ := tg.G.store.GetWebhook(context.Background(), id)
	if w.PreviousSecret != "" || w.SignatureFormat != "fn" {
		t.Errorf("stored previous %q format %q", w.PreviousSecret, w.SignatureFormat)
	}
}

// TestLiteralPrivateDestinationsRefused: with allow_private_networks off,
// create and update refuse URLs whose host is a literal non-public address
// in any spelling; names pass (checked after DNS when dialled).
func TestLiteralPrivateDestinationsRefused(t *testing.T) {
	cfg := gatewaytest.APIConfig(t)
	cfg.Delivery.AllowPrivateNetworks = false
	tg := startAPIGateway(t, cfg)
	tok := tg.Token("acme", "acme-secret")
	refused := []string{
		"https://127.0.0.1/in", "https://10.1.2.3/in", "https://172.16.0.1/in", "https://192.168.1.1/in",
		"https://169.254.169.254/latest/meta-data", "https://100.64.0.1/in", "https://0.0.0.0/in", "https://224.0.0.1/in",
		"https://[::1]/in", "https://[fd00::1]/in", "https://[fe80::1]/in", "https://[::ffff:127.0.0.1]/in", "https://[::]/in",
		"https://2130706433/in", "https://0x7f.0.0.1/in", "https://0177.0.0.1/in", "https://127.1/in",
		"https://127.0.0.1:8443/{{ workorder.id }}",
	}
	for _, u := range refused {
		r := tg.Call("POST", "/api/v1/webhooks", tok, gatewaytest.NewHook(u))
		if r.Status != 400 || !strings.Contains(r.ErrMessage(), "'url' is not an allowed destination") {
			t.Errorf("create %s: %d %s", u, r.Status, r.Raw)
		}
	}
	id := tg.Create(tok, gatewaytest.NewHook("https://example.com/in"))["webhookId"].(string)
	tg.Create(tok, gatewaytest.NewHook("https://example.com/{{ workorder.id }}/in"))
	r := tg.Call("PUT", "/api/v1/webhooks/"+id, tok, map[string]any{"url": "https://[::ffff:10.0.0.1]/in"})
	if r.Status != 400 || !strings.Contains(r.ErrMessage(), "allowed destination") || strings.Contains(string(r.Raw), "/in") {
		t.Errorf("update to a private literal: %d %s", r.Status, r.Raw)
	}
}

// TestHCLSecretRotation: changing a block's secret and reloading keeps the
// old secret signing for the block's secret_grace_period (else the
// delivery default); changing signature_format is recorded.
func TestHCLSecretRotation(t *testing.T) {
	cfg := gatewaytest.APIConfig(t)
	hook := hclWebhook("erp", "https://erp.example.com/h", 12)
	hook.Secret = oldSecret
	cfg.Webhooks = []config.Webhook{hook}
	tg := startAPIGateway(t, cfg)
	id := ConfigWebhookID("erp")

	next := *cfg
	changed := hook
	changed.Secret, changed.SignatureFormat = newSecret2, "standard-webhooks"
	next.Webhooks = []config.Webhook{changed}
	if _, err := tg.G.Reload(context.Background(), &next); err != nil {
		t.Fatal(err)
	}
	w, err := tg.G.store.GetWebhook(context.Background(), id)
	if err != nil {
		t.Fatal(err)
	}
	if w.Secret != newSecret2 || w.PreviousSecret != oldSecret || !w.PreviousSecretExpiresAt.Equal(gatewaytest.T0.Add(24*time.Hour)) ||
		w.SignatureFormat != "standard-webhooks" {
		t.Errorf("after reload: previous kept until %v, format %q", w.PreviousSecretExpiresAt, w.SignatureFormat)
	}
	tok := tg.Token("acme", "acme-secret")
	raw := string(tg.Must(200, "GET", "/api/v1/webhooks/"+id+"/history", tok, nil).Raw)
	if !strings.Contains(raw, "secret_regenerated") || !strings.Contains(raw, "signatureFormat") || strings.Contains(raw, oldSecret) || strings.Contains(raw, newSecret2) {
		t.Errorf("history %s", raw)
	}
	// A second change with a block-level grace of 0: the old secret stops at once.
	again := changed
	again.Secret = "5b1a0c2d-3e4f-4a5b-8c6d-7e8f9a0b1c2d"
	zero := time.Duration(0)
	again.SecretGracePeriod = &zero
	next.Webhooks = []config.Webhook{again}
	if _, err := tg.G.Reload(context.Background(), &next); err != nil {
		t.Fatal(err)
	}
	if w, _ = tg.G.store.GetWebhook(context.Background(), id); w.PreviousSecret != "" {
		t.Errorf("grace 0 kept a previous secret")
	}
}
