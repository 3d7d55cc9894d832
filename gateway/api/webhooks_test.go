package api_test

import (
	"net/http"
	"regexp"
	"slices"
	"strings"
	"testing"

	"github.com/hookgate/hookgate/events"
	"github.com/hookgate/hookgate/gateway/delivery"
	"github.com/hookgate/hookgate/gateway/gatewaytest"
)

var uuidPattern = regexp.MustCompile(`^[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}$`)

// TestWebhookCRUD walks create, get, list, update and delete over HTTP.
func TestWebhookCRUD(t *testing.T) {
	tg := startAPIGateway(t, gatewaytest.APIConfig(t))
	tok := tg.Token("acme", "acme-secret")

	body := gatewaytest.NewHook("https://hooks.example.com/fn", "workorder.status.published", "workorder.status.assigned")
	body["notificationEmail"] = "alerts@example.com"
	body["webhookAttribute"] = map[string]any{"header": map[string]any{"X-Api-Key": "k-123"}}
	body["payloadTemplate"] = `{"id": workorder.id}`
	body["modelProperties"] = []string{"id", "title"}
	r := tg.Must(200, "POST", "/api/v1/webhooks", tok, body)
	w := r.Result()
	id := w["webhookId"].(string)
	if !uuidPattern.MatchString(id) {
		t.Errorf("webhookId %q is not a UUID", id)
	}
	if !uuidPattern.MatchString(w["secret"].(string)) {
		t.Errorf("generated secret %v is not a UUID", w["secret"])
	}
	checks := map[string]any{"companyId": 100.0, "userId": 1068.0, "url": "https://hooks.example.com/fn", "method": "post",
		"status": "active", "notificationEmail": "alerts@example.com", "isIntegrationOnly": false, "sink": "http",
		"source": "api", "payloadTemplate": `{"id": workorder.id}`, "createdAt": "2026-01-20T14:55:58Z"}
	for k, want := range checks {
		if w[k] != want {
			t.Errorf("created %s = %v, want %v", k, w[k], want)
		}
	}
	if w["id"].(float64) < 1 {
		t.Errorf("internal id %v", w["id"])
	}
	if got := gatewaytest.Strs(w["modelProperties"]); !slices.Equal(got, []string{"id", "title"}) {
		t.Errorf("modelProperties %v", got)
	}
	if h := w["webhookAttribute"].(map[string]any)["header"].(map[string]any); h["X-Api-Key"] != "k-123" {
		t.Errorf("headers %v", h)
	}
	if r.MetaInt("count") != 1 || r.MetaInt("total") != 1 || r.Meta()["timestamp"] == nil {
		t.Errorf("metadata %v", r.Meta())
	}

	// Get: no secret, no attributes unless asked.
	got := tg.Must(200, "GET", "/api/v1/webhooks/"+id, tok, nil).Result()
	if _, ok := got["secret"]; ok {
		t.Error("GET shows the secret without fields=secret")
	}
	if _, ok := got["webhookAttribute"]; ok {
		t.Error("GET shows webhookAttribute without ?webhookAttribute=header")
	}
	got = tg.Must(200, "GET", "/api/v1/webhooks/"+id+"?webhookAttribute=header", tok, nil).Result()
	if got["webhookAttribute"].(map[string]any)["header"].(map[string]any)["X-Api-Key"] != "k-123" {
		t.Errorf("?webhookAttribute=header: %v", got["webhookAttribute"])
	}
	got = tg.Must(200, "GET", "/api/v1/webhooks/"+id+"?fields=webhookId,secret", tok, nil).Result()
	if len(got) != 2 || got["secret"] != w["secret"] {
		t.Errorf("fields=webhookId,secret by a writer: %v", got)
	}

	// Update: only what is sent changes; the answer is the whole webhook.
	up := tg.Must(200, "PUT", "/api/v1/webhooks/"+id, tok, map[string]any{"url": "https://hooks.example.com/v2", "method": "put"}).Result()
	if up["url"] != "https://hooks.example.com/v2" || up["method"] != "put" || up["status"] != "active" || len(gatewaytest.Strs(up["events"])) != 2 {
		t.Errorf("after update %v", up)
	}
	if _, ok := up["secret"]; ok {
		t.Error("an update that does not set the secret shows it")
	}
	newSecret := "f47ac10b-58cc-4372-a567-0e02b2c3d479"
	up = tg.Must(200, "PUT", "/api/v1/webhooks/"+id, tok, map[string]any{"secret": newSecret}).Result()
	if up["secret"] != newSecret {
		t.Errorf("the update that sets the secret answers secret=%v", up["secret"])
	}

	// List.
	tg.Create(tok, gatewaytest.NewHook("https://other.example.com/x"))
	l := tg.Must(200, "GET", "/api/v1/webhooks", tok, nil)
	if l.MetaInt("count") != 2 || l.MetaInt("total") != 2 || len(l.List()) != 2 {
		t.Errorf("list: %s", l.Raw)
	}

	// Attribute delete.
	tg.Must(200, "DELETE", "/api/v1/webhooks/"+id+"/header/x-api-key", tok, nil)
	got = tg.Must(200, "GET", "/api/v1/webhooks/"+id+"?webhookAttribute=header", tok, nil).Result()
	if h := got["webhookAttribute"].(map[string]any)["header"].(map[string]any); len(h) != 0 {
		t.Errorf("header still there: %v", h)
	}
	if r := tg.Call("DELETE", "/api/v1/webhooks/"+id+"/header/X-Api-Key", tok, nil); r.Status != 404 {
		t.Errorf("deleting a missing header: %d %s", r.Status, r.Raw)
	}
	if r := tg.Call("DELETE", "/api/v1/webhooks/"+id+"/cookie/x", tok, nil); r.Status != 400 {
		t.Errorf("unknown attribute type: %d", r.Status)
	}

	// Delete answers the deleted configuration; then 404.
	del := tg.Must(200, "DELETE", "/api/v1/webhooks/"+id, tok, nil).Result()
	if del["webhookId"] != id || del["secret"] != nil {
		t.Errorf("delete answered %v", del)
	}
	if r := tg.Call("GET", "/api/v1/webhooks/"+id, tok, nil); r.Status != 404 || r.ErrMessage() != "Webhook not found" {
		t.Errorf("after delete: %d %s", r.Status, r.Raw)
	}
	if tg.Must(200, "GET", "/api/v1/webhooks", tok, nil).MetaInt("total") != 1 {
		t.Error("deleted webhook still listed")
	}
}

