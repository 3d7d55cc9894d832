package api_test

import (
	"strings"
	"testing"

	"github.com/hookgate/hookgate/gateway/gatewaytest"
)

// TestOrderingOverTheAPI: ordering and orderingOnDead default to none and
// continue, are shown by GET, refused with the field named when wrong,
// reset by null, and a change of either is one ordering_changed entry.
func TestOrderingOverTheAPI(t *testing.T) {
	tg := startAPIGateway(t, gatewaytest.APIConfig(t))
	tok := tg.Token("acme", "acme-secret")
	hook := tg.Create(tok, gatewaytest.NewHook("https://example.com/in", "workorder.created"))
	id := hook["webhookId"].(string)
	if hook["ordering"] != "none" || hook["orderingOnDead"] != "continue" {
		t.Fatalf("created with ordering %v, on dead %v; want none, continue", hook["ordering"], hook["orderingOnDead"])
	}
	for field, v := range map[string]any{"ordering": "by_work_order", "orderingOnDead": "stop"} {
		r := tg.Do("PUT", "/api/v1/webhooks/"+id, tok, []byte(`{"`+field+`":"`+v.(string)+`"}`), nil)
		if r.Status != 400 || !strings.Contains(string(r.Raw), "'"+field+"'") {
			t.Errorf("%s %q: %d %s, want 400 naming '%s'", field, v, r.Status, r.Raw, field)
		}
	}
	upd := tg.Must(200, "PUT", "/api/v1/webhooks/"+id, tok, map[string]any{"ordering": "work_order", "orderingOnDead": "hold"}).Result()
	if upd["ordering"] != "work_order" || upd["orderingOnDead"] != "hold" {
		t.Fatalf("updated to %v, %v", upd["ordering"], upd["orderingOnDead"])
	}
	got := tg.Must(200, "GET", "/api/v1/webhooks/"+id, tok, nil).Result()
	if got["ordering"] != "work_order" || got["orderingOnDead"] != "hold" {
		t.Errorf("GET shows %v, %v", got["ordering"], got["orderingOnDead"])
	}
	reset := tg.Must(200, "PUT", "/api/v1/webhooks/"+id, tok, map[string]any{"orderingOnDead": nil}).Result()
	if reset["orderingOnDead"] != "continue" || reset["ordering"] != "work_order" {
		t.Errorf("null orderingOnDead gives %v (ordering %v)", reset["orderingOnDead"], reset["ordering"])
	}
	var changes []any
	for _, e := range tg.Must(200, "GET", "/api/v1/webhooks/"+id+"/history", tok, nil).List() {
		if e["action"] == "ordering_changed" {
			changes = append(changes, e["changes"])
		}
	}
	if len(changes) != 2 {
		t.Fatalf("ordering_changed entries %v, want 2", changes)
	}
	// Newest first: the reset, then the change to work_order and hold.
	first := changes[1].(map[string]any)
	if o := first["ordering"].(map[string]any); o["from"] != "none" || o["to"] != "work_order" {
		t.Errorf("ordering change %v", o)
	}
	if o := changes[0].(map[string]any)["orderingOnDead"].(map[string]any); o["from"] != "hold" || o["to"] != "continue" {
		t.Errorf("orderingOnDead change %v", o)
	}
}
