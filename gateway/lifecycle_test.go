package gateway

import (
	"net/http"
	"slices"
	"strings"
	"testing"
	"time"

	"github.com/hookgate/hookgate/gateway/gatewaytest"
	"github.com/hookgate/hookgate/store"
)

// TestLifecycleAndHistory walks every allowed change and transition and
// checks the history entry each one leaves, then every refused transition.
func TestLifecycleAndHistory(t *testing.T) {
	tg := startAPIGateway(t, gatewaytest.APIConfig(t))
	tok := tg.Token("acme", "acme-secret")
	w := tg.Create(tok, gatewaytest.NewHook("https://a.example.com/h", "workorder.status.draft", "workorder.created"))
	id := w["webhookId"].(string)
	put := func(body map[string]any) map[string]any {
		t.Helper()
		return tg.Must(200, "PUT", "/api/v1/webhooks/"+id, tok, body).Result()
	}
	steps := []struct {
		body    map[string]any
		action  string
		changes string // the JSON shape expected, checked by key paths below
		check   func(ch map[string]any) bool
	}{
		{map[string]any{"status": "inactive"}, "status_changed", "status from active to inactive", fromToIs("status", "active", "inactive")},
		{map[string]any{"status": "active"}, "status_changed", "status from inactive to active", fromToIs("status", "inactive", "active")},
		{map[string]any{"url": "https://b.example.com/h"}, "url_changed", "url", fromToIs("url", "https://a.example.com/h", "https://b.example.com/h")},
		{map[string]any{"events": []string{"workorder.created", "workorder.status.approved"}}, "events_updated", "events added/removed", func(ch map[string]any) bool {
			ev := ch["events"].(map[string]any)
			return slices.Equal(gatewaytest.Strs(ev["added"]), []string{"workorder.status.approved"}) && slices.Equal(gatewaytest.Strs(ev["removed"]), []string{"workorder.status.draft"})
		}},
		{map[string]any{"method": "put"}, "method_changed", "method", fromToIs("method", "post", "put")},
		{map[string]any{"secret": "f47ac10b-58cc-4372-a567-0e02b2c3d479"}, "secret_regenerated", "no secret", func(ch map[string]any) bool {
			return !strings.Contains(gatewaytest.JSONText(ch), "f47ac10b") && !strings.Contains(gatewaytest.JSONText(ch), w["secret"].(string))
		}},
		{map[string]any{"webhookAttribute": map[string]any{"header": map[string]any{"X-Key": "v1"}}}, "headers_updated", "added X-Key, no value", func(ch map[string]any) bool {
			h := ch["headers"].(map[string]any)
			return slices.Equal(gatewaytest.Strs(h["added"]), []string{"X-Key"}) && !strings.Contains(gatewaytest.JSONText(ch), "v1")
		}},
		{map[string]any{"notificationEmail": "ops@example.com"}, "notification_email_changed", "email", fromToIs("notificationEmail", nil, "ops@example.com")},
		{map[string]any{"payloadTemplate": "workorder"}, "template_changed", "template", fromToIs("payloadTemplate", nil, "workorder")},
		{map[string]any{"modelProperties": []string{"id"}}, "webhook_updated", "modelProperties", func(ch map[string]any) bool { return ch["modelProperties"] != nil }},
		{map[string]any{"status": "archived"}, "status_changed", "to archived", fromToIs("status", "active", "archived")},
	}
	for _, s := range steps {
		put(s.body)
		hist := tg.History(tok, id)
		last := hist[len(hist)-1]
		ch, _ := last["changes"].(map[string]any)
		if last["action"] != s.action || last["userId"] != 1068.0 || !s.check(ch) {
			t.Errorf("after PUT %v: history %v %v %s, want %s with %s by 1068", s.body, last["action"], last["userId"], gatewaytest.JSONText(ch), s.action, s.changes)
		}
	}
	hist := tg.History(tok, id)
	if hist[0]["action"] != "webhook_created" || len(hist) != len(steps)+1 {
		t.Fatalf("history: %d entries, first %v", len(hist), hist[0])
	}
	created := hist[0]["changes"].(map[string]any)
	if created["url"] != "https://a.example.com/h" || created["status"] != "active" || strings.Contains(gatewaytest.JSONText(created), w["secret"].(string)) {
		t.Errorf("webhook_created changes %s", gatewaytest.JSONText(created))
	}
	// A PUT changing nothing records nothing.
	// (The webhook is archived now; see below. Use a fresh one.)
	id2 := tg.Create(tok, gatewaytest.NewHook("https://c.example.com/h"))["webhookId"].(string)
	tg.Must(200, "PUT", "/api/v1/webhooks/"+id2, tok, map[string]any{"status": "active", "url": "https://c.example.com/h"})
	if n := len(tg.History(tok, id2)); n != 1 {
		t.Errorf("a no-op PUT left %d history entries, want 1", n)
	}
	// One PUT with several changes: one entry per kind.
	tg.Must(200, "PUT", "/api/v1/webhooks/"+id2, tok, map[string]any{"status": "inactive", "url": "https://d.example.com/h", "method": "put"})
	var actions []string
	for _, h := range tg.History(tok, id2)[1:] {
		actions = append(actions, h["action"].(string))
	}
	if !slices.Equal(actions, []string{"status_changed", "url_changed", "method_changed"}) {
		t.Errorf("multi-change PUT recorded %v", actions)
	}
	// inactive → archived is allowed too.
	tg.Must(200, "PUT", "/api/v1/webhooks/"+id2, tok, map[string]any{"status": "archived"})

	// Archived is read-only: every change is a 422 saying so.
	refused := []struct{ method, path string }{
		{"PUT", "/api/v1/webhooks/" + id}, {"DELETE", "/api/v1/webhooks/" + id}, {"DELETE", "/api/v1/webhooks/" + id + "/header/X-Key"},
	}
	for _, body := range []map[string]any{{"status": "active"}, {"status": "inactive"}, {"status": "archived"}, {"url": "https://x.example.com"}} {
		r := tg.Call("PUT", "/api/v1/webhooks/"+id, tok, body)
		if r.Status != 422 || !strings.Contains(r.ErrMessage(), "archived and read-only") {
			t.Errorf("PUT %v on archived: %d %s", body, r.Status, r.ErrMessage())
		}
	}
	for _, rf := range refused[1:] {
		if r := tg.Call(rf.method, rf.path, tok, nil); r.Status != 422 {
			t.Errorf("%s %s on archived: %d %s", rf.method, rf.path, r.Status, r.Raw)
		}
	}
	if got := tg.Must(200, "GET", "/api/v1/webhooks/"+id, tok, nil).Result(); got["status"] != "archived" || got["url"] != "https://b.example.com/h" {
		t.Errorf("archived webhook changed: %v", got)
	}
	if len(tg.History(tok, id)) != len(steps)+1 {
		t.Error("a refused change was recorded")
	}
	// Archived webhooks are still listed, with their status.
	if l := tg.Must(200, "GET", "/api/v1/webhooks?status=archived", tok, nil); l.MetaInt("total") != 2 {
		t.Errorf("archived list: %s", l.Raw)
	}
}

