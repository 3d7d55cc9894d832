package api_test

import (
	"github.com/hookgate/hookgate/gateway/gatewaytest"
	"net/http"
	"strings"
	"testing"
)

// TestStats: the health panel's figures are per company and count the
// attempts of the last hour.
func TestStats(t *testing.T) {
	tg := startAPIGateway(t, gatewaytest.APIConfig(t))
	rc := gatewaytest.NewReceiver(t, nil)
	acme := tg.Token("acme", "acme-secret")
	hook := tg.Create(acme, gatewaytest.NewHook(rc.Srv.URL+"/ok"))
	id := hook["webhookId"].(string)
	tg.Publish(acme, gatewaytest.Seed(t, "workorder.status.published"))
	rc.Next(t)
	tg.WaitDelivery(id, "succeeded")

	r := tg.Must(200, "GET", "/api/v1/stats", acme, nil).Result()
	q := r["queueDepth"].(map[string]any)
	for _, p := range []string{"high", "normal", "low"} {
		if _, ok := q[p].(float64); !ok {
			t.Errorf("queueDepth.%s missing: %v", p, q)
		}
	}
	hooks := r["webhooks"].([]any)
	if len(hooks) != 1 {
		t.Fatalf("webhooks %v", hooks)
	}
	h := hooks[0].(map[string]any)
	if h["webhookId"] != id || h["attempts"] != 1.0 || h["successRate"] != 1.0 || h["p95Ms"] == nil {
		t.Errorf("stats %v", h)
	}
	// Another company sees none of it.
	other := tg.Token("globex-admin", "globex-admin-secret")
	if hs := tg.Must(200, "GET", "/api/v1/stats", other, nil).Result()["webhooks"].([]any); len(hs) != 0 {
		t.Errorf("another company sees %v", hs)
	}
	tg.Must(401, "GET", "/api/v1/stats", "", nil)
	tg.Must(403, "GET", "/api/v1/stats", tg.Token("globex", "globex-secret"), nil) // publish only
}

// TestDashboardMounted: /ui is served by the gateway and asks to sign in.
func TestDashboardMounted(t *testing.T) {
	tg := startAPIGateway(t, gatewaytest.APIConfig(t))
	client := &http.Client{CheckRedirect: func(*http.Request, []*http.Request) error { return http.ErrUseLastResponse }}
	resp, err := client.Get(tg.Base + "/ui/webhooks")
	if err != nil {
		t.Fatal(err)
	}
	resp.Body.Close()
	if resp.StatusCode != http.StatusSeeOther || !strings.HasPrefix(resp.Header.Get("Location"), "/ui/login") {
		t.Fatalf("/ui/webhooks without a session: %d %q", resp.StatusCode, resp.Header.Get("Location"))
	}
	resp, err = client.Get(tg.Base + "/ui/login")
	if err != nil {
		t.Fatal(err)
	}
	resp.Body.Close()
	if resp.StatusCode != 200 || !strings.HasPrefix(resp.Header.Get("Content-Type"), "text/html") {
		t.Fatalf("/ui/login: %d %s", resp.StatusCode, resp.Header.Get("Content-Type"))
	}
}
