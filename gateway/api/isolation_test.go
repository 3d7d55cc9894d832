package api_test

import (
	"net/http"
	"net/url"
	"strings"
	"testing"

	"github.com/hookgate/hookgate/gateway/gatewaytest"
	"github.com/hookgate/hookgate/store"
)

// TestIsolation: another company's webhooks, logs and history are 404 and
// never appear in a list, a search or a count.
func TestIsolation(t *testing.T) {
	rc := gatewaytest.NewReceiver(t, func(_ int, w http.ResponseWriter, _ *http.Request) { w.WriteHeader(200) })
	tg := startAPIGateway(t, gatewaytest.APIConfig(t))
	acme, globex := tg.Token("acme", "acme-secret"), tg.Token("globex-admin", "globex-admin-secret")
	mine := tg.Create(acme, gatewaytest.NewHook(rc.Srv.URL+"/acme", "workorder.created"))["webhookId"].(string)
	theirs := tg.Create(globex, gatewaytest.NewHook(rc.Srv.URL+"/globex", "workorder.created"))["webhookId"].(string)
	tg.Publish(acme, gatewaytest.Seed(t, "workorder.created"))
	rc.Next(t)
	d := tg.WaitDelivery(mine, store.DeliverySucceeded)
	logID := store.FormatLogID(d.ID, 1)

	for _, p := range []string{"/api/v1/webhooks/" + mine, "/api/v1/webhooks/" + mine + "/history",
		"/api/v1/webhooks/delivery-logs/" + logID, "/api/v1/webhooks/delivery-logs/" + d.ID} {
		if r := tg.Call("GET", p, globex, nil); r.Status != 404 {
			t.Errorf("globex GET %s: %d %s", p, r.Status, r.Raw)
		}
	}
	for _, c := range []struct{ method, path string }{
		{"PUT", "/api/v1/webhooks/" + mine}, {"DELETE", "/api/v1/webhooks/" + mine},
		{"DELETE", "/api/v1/webhooks/" + mine + "/header/X-A"}, {"POST", "/api/v1/webhooks/" + mine + "/test"},
		{"POST", "/api/v1/webhooks/" + mine + "/recover"}, {"PATCH", "/api/v1/webhooks/delivery-logs/" + logID + "/retry"},
	} {
		var body any = map[string]any{"status": "inactive"}
		if strings.HasSuffix(c.path, "/recover") {
			body = map[string]any{"since": "2026-01-01T00:00:00Z"}
		}
		if r := tg.Call(c.method, c.path, globex, body); r.Status != 404 {
			t.Errorf("globex %s %s: %d %s", c.method, c.path, r.Status, r.Raw)
		}
	}
	for _, q := range []string{"", "?search=" + mine, "?webhookId=" + mine, "?search=acme"} {
		r := tg.Must(200, "GET", "/api/v1/webhooks"+q, globex, nil)
		if strings.Contains(gatewaytest.JSONText(r.Body["result"]), mine) || (q == "" && r.MetaInt("total") != 1) || (q != "" && r.MetaInt("total") != 0) {
			t.Errorf("globex list %q: %s", q, r.Raw)
		}
	}
	for _, q := range []string{"", "?webhookId=" + mine, "?deliveryId=" + url.QueryEscape(logID), "?search=" + d.ID[:8]} {
		r := tg.Must(200, "GET", "/api/v1/webhooks/delivery-logs"+q, globex, nil)
		if r.MetaInt("total") != 0 || strings.Contains(gatewaytest.JSONText(r.Body["result"]), mine) {
			t.Errorf("globex logs %q: %s", q, r.Raw)
		}
	}
	// A deleted webhook's history stays with its company only.
	tg.Must(200, "DELETE", "/api/v1/webhooks/"+mine, acme, nil)
	if r := tg.Call("GET", "/api/v1/webhooks/"+mine+"/history", globex, nil); r.Status != 404 {
		t.Errorf("globex reads deleted history: %d", r.Status)
	}
	tg.Must(200, "GET", "/api/v1/webhooks/"+mine+"/history", acme, nil)
	// And the other way round.
	if r := tg.Call("GET", "/api/v1/webhooks/"+theirs, acme, nil); r.Status != 404 {
		t.Errorf("acme reads globex: %d", r.Status)
	}
}
