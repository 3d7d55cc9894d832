package api_test

import (
	"encoding/json"
	"testing"

	"github.com/hookgate/hookgate/gateway/gatewaytest"
)

// TestQueryEchoesOnlySent: metadata.query holds the filters the request
// sent and nothing else, as Field Nation's examples do; history's userId
// echoes as the string the document types it as. The events catalog keeps
// its pages' {"model": null} when no model is asked.
func TestQueryEchoesOnlySent(t *testing.T) {
	tg := startAPIGateway(t, gatewaytest.APIConfig(t))
	tok := tg.Token("acme", "acme-secret")
	id := tg.Create(tok, gatewaytest.NewHook("https://example.com/hook"))["webhookId"].(string)
	for _, c := range []struct{ path, want string }{
		{"/api/v1/webhooks", `{}`},
		{"/api/v1/webhooks?search=example", `{"search":"example"}`},
		{"/api/v1/webhooks?status=active&webhookId=" + id, `{"status":"active","webhookId":"` + id + `"}`},
		{"/api/v1/webhooks/delivery-logs", `{}`},
		{"/api/v1/webhooks/delivery-logs?webhookId=wh1&eventName=workorder.created&search=x",
			`{"eventName":"workorder.created","search":"x","webhookId":"wh1"}`},
		{"/api/v1/webhooks/delivery-logs?workOrderId=12&deliveryStatus=500", `{"deliveryStatus":"500","workOrderId":12}`},
		{"/api/v1/webhooks/" + id + "/history", `{"webhookId":"` + id + `"}`},
		{"/api/v1/webhooks/" + id + "/history?userId=1068&search=created", `{"search":"created","userId":"1068","webhookId":"` + id + `"}`},
		{"/api/v1/webhooks/events", `{"model":null}`},
	} {
		r := tg.Must(200, "GET", c.path, tok, nil)
		got, _ := json.Marshal(r.Meta()["query"])
		if string(got) != c.want {
			t.Errorf("GET %s: metadata.query %s, want %s", c.path, got, c.want)
		}
	}
}

// TestNotificationEmailIsAString: a webhook without a notification email
// answers "" (present), never null, in create, get and list.
func TestNotificationEmailIsAString(t *testing.T) {
	tg := startAPIGateway(t, gatewaytest.APIConfig(t))
	tok := tg.Token("acme", "acme-secret")
	w := tg.Create(tok, gatewaytest.NewHook("https://example.com/hook"))
	id := w["webhookId"].(string)
	for name, got := range map[string]map[string]any{
		"create": w,
		"get":    tg.Must(200, "GET", "/api/v1/webhooks/"+id, tok, nil).Result(),
		"list":   tg.Must(200, "GET", "/api/v1/webhooks", tok, nil).List()[0],
	} {
		if e, ok := got["notificationEmail"]; !ok || e != "" {
			t.Errorf("%s: notificationEmail %#v (present %v), want \"\"", name, e, ok)
		}
	}
}

// TestLegacyFieldAttributeIsNotTheHeaders: webhookAttribute=legacy_field
// answers the legacy field mappings (hookgate keeps none), not the
// headers; deleting a legacy_field attribute leaves the headers alone.
func TestLegacyFieldAttributeIsNotTheHeaders(t *testing.T) {
	tg := startAPIGateway(t, gatewaytest.APIConfig(t))
	tok := tg.Token("acme", "acme-secret")
	body := gatewaytest.NewHook("https://example.com/hook")
	body["webhookAttribute"] = map[string]any{"header": map[string]any{"X-Team": "ops"}}
	id := tg.Create(tok, body)["webhookId"].(string)
	for q, want := range map[string]string{
		"webhookAttribute=legacy_field":        `{"legacy_field":{}}`,
		"webhookAttribute=header":              `{"header":{"X-Team":"ops"}}`,
		"webhookAttribute=header,legacy_field": `{"header":{"X-Team":"ops"},"legacy_field":{}}`,
		"fields=webhookId,webhookAttribute":    `{"header":{"X-Team":"ops"}}`,
	} {
		for _, path := range []string{"/api/v1/webhooks/" + id + "?" + q, "/api/v1/webhooks?" + q} {
			r := tg.Must(200, "GET", path, tok, nil)
			w := r.Result()
			if w == nil {
				w = r.List()[0]
			}
			if got, _ := json.Marshal(w["webhookAttribute"]); string(got) != want {
				t.Errorf("GET %s: webhookAttribute %s, want %s", path, got, want)
			}
		}
	}
	if r := tg.Call("DELETE", "/api/v1/webhooks/"+id+"/legacy_field/X-Team", tok, nil); r.Status != 404 {
		t.Errorf("DELETE legacy_field/X-Team: %d %s", r.Status, r.Raw)
	}
	w := tg.Must(200, "GET", "/api/v1/webhooks/"+id+"?webhookAttribute=header", tok, nil).Result()
	if got, _ := json.Marshal(w["webhookAttribute"]); string(got) != `{"header":{"X-Team":"ops"}}` {
		t.Errorf("after DELETE legacy_field/X-Team the headers are %s", got)
	}
}