// TestCreateValidation: every rule answers 400 naming the field.
func TestCreateValidation(t *testing.T) {
	cfg := gatewaytest.APIConfig(t)
	cfg.Delivery.AllowHTTP = false
	tg := startAPIGateway(t, cfg)
	tok := tg.Token("acme", "acme-secret")
	with := func(k string, v any) map[string]any {
		b := gatewaytest.NewHook("https://ok.example.com/h")
		if v == nil {
			delete(b, k)
		} else {
			b[k] = v
		}
		return b
	}
	headers := func(h map[string]any) map[string]any {
		return with("webhookAttribute", map[string]any{"header": h})
	}
	all := events.Names()
	cases := []struct {
		name string
		body any
		want string
	}{
		{"not json", "{", "the body must be a JSON object"},
		{"array", "[]", "the body must be a JSON object"},
		{"duplicate key", `{"url":"https://a.example.com/h","url":"https://b.example.com/h","method":"post","status":"active","events":["workorder.created"]}`, `duplicate key "url"`},
		{"not utf-8", "{\"url\":\"https://a.example.com/\xff\",\"method\":\"post\",\"status\":\"active\",\"events\":[\"workorder.created\"]}", "not valid UTF-8"},
		{"no url", with("url", nil), "missing required field 'url'"},
		{"no method", with("method", nil), "missing required field 'method'"},
		{"no status", with("status", nil), "missing required field 'status'"},
		{"no events", with("events", nil), "missing required field 'events'"},
		{"http url", with("url", "http://plain.example.com/h"), "'url' must be a valid HTTPS URL"},
		{"ftp url", with("url", "ftp://x.example.com/h"), "'url' must be a valid HTTPS URL"},
		{"relative url", with("url", "/hooks"), "'url' must be a valid HTTPS URL"},
		{"empty url", with("url", ""), "'url' must be a valid HTTPS URL"},
		{"url template", with("url", "https://x.example.com/{{ workorder.( }}"), "'url' template does not compile"},
		{"url type", with("url", 5), "'url' must be a string"},
		{"method", with("method", "get"), "'method' must be \"post\" or \"put\""},
		// The document's enum is lower-case; "POST" is refused, not lowered.
		{"method upper", with("method", "POST"), "'method' must be \"post\" or \"put\", not \"POST\""},
		{"status", with("status", "paused"), "'status' must be \"active\", \"inactive\" or \"archived\""},
		{"events empty", with("events", []string{}), "'events' must list at least 1 event"},
		{"events unknown", with("events", []string{"workorder.exploded"}), "'events' contains an unknown event \"workorder.exploded\""},
		{"events duplicate", with("events", []string{"workorder.created", "workorder.created"}), "'events' lists \"workorder.created\" more than once"},
		{"events 34", with("events", append(all, "workorder.created")), "more than once"},
		{"events type", with("events", "workorder.created"), "'events' must be an array of event names"},
		{"secret not uuid", with("secret", "hunter2"), "'secret' must be a UUID"},
		{"email", with("notificationEmail", "not-an-email"), "'notificationEmail' must be a plain email address"},
		{"x-fn header", headers(map[string]any{"X-FN-Signature": "forged"}), "'webhookAttribute.header' cannot set \"X-FN-Signature\""},
		{"x-fn header lower", headers(map[string]any{"x-fn-webhook-id": "1"}), "reserved for the gateway"},
		{"x-fn header mixed", headers(map[string]any{"x-Fn-Anything": "1"}), "reserved for the gateway"},
		{"bad header name", headers(map[string]any{"Bad Header": "1"}), "invalid header name"},
		{"header newline", headers(map[string]any{"X-Ok": "a\r\nX-Injected: 1"}), "may not contain line breaks"},
		{"legacy_field", with("webhookAttribute", map[string]any{"legacy_field": map[string]any{"a": "b"}}), "'webhookAttribute.legacy_field' is not supported"},
		{"template", with("payloadTemplate", `{"a": workorder.(}`), "'payloadTemplate' does not compile"},
		{"sink", with("sink", "nowhere"), "'sink' must name a sink your company may use: \"http\" (GET /api/v1/sinks lists them)"},
		{"unknown field", with("notification_email", "a@b.c"), "unknown field \"notification_email\""},
		{"model property", with("modelProperties", []string{""}), "'modelProperties[0]' is empty"},
		{"integration type", with("isIntegrationOnly", "yes"), "'isIntegrationOnly' must be true or false"},
	}
	for _, c := range cases {
		t.Run(c.name, func(t *testing.T) {
			r := tg.Call("POST", "/api/v1/webhooks", tok, c.body)
			if r.Status != 400 || !strings.Contains(r.ErrMessage(), c.want) || !strings.HasPrefix(r.ErrMessage(), "Invalid request: ") {
				t.Errorf("%d %q, want 400 containing %q", r.Status, r.ErrMessage(), c.want)
			}
			if r.Body["metadata"].(map[string]any)["path"] != "/api/v1/webhooks" {
				t.Errorf("error metadata %v", r.Body["metadata"])
			}
		})
	}
	if r := tg.Must(200, "GET", "/api/v1/webhooks", tok, nil); r.MetaInt("total") != 0 {
		t.Errorf("a refused create was stored: %s", r.Raw)
	}
	// The values that were refused are never echoed: a header value may be a credential.
	r := tg.Call("POST", "/api/v1/webhooks", tok, with("secret", "super-secret-value"))
	if strings.Contains(string(r.Raw), "super-secret-value") {
		t.Errorf("refused secret echoed: %s", r.Raw)
	}

	// Accepted forms: read-only fields sent back, a comma-separated event
	// string (Field Nation's playground), an explicit secret, all 33 events.
	ok := gatewaytest.NewHook("https://ok.example.com/h", "workorder.created,workorder.routed")
	ok["id"], ok["webhookId"], ok["createdAt"] = 5, "ignored", "2020-01-01T00:00:00Z"
	ok["secret"] = "01999F51-5C66-4449-B441-6B4A053FEE6A"
	w := tg.Create(tok, ok)
	if got := gatewaytest.Strs(w["events"]); !slices.Equal(got, []string{"workorder.created", "workorder.routed"}) {
		t.Errorf("events %v", got)
	}
	if w["secret"] != "01999f51-5c66-4449-b441-6b4a053fee6a" || w["webhookId"] == "ignored" {
		t.Errorf("created %v", w)
	}
	tg.Create(tok, gatewaytest.NewHook("https://ok.example.com/all", all...))
	archived := gatewaytest.NewHook("https://ok.example.com/a")
	archived["status"] = "archived"
	if w := tg.Create(tok, archived); w["status"] != "archived" {
		t.Errorf("create archived: %v", w)
	}

	// allow_http lets http:// through.
	tg2 := startAPIGateway(t, gatewaytest.APIConfig(t))
	tg2.Create(tg2.Token("acme", "acme-secret"), gatewaytest.NewHook("http://plain.example.com/h"))
}