func fromToIs(key string, from, to any) func(map[string]any) bool {
	return func(ch map[string]any) bool {
		m, ok := ch[key].(map[string]any)
		return ok && m["from"] == from && m["to"] == to && len(ch) == 1
	}
}

// TestHistoryQuery: filters, search, sort, paging and fields on history.
func TestHistoryQuery(t *testing.T) {
	tg := startAPIGateway(t, gatewaytest.APIConfig(t))
	admin, writer := tg.Token("acme", "acme-secret"), tg.Token("writer", "writer-secret")
	id := tg.Create(admin, gatewaytest.NewHook("https://a.example.com/h"))["webhookId"].(string)
	for i, tok := range []string{writer, admin, writer} {
		status := []string{"inactive", "active", "inactive"}[i]
		tg.Must(200, "PUT", "/api/v1/webhooks/"+id, tok, map[string]any{"status": status})
	}
	tg.Must(200, "PUT", "/api/v1/webhooks/"+id, admin, map[string]any{"url": "https://z.example.com"})
	base := "/api/v1/webhooks/" + id + "/history"
	r := tg.Must(200, "GET", base, admin, nil)
	if r.MetaInt("total") != 5 || r.MetaInt("count") != 5 || r.MetaInt("perPage") != 25 {
		t.Errorf("metadata %v", r.Meta())
	}
	if l := r.List(); l[0]["action"] != "url_changed" || l[4]["action"] != "webhook_created" {
		t.Errorf("default order is not id DESC: %v ... %v", l[0]["action"], l[4]["action"])
	}
	if r := tg.Must(200, "GET", base+"?userId=11", admin, nil); r.MetaInt("total") != 2 {
		t.Errorf("userId=11: %s", r.Raw)
	}
	if r := tg.Must(200, "GET", base+"?search=status_changed", admin, nil); r.MetaInt("total") != 3 {
		t.Errorf("search=status_changed: %s", r.Raw)
	}
	r = tg.Must(200, "GET", base+"?page=2&perPage=2&sortBy=id&sortDirection=ASC", admin, nil)
	if l := r.List(); r.MetaInt("count") != 2 || r.MetaInt("total") != 5 || l[0]["changes"].(map[string]any)["status"].(map[string]any)["to"] != "active" {
		t.Errorf("page 2: %s", r.Raw)
	}
	r = tg.Must(200, "GET", base+"?fields=id,action", admin, nil)
	if l := r.List(); len(l[0]) != 2 || l[0]["action"] == nil {
		t.Errorf("fields=id,action: %v", l[0])
	}
	for _, q := range []string{"?fields=id,secret", "?sortBy=url", "?sortDirection=UP", "?page=0", "?perPage=501", "?userId=x"} {
		if r := tg.Call("GET", base+q, admin, nil); r.Status != 400 {
			t.Errorf("%s: %d %s", q, r.Status, r.Raw)
		}
	}
}

