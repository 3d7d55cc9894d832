package delivery

import (
	"net/http"
	"strings"
	"testing"
	"time"

	standardwebhooks "github.com/standard-webhooks/standard-webhooks/libraries/go"

	"github.com/hookgate/hookgate/signature"
	"github.com/hookgate/hookgate/store"
)

const (
	oldSecret  = "6f0c2d4e-7a1b-4c3d-9e8f-0a1b2c3d4e5f"
	newSecret2 = "01999f51-5c66-4449-b441-6b4a053fee6a"
)

// TestSignHeaders: X-FN-Signature carries both signatures during the
// grace, newest first; Standard Webhooks headers verify with the spec's Go
// library given signature.StandardSecret, with either secret.
func TestSignHeaders(t *testing.T) {
	w := &store.Webhook{Secret: newSecret2, PreviousSecret: oldSecret, PreviousSecretExpiresAt: t0.Add(time.Hour),
		SignatureFormat: "standard-webhooks"}
	body := []byte(`{"event":{"name":"workorder.created"}}`)
	h := map[string]string{}
	sign(h, w, "3f1e0c2a-9b8d-4c7e-a6f5-1d2e3f4a5b6c", t0, body)
	if want := signature.Sign(newSecret2, body) + "," + signature.Sign(oldSecret, body); h[HeaderSignature] != want {
		t.Errorf("X-FN-Signature = %s, want %s", h[HeaderSignature], want)
	}
	hdr := http.Header{}
	for k, v := range h {
		hdr.Set(k, v)
	}
	if hdr.Get("webhook-id") != "3f1e0c2a-9b8d-4c7e-a6f5-1d2e3f4a5b6c" || hdr.Get("webhook-timestamp") != "1768920958" {
		t.Errorf("webhook-id %q, webhook-timestamp %q", hdr.Get("webhook-id"), hdr.Get("webhook-timestamp"))
	}
	if n := len(strings.Fields(hdr.Get("webhook-signature"))); n != 2 {
		t.Errorf("webhook-signature has %d entries during the grace, want 2", n)
	}
	for _, s := range []string{newSecret2, oldSecret} {
		lib, err := standardwebhooks.NewWebhook(signature.StandardSecret(s))
		if err != nil {
			t.Fatal(err)
		}
		if err := lib.VerifyIgnoringTimestamp(body, hdr); err != nil {
			t.Errorf("the spec's library rejects our headers for secret %.8s: %v", s, err)
		}
	}
	fn := map[string]string{}
	sign(fn, &store.Webhook{Secret: newSecret2}, "x", t0, body)
	if len(fn) != 1 || fn[HeaderSignature] != signature.Sign(newSecret2, body) {
		t.Errorf("fn format headers: %v", fn)
	}
}