// TestUpdateValidation: an update is checked as the webhook it would make.
func TestUpdateValidation(t *testing.T) {
	tg := startAPIGateway(t, gatewaytest.APIConfig(t))
	tok := tg.Token("acme", "acme-secret")
	id := tg.Create(tok, gatewaytest.NewHook("https://ok.example.com/h"))["webhookId"].(string)
	cases := []struct {
		body any
		want string
	}{
		{map[string]any{"events": []string{}}, "'events' must list at least 1 event"},
		{map[string]any{"url": "ftp://x"}, "'url' must be a valid HTTPS URL"},
		{map[string]any{"status": "deleted"}, "'status' must be"},
		{map[string]any{"secret": "nope"}, "'secret' must be a UUID"},
		{map[string]any{"url": nil}, "'url' must be a string, not null"},
		{map[string]any{"webhookAttribute": map[string]any{"header": map[string]any{"X-FN-Delivery-Id": "x"}}}, "reserved for the gateway"},
		{"null", "the body must be a JSON object"},
	}
	for _, c := range cases {
		r := tg.Call("PUT", "/api/v1/webhooks/"+id, tok, c.body)
		if r.Status != 400 || !strings.Contains(r.ErrMessage(), c.want) {
			t.Errorf("PUT %v: %d %q, want 400 %q", c.body, r.Status, r.ErrMessage(), c.want)
		}
	}
	// Header merge: add, replace (any case), remove with null.
	tg.Must(200, "PUT", "/api/v1/webhooks/"+id, tok, map[string]any{"webhookAttribute": map[string]any{"header": map[string]any{"A": "1", "B": "2"}}})
	w := tg.Must(200, "PUT", "/api/v1/webhooks/"+id, tok, map[string]any{"webhookAttribute": map[string]any{"header": map[string]any{"a": "3", "B": nil}}}).Result()
	h := w["webhookAttribute"].(map[string]any)["header"].(map[string]any)
	if len(h) != 1 || h["a"] != "3" {
		t.Errorf("merged headers %v", h)
	}
	// null clears the optional strings; a cleared email reads "" (the
	// document's WebhookInfo requires a string), a cleared template null.
	tg.Must(200, "PUT", "/api/v1/webhooks/"+id, tok, map[string]any{"notificationEmail": "a@example.com", "payloadTemplate": "workorder"})
	w = tg.Must(200, "PUT", "/api/v1/webhooks/"+id, tok, map[string]any{"notificationEmail": nil, "payloadTemplate": nil}).Result()
	if e, ok := w["notificationEmail"]; !ok || e != "" || w["payloadTemplate"] != nil {
		t.Errorf("not cleared: %v", w)
	}
	if r := tg.Call("PUT", "/api/v1/webhooks/00000000-0000-4000-8000-000000000000", tok, map[string]any{"status": "inactive"}); r.Status != 404 {
		t.Errorf("update unknown: %d", r.Status)
	}
}

