package gateway

import (
	"bytes"
	"fmt"
	"strings"
	"testing"
	"time"

	"github.com/hookgate/hookgate/config"
	"github.com/hookgate/hookgate/gateway/gatewaytest"
)

// TestWebhookQuota (issue 12, finding 5): a company may have
// quotas.webhooks webhooks. Webhook blocks count but are not refused (the
// operator's own), so a company over the limit by its HCL blocks cannot
// create more over the API; another company creates up to the limit, gets
// 409 naming the setting, and may create again after a delete.
func TestWebhookQuota(t *testing.T) {
	cfg := gatewaytest.APIConfig(t)
	cfg.Quotas.Webhooks = 2
	for i := range 3 {
		cfg.Webhooks = append(cfg.Webhooks, config.Webhook{Name: fmt.Sprintf("hcl%d", i), CompanyID: 100, URL: "https://hooks.example.com/x",
			Method: "post", Status: "active", Events: []string{"workorder.created"}, Sink: "http", SignatureFormat: config.SignatureFN})
	}
	tg := startAPIGateway(t, cfg)
	acme, globex := tg.Token("acme", "acme-secret"), tg.Token("globex-admin", "globex-admin-secret")

	r := tg.Call("POST", "/api/v1/webhooks", acme, gatewaytest.NewHook("https://hooks.example.com/y", "workorder.created"))
	if r.Status != 409 || !strings.Contains(r.ErrMessage(), "company 100 has 3 webhooks") || !strings.Contains(r.ErrMessage(), "quotas.webhooks (2)") {
		t.Fatalf("create past the limit (3 HCL webhooks, limit 2): %d %q; want 409 naming quotas.webhooks (2)", r.Status, r.ErrMessage())
	}
	var ids []string
	for range 2 {
		ids = append(ids, tg.Create(globex, gatewaytest.NewHook("https://hooks.example.com/z", "workorder.created"))["webhookId"].(string))
	}
	r = tg.Call("POST", "/api/v1/webhooks", globex, gatewaytest.NewHook("https://hooks.example.com/z", "workorder.created"))
	if r.Status != 409 || !strings.Contains(r.ErrMessage(), "company 200 has 2 webhooks") {
		t.Fatalf("third create of company 200: %d %q; want 409", r.Status, r.ErrMessage())
	}
	tg.Must(200, "DELETE", "/api/v1/webhooks/"+ids[0], globex, nil)
	tg.Must(200, "POST", "/api/v1/webhooks", globex, gatewaytest.NewHook("https://hooks.example.com/z", "workorder.created"))
}

// TestPublishRateQuota: a company publishes at most its publish_rate per
// second with bursts of publish_burst (here from its company block); past
// it, 429 with Retry-After naming the settings; another company's bucket is
// its own; the bucket refills with the (injected) clock.
func TestPublishRateQuota(t *testing.T) {
	cfg := gatewaytest.Config(t)
	rate, burst := 2, 3
	cfg.Companies = []config.Company{{ID: 100, PublishRate: &rate, PublishBurst: &burst}}
	tg := startGateway(t, cfg, false)
	acme, globex := tg.Token("acme", "acme-secret"), tg.Token("globex", "globex-secret")
	env := gatewaytest.Seed(t, "workorder.created")
	for range 3 {
		tg.Publish(acme, env)
	}
	r := tg.Do("POST", "/api/v1/events", acme, env, nil)
	if r.Status != 429 || r.Header.Get("Retry-After") != "1" ||
		!strings.Contains(r.ErrMessage(), `company 100 publishes faster than publish_rate of company "100" (2 events per second, bursts of 3`) {
		t.Fatalf("4th publish in a burst of 3: %d Retry-After %q %q; want 429 naming the company's publish_rate", r.Status, r.Header.Get("Retry-After"), r.ErrMessage())
	}
	tg.Publish(globex, bytes.ReplaceAll(env, []byte(`"100"`), []byte(`"200"`)))
	tg.Clock.Advance(time.Second) // two more tokens
	tg.Publish(acme, env)
	tg.Publish(acme, env)
	if r := tg.Do("POST", "/api/v1/events", acme, env, nil); r.Status != 429 {
		t.Fatalf("third publish in the next second: %d, want 429", r.Status)
	}
}

// TestStoredBytesQuota: a company may keep quotas.stored_bytes of event
// payloads; a publish past it gets 507 naming the setting, also once the
// figure is read from the store again; another company is not affected.
func TestStoredBytesQuota(t *testing.T) {
	cfg := gatewaytest.Config(t)
	env := gatewaytest.Seed(t, "workorder.created")
	cfg.Quotas.StoredBytes = int64(3*len(env) + len(env)/2)
	tg := startGateway(t, cfg, false)
	acme, globex := tg.Token("acme", "acme-secret"), tg.Token("globex", "globex-secret")
	for range 3 {
		tg.Publish(acme, env)
	}
	want := fmt.Sprintf("company 100 has %d bytes of events stored; this event (%d bytes) would pass quotas.stored_bytes (%d)", 3*len(env), len(env), cfg.Quotas.StoredBytes)
	r := tg.Do("POST", "/api/v1/events", acme, env, nil)
	if r.Status != 507 || !strings.Contains(r.ErrMessage(), want) {
		t.Fatalf("4th publish: %d %q; want 507 %q", r.Status, r.ErrMessage(), want)
	}
	tg.Clock.Advance(2 * storedUsageTTL) // read from the store again
	if r := tg.Do("POST", "/api/v1/events", acme, env, nil); r.Status != 507 || !strings.Contains(r.ErrMessage(), want) {
		t.Fatalf("4th publish with the store's figure: %d %q; want 507 %q", r.Status, r.ErrMessage(), want)
	}
	tg.Publish(globex, bytes.ReplaceAll(env, []byte(`"100"`), []byte(`"200"`)))
}
