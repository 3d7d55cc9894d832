package gateway

import (
	"context"
	"reflect"
	"slices"
	"strings"
	"testing"

	"github.com/hashicorp/hcl/v2"

	"github.com/hookgate/hookgate/config"
	"github.com/hookgate/hookgate/gateway/gatewaytest"
)

func hclWebhook(name, url string, line int) config.Webhook {
	return config.Webhook{Name: name, CompanyID: 100, URL: url, Method: "post", Status: "active",
		Events: []string{"workorder.created"}, Sink: "http",
		Range: hcl.Range{Filename: "gateway.hcl", Start: hcl.Pos{Line: line}}}
}

// TestHCLWebhooksReadOnlyAndReload: webhooks of the HCL file are 409 over
// the API, naming file and block; Reload applies the file and records
// history as the system.
func TestHCLWebhooksReadOnlyAndReload(t *testing.T) {
	cfg := gatewaytest.APIConfig(t)
	cfg.Webhooks = []config.Webhook{hclWebhook("erp", "https://erp.example.com/h", 12), hclWebhook("old", "https://old.example.com/h", 30)}
	tg := startAPIGateway(t, cfg)
	tok := tg.Token("acme", "acme-secret")
	id := ConfigWebhookID("erp")
	w := tg.Must(200, "GET", "/api/v1/webhooks/"+id, tok, nil).Result()
	if w["source"] != "config" {
		t.Errorf("source %v", w["source"])
	}
	for _, c := range []struct {
		method, path string
		body         any
	}{
		{"PUT", "/api/v1/webhooks/" + id, map[string]any{"status": "inactive"}},
		{"DELETE", "/api/v1/webhooks/" + id, nil},
		{"DELETE", "/api/v1/webhooks/" + id + "/header/X-A", nil},
	} {
		r := tg.Call(c.method, c.path, tok, c.body)
		if r.Status != 409 || !strings.Contains(r.ErrMessage(), `gateway.hcl:12 webhook "erp"`) {
			t.Errorf("%s %s: %d %s, want 409 naming gateway.hcl:12 webhook \"erp\"", c.method, c.path, r.Status, r.ErrMessage())
		}
	}

	next := *cfg
	next.Webhooks = []config.Webhook{hclWebhook("erp", "https://erp.example.com/v2", 14), hclWebhook("new", "https://new.example.com/h", 40)}
	next.Webhooks[0].Status = "inactive"
	rep, err := tg.G.Reload(context.Background(), &next)
	if err != nil {
		t.Fatal(err)
	}
	if !reflect.DeepEqual(rep.ReloadSummary, ReloadSummary{Created: []string{"new"}, Updated: []string{"erp"}, Deleted: []string{"old"}}) || len(rep.RestartNeeded) != 0 {
		t.Errorf("report %+v", rep)
	}
	w = tg.Must(200, "GET", "/api/v1/webhooks/"+id, tok, nil).Result()
	if w["url"] != "https://erp.example.com/v2" || w["status"] != "inactive" {
		t.Errorf("after reload %v", w)
	}
	hist := tg.History(tok, id)
	var actions []string
	for _, h := range hist {
		actions = append(actions, h["action"].(string))
		if h["userId"] != 0.0 {
			t.Errorf("HCL change recorded as user %v, want 0 (system)", h["userId"])
		}
	}
	if strings.Join(actions, ",") != "webhook_created,status_changed,url_changed" {
		t.Errorf("history %v", actions)
	}
	if r := hist[2]["reason"]; r != `reloaded from gateway.hcl:14 webhook "erp"` {
		t.Errorf("reason %v", r)
	}
	if r := tg.Call("PUT", "/api/v1/webhooks/"+id, tok, map[string]any{"status": "active"}); !strings.Contains(r.ErrMessage(), "gateway.hcl:14") {
		t.Errorf("409 names the old line: %s", r.ErrMessage())
	}
	// The removed block is gone, with its history.
	oldID := ConfigWebhookID("old")
	if r := tg.Call("GET", "/api/v1/webhooks/"+oldID, tok, nil); r.Status != 404 {
		t.Errorf("removed block still served: %d", r.Status)
	}
	if h := tg.History(tok, oldID); h[len(h)-1]["action"] != "webhook_deleted" {
		t.Errorf("removed block history %v", h)
	}
	// The fan-out follows at once: the new block receives, the inactive one not.
	if subs := tg.G.index.Subscribers(100, "workorder.created"); len(subs) != 1 || subs[0].WebhookID != ConfigWebhookID("new") {
		t.Errorf("subscribers after reload: %v", subs)
	}

	// A block naming a sink that is not running is refused whole.
	bad := next
	bad.Webhooks = []config.Webhook{hclWebhook("erp", "https://erp.example.com/v3", 14)}
	bad.Webhooks[0].Sink = "snow"
	if _, err := tg.G.Reload(context.Background(), &bad); err == nil || !strings.Contains(err.Error(), `sink "snow" is not running`) {
		t.Errorf("reload with unknown sink: %v", err)
	}
	if w := tg.Must(200, "GET", "/api/v1/webhooks/"+id, tok, nil).Result(); w["url"] != "https://erp.example.com/v2" {
		t.Errorf("refused reload applied: %v", w)
	}
}

// TestReloadNamesRestartOnlyBlocks: a change to a block read at start only
// is reported by name (labelled blocks with their label); the webhooks of
// the same file still apply.
func TestReloadNamesRestartOnlyBlocks(t *testing.T) {
	cfg := gatewaytest.APIConfig(t)
	cfg.Webhooks = []config.Webhook{hclWebhook("erp", "https://erp.example.com/h", 12)}
	tg := startAPIGateway(t, cfg)
	next := *cfg
	next.Delivery.Workers = cfg.Delivery.Workers + 1
	next.Auth.Clients = append(slices.Clone(cfg.Auth.Clients), config.Client{ID: "new-client", Secret: "a-long-enough-secret", CompanyID: 1, Scopes: []string{"webhooks:read"}})
	next.Companies = append(slices.Clone(cfg.Companies), config.Company{ID: 42})
	// Moving a block (its line) is not a change.
	next.Webhooks = []config.Webhook{hclWebhook("erp", "https://erp.example.com/h2", 13)}
	rep, err := tg.G.Reload(context.Background(), &next)
	if err != nil {
		t.Fatal(err)
	}
	if want := []string{"delivery", `auth client "new-client"`, "company 42"}; !slices.Equal(rep.RestartNeeded, want) {
		t.Errorf("restart needed %q, want %q", rep.RestartNeeded, want)
	}
	if !slices.Equal(rep.Updated, []string{"erp"}) {
		t.Errorf("webhooks not applied beside restart-only changes: %+v", rep)
	}
}