// TestScopes: webhooks:read reads only; webhooks:write changes (and reads);
// events:publish reaches nothing here.
func TestScopes(t *testing.T) {
	tg := startAPIGateway(t, gatewaytest.APIConfig(t))
	admin := tg.Token("acme", "acme-secret")
	reader := tg.Token("reader", "reader-secret")
	writer := tg.Token("writer", "writer-secret")
	publisher := tg.Token("globex", "globex-secret")
	w := tg.Create(admin, gatewaytest.NewHook("https://ok.example.com/h"))
	id := w["webhookId"].(string)

	reads := []string{"/api/v1/webhooks", "/api/v1/webhooks/" + id, "/api/v1/webhooks/" + id + "/history",
		"/api/v1/webhooks/events", "/api/v1/webhooks/delivery-logs"}
	for _, p := range reads {
		tg.Must(200, "GET", p, reader, nil)
		tg.Must(200, "GET", p, writer, nil)
		if r := tg.Call("GET", p, publisher, nil); r.Status != 403 {
			t.Errorf("events:publish GET %s: %d", p, r.Status)
		}
	}
	writes := []struct{ method, path string }{
		{"POST", "/api/v1/webhooks"}, {"PUT", "/api/v1/webhooks/" + id}, {"DELETE", "/api/v1/webhooks/" + id},
		{"DELETE", "/api/v1/webhooks/" + id + "/header/X-A"}, {"PATCH", "/api/v1/webhooks/delivery-logs/x:1/retry"},
		{"POST", "/api/v1/webhooks/" + id + "/test"}, {"POST", "/api/v1/webhooks/" + id + "/recover"},
	}
	for _, wr := range writes {
		for name, tok := range map[string]string{"reader": reader, "publisher": publisher} {
			r := tg.Call(wr.method, wr.path, tok, gatewaytest.NewHook("https://ok.example.com/z"))
			if r.Status != 403 || !strings.Contains(r.ErrMessage(), "webhooks:write") {
				t.Errorf("%s %s %s: %d %s", name, wr.method, wr.path, r.Status, r.ErrMessage())
			}
		}
	}
	// A reader asking for the secret does not get it; a writer does.
	if got := tg.Must(200, "GET", "/api/v1/webhooks/"+id+"?fields=secret,url", reader, nil).Result(); got["secret"] != nil || got["url"] == nil {
		t.Errorf("reader fields=secret: %v", got)
	}
	if got := tg.Must(200, "GET", "/api/v1/webhooks/"+id+"?fields=secret", writer, nil).Result(); got["secret"] != w["secret"] {
		t.Errorf("writer fields=secret: %v", got)
	}
	// Header values are credentials: readers see the names only.
	tg.Must(200, "PUT", "/api/v1/webhooks/"+id, admin, map[string]any{"webhookAttribute": map[string]any{"header": map[string]any{"Authorization": "Bearer x"}}})
	got := tg.Must(200, "GET", "/api/v1/webhooks/"+id+"?webhookAttribute=header", reader, nil).Result()
	if v := got["webhookAttribute"].(map[string]any)["header"].(map[string]any)["Authorization"]; v != delivery.RedactedHeaderVal {
		t.Errorf("reader sees header value %v", v)
	}
	// No token at all.
	if r := tg.Call("GET", "/api/v1/webhooks", "", nil); r.Status != http.StatusUnauthorized {
		t.Errorf("no token: %d", r.Status)
	}
}