// TestDeactivationDeadLettersPending: a webhook set inactive (or archived,
// or deleted) has its queued retries dead-lettered with the reason; its
// logs and history outlive a delete.
func TestDeactivationDeadLettersPending(t *testing.T) {
	rc := gatewaytest.NewReceiver(t, func(_ int, w http.ResponseWriter, _ *http.Request) { w.WriteHeader(503) })
	tg := startAPIGateway(t, gatewaytest.APIConfig(t))
	tok := tg.Token("acme", "acme-secret")
	for _, how := range []string{"inactive", "archived", "delete"} {
		id := tg.Create(tok, gatewaytest.NewHook(rc.Srv.URL+"/"+how, "workorder.created"))["webhookId"].(string)
		tg.Publish(tok, gatewaytest.Seed(t, "workorder.created"))
		rc.Next(t)
		tg.WaitFor(id, store.DeliveryPending, func(d *store.Delivery) bool { return d.Attempts == 1 })
		want := "webhook set to inactive by user 1068"
		if how == "delete" {
			tg.Must(200, "DELETE", "/api/v1/webhooks/"+id, tok, nil)
			want = "webhook deleted by user 1068"
		} else {
			tg.Must(200, "PUT", "/api/v1/webhooks/"+id, tok, map[string]any{"status": how})
			if how == "archived" {
				want = "webhook archived by user 1068"
			}
		}
		d := tg.WaitDelivery(id, store.DeliveryDead)
		if !strings.Contains(d.DeadReason, want) {
			t.Errorf("%s: dead reason %q, want %q", how, d.DeadReason, want)
		}
		// Nothing more is sent even when the retry would have been due.
		tg.Clock.Advance(tg.Cfg.Delivery.Backoff[0])
		tg.G.Kick()
		rc.None(t, 50*time.Millisecond)
		if how == "delete" {
			logs := tg.Must(200, "GET", "/api/v1/webhooks/delivery-logs?webhookId="+id, tok, nil)
			if logs.MetaInt("total") != 1 {
				t.Errorf("logs of the deleted webhook: %s", logs.Raw)
			}
			hist := tg.History(tok, id)
			last := hist[len(hist)-1]
			if last["action"] != "webhook_deleted" || last["changes"].(map[string]any)["url"] != rc.Srv.URL+"/delete" {
				t.Errorf("history after delete: %v", last)
			}
		}
	}
}
