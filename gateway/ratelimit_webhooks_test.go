package gateway

import (
	"strings"
	"testing"

	"github.com/hookgate/hookgate/gateway/gatewaytest"
)

// TestWebhookRateLimitFields: rateLimit, rateBurst and maxInFlight are
// stored, shown by GET, cleared by null, recorded in history, and a bad
// value is a 400 naming its field.
func TestWebhookRateLimitFields(t *testing.T) {
	tg := startAPIGateway(t, gatewaytest.APIConfig(t))
	tok := tg.Token("acme", "acme-secret")
	body := gatewaytest.NewHook("https://example.com/in")
	body["rateLimit"], body["rateBurst"], body["maxInFlight"] = "20/s", 5, 2
	id := tg.Create(tok, body)["webhookId"].(string)
	got := tg.Must(200, "GET", "/api/v1/webhooks/"+id, tok, nil).Result()
	if got["rateLimit"] != "20/s" || got["rateBurst"] != float64(5) || got["maxInFlight"] != float64(2) {
		t.Fatalf("GET after create: rateLimit %v rateBurst %v maxInFlight %v", got["rateLimit"], got["rateBurst"], got["maxInFlight"])
	}
	tg.Must(200, "PUT", "/api/v1/webhooks/"+id, tok, map[string]any{"rateLimit": "600/m", "rateBurst": nil, "maxInFlight": nil})
	got = tg.Must(200, "GET", "/api/v1/webhooks/"+id, tok, nil).Result()
	if got["rateLimit"] != "600/m" || got["rateBurst"] != nil || got["maxInFlight"] != nil {
		t.Fatalf("GET after update: rateLimit %v rateBurst %v maxInFlight %v", got["rateLimit"], got["rateBurst"], got["maxInFlight"])
	}
	raw := string(tg.Must(200, "GET", "/api/v1/webhooks/"+id+"/history", tok, nil).Raw)
	if !strings.Contains(raw, `"rateLimit":{"from":"20/s","to":"600/m"}`) || !strings.Contains(raw, `"maxInFlight":{"from":2,"to":0}`) {
		t.Errorf("history does not record the rate limit change: %s", raw)
	}

	for _, c := range []struct {
		field string
		value any
		want  string
	}{
		{"rateLimit", "20 per second", "'rateLimit' \"20 per second\" is not a rate"},
		{"rateLimit", 20, "'rateLimit' must be a rate"},
		{"rateBurst", 0, "'rateBurst' must be at least 1"},
		{"rateBurst", 2.5, "'rateBurst' must be a whole number"},
		{"maxInFlight", -1, "'maxInFlight' must be at least 1"},
	} {
		b := gatewaytest.NewHook("https://example.com/in")
		b["rateLimit"] = "20/s"
		b[c.field] = c.value
		if r := tg.Call("POST", "/api/v1/webhooks", tok, b); r.Status != 400 || !strings.Contains(r.ErrMessage(), c.want) {
			t.Errorf("%s = %v: %d %s, want 400 saying %s", c.field, c.value, r.Status, r.Raw, c.want)
		}
	}
	b := gatewaytest.NewHook("https://example.com/in")
	b["rateBurst"] = 3
	if r := tg.Call("POST", "/api/v1/webhooks", tok, b); r.Status != 400 || !strings.Contains(r.ErrMessage(), "'rateBurst' sizes the bucket of 'rateLimit'") {
		t.Errorf("rateBurst without rateLimit: %d %s", r.Status, r.Raw)
	}
}