// TestEventsCatalog: the 33 events with name, label, description, model;
// ?model= filters (any case).
func TestEventsCatalog(t *testing.T) {
	tg := startAPIGateway(t, gatewaytest.APIConfig(t))
	tok := tg.Token("reader", "reader-secret")
	r := tg.Must(200, "GET", "/api/v1/webhooks/events", tok, nil)
	l := r.List()
	if len(l) != 33 || r.MetaInt("total") != 33 || r.Meta()["query"].(map[string]any)["model"] != nil {
		t.Fatalf("catalog: %d events, metadata %v", len(l), r.Meta())
	}
	if l[0]["name"] != "workorder.created" || l[0]["label"] != "Work Order created" ||
		l[0]["description"] != "Triggered when a work order is created." || l[0]["model"] != "WorkOrder" {
		t.Errorf("first event %v", l[0])
	}
	if r := tg.Must(200, "GET", "/api/v1/webhooks/events?model=workorder", tok, nil); len(r.List()) != 33 || r.Meta()["query"].(map[string]any)["model"] != "workorder" {
		t.Errorf("?model=workorder: %d", len(r.List()))
	}
	if r := tg.Must(200, "GET", "/api/v1/webhooks/events?model=Provider", tok, nil); len(r.List()) != 0 {
		t.Errorf("?model=Provider: %d", len(r.List()))
	}
}
