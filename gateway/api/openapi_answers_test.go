package api_test

import (
	"bytes"
	"encoding/json"
	"net/http"
	"net/url"
	"slices"
	"strconv"
	"strings"
	"testing"

	"github.com/santhosh-tekuri/jsonschema/v6"

	"github.com/hookgate/hookgate/config"
	"github.com/hookgate/hookgate/gateway/gatewaytest"
	"github.com/hookgate/hookgate/store"
)

// docBase is where the served document is loaded in the schema compiler,
// so that its "#/components/..." references resolve inside it.
const docBase = "https://hookgate.test/openapi.json"

// projectedBase is where the document without required lists is loaded.
const projectedBase = "https://hookgate.test/projected.json"

// withoutRequired is v with every "required" list of a schema removed
// (path and parameter objects keep their boolean "required").
func withoutRequired(v any) any {
	switch v := v.(type) {
	case map[string]any:
		out := make(map[string]any, len(v))
		for k, x := range v {
			if _, list := x.([]any); k == "required" && list {
				continue
			}
			out[k] = withoutRequired(x)
		}
		return out
	case []any:
		out := make([]any, len(v))
		for i, x := range v {
			out[i] = withoutRequired(x)
		}
		return out
	}
	return v
}

// docChecker validates answers against the document a gateway serves.
type docChecker struct {
	t         *testing.T
	paths     map[string]map[string]any
	responses map[string]map[string]any // components/responses
	compiler  *jsonschema.Compiler
	schemas   map[string]*jsonschema.Schema // by base and pointer
	answered  map[string][]int              // "METHOD path" → statuses seen
}

func newDocChecker(t *testing.T, raw []byte) *docChecker {
	var doc struct {
		Paths      map[string]map[string]any `json:"paths"`
		Components struct {
			Responses map[string]map[string]any `json:"responses"`
		} `json:"components"`
	}
	if err := json.Unmarshal(raw, &doc); err != nil {
		t.Fatal(err)
	}
	inst, err := jsonschema.UnmarshalJSON(bytes.NewReader(raw))
	if err != nil {
		t.Fatal(err)
	}
	c := jsonschema.NewCompiler()
	c.DefaultDraft(jsonschema.Draft2020) // OpenAPI 3.1's dialect
	c.AssertFormat()                     // date-time, uuid, email... are checked, not only noted
	if err := c.AddResource(docBase, inst); err != nil {
		t.Fatal(err)
	}
	// The same document without its required lists, for answers to a
	// request that sent fields=: the document's own parameter says only
	// the fields named are returned, so only their types can be checked.
	if err := c.AddResource(projectedBase, withoutRequired(inst)); err != nil {
		t.Fatal(err)
	}
	return &docChecker{t: t, paths: doc.Paths, responses: doc.Components.Responses, compiler: c, schemas: map[string]*jsonschema.Schema{}, answered: map[string][]int{}}
}

// pointer escapes a JSON pointer token (RFC 6901).
func pointer(tok string) string {
	return strings.NewReplacer("~", "~0", "/", "~1").Replace(tok)
}

// check requires r's status to be documented for the operation and its
// body to match the schema documented for that status.
func (d *docChecker) check(method, path string, projected bool, r gatewaytest.Response) {
	d.t.Helper()
	op := strings.ToUpper(method) + " " + path
	d.answered[op] = append(d.answered[op], r.Status)
	o, _ := d.paths[path][strings.ToLower(method)].(map[string]any)
	if o == nil {
		d.t.Errorf("%s is not in the document", op)
		return
	}
	code := strconv.Itoa(r.Status)
	resp, _ := o["responses"].(map[string]any)[code].(map[string]any)
	if resp == nil {
		d.t.Errorf("%s answered %d, which the document does not list: %s", op, r.Status, r.Raw)
		return
	}
	loc := "/paths/" + pointer(path) + "/" + strings.ToLower(method) + "/responses/" + code
	if ref, ok := resp["$ref"].(string); ok { // a shared answer of components/responses
		loc = strings.TrimPrefix(ref, "#")
		name := ref[strings.LastIndex(ref, "/")+1:]
		resp = d.responses[name]
	}
	content, _ := resp["content"].(map[string]any)
	if _, ok := content["application/json"]; !ok {
		if len(r.Raw) != 0 {
			d.t.Errorf("%s %d: the document gives no JSON body, the gateway answered %s", op, r.Status, r.Raw)
		}
		return
	}
	if ct := r.Header.Get("Content-Type"); !strings.HasPrefix(ct, "application/json") {
		d.t.Errorf("%s %d: Content-Type %q", op, r.Status, ct)
	}
	base := docBase
	if projected {
		base = projectedBase
	}
	sch := d.schema(base, loc+"/content/application~1json/schema")
	body, err := jsonschema.UnmarshalJSON(bytes.NewReader(r.Raw))
	if err != nil {
		d.t.Errorf("%s %d: body is not JSON: %v", op, r.Status, err)
		return
	}
	if err := sch.Validate(body); err != nil {
		d.t.Errorf("%s %d: the answer does not match the document: %v\n%s", op, r.Status, err, r.Raw)
	}
}

// checkRequest requires a body the gateway accepted to match the request
// schema the document gives, so a client generated from the document can
// send it.
func (d *docChecker) checkRequest(method, path string, raw []byte) {
	d.t.Helper()
	o, _ := d.paths[path][strings.ToLower(method)].(map[string]any)
	rb, _ := o["requestBody"].(map[string]any)
	content, _ := rb["content"].(map[string]any)
	if _, ok := content["application/json"]; !ok {
		d.t.Errorf("%s %s accepted a JSON body the document does not describe", method, path)
		return
	}
	sch := d.schema(docBase, "/paths/"+pointer(path)+"/"+strings.ToLower(method)+"/requestBody/content/application~1json/schema")
	body, err := jsonschema.UnmarshalJSON(bytes.NewReader(raw))
	if err == nil {
		err = sch.Validate(body)
	}
	if err != nil {
		d.t.Errorf("%s %s: the body accepted does not match the document's request schema: %v\n%s", method, path, err, raw)
	}
}

func (d *docChecker) schema(base, ptr string) *jsonschema.Schema {
	d.t.Helper()
	loc := base + "#" + ptr
	if s, ok := d.schemas[loc]; ok {
		return s
	}
	s, err := d.compiler.Compile(loc)
	if err != nil {
		d.t.Fatalf("compiling %s: %v", loc, err)
	}
	d.schemas[loc] = s
	return s
}

// TestEveryAnswerMatchesTheDocument drives every operation of the served
// document through a real gateway, to success and to its main errors, and
// validates each answer against the schema the document gives for its
// status (JSON Schema 2020-12, references resolved, formats asserted). A
// status the document does not list fails, and so does an operation left
// without a successful call.
// withField is body with one field set to v (a copy).
func withField(body map[string]any, k string, v any) map[string]any {
	out := make(map[string]any, len(body)+1)
	for key, val := range body {
		out[key] = val
	}
	out[k] = v
	return out
}

func TestEveryAnswerMatchesTheDocument(t *testing.T) {
	rc := gatewaytest.NewReceiver(t, func(_ int, w http.ResponseWriter, _ *http.Request) { w.WriteHeader(404) })
	cfg := gatewaytest.APIConfig(t)
	// A webhook of the HCL file: read-only over the API (409).
	cfg.Webhooks = []config.Webhook{{Name: "erp", CompanyID: 100, UserID: 1068, URL: "https://erp.example.com/hooks",
		Method: "post", Status: "active", Events: []string{"workorder.status.approved"}, Sink: "http"}}
	tg := startAPIGateway(t, cfg)
	d := newDocChecker(t, tg.Must(200, "GET", "/api/v1/openapi.json", "", nil).Raw)
	admin, reader := tg.Token("acme", "acme-secret"), tg.Token("reader", "reader-secret")
	publisher := tg.Token("globex", "globex-secret") // events:publish only

	call := func(method, path, token string, body any, want int, hdr ...string) gatewaytest.Response {
		t.Helper()
		concrete := path
		for i := 0; i+1 < len(hdr); i += 2 {
			concrete = strings.ReplaceAll(concrete, hdr[i], hdr[i+1])
		}
		var raw []byte
		switch b := body.(type) {
		case nil:
		case string:
			raw = []byte(b)
		default:
			raw, _ = json.Marshal(b)
		}
		r := tg.Do(method, concrete, token, raw, nil)
		if r.Status != want {
			t.Errorf("%s %s: %d %s, want %d", method, concrete, r.Status, r.Raw, want)
		}
		template, query, _ := strings.Cut(path, "?")
		q, _ := url.ParseQuery(query)
		d.check(method, template, q.Has("fields"), r)
		if len(raw) > 0 && r.Status < 300 {
			d.checkRequest(method, template, raw)
		}
		return r
	}
	form := func(v url.Values, want int) {
		t.Helper()
		r := tg.Do("POST", "/authentication/api/oauth/token", "", []byte(v.Encode()), map[string]string{"Content-Type": "application/x-www-form-urlencoded"})
		if r.Status != want {
			t.Errorf("token %v: %d %s, want %d", v, r.Status, r.Raw, want)
		}
		d.check("POST", "/authentication/api/oauth/token", false, r)
	}
	creds := url.Values{"grant_type": {"client_credentials"}, "client_id": {"acme"}, "client_secret": {"acme-secret"}}
	form(creds, 200)
	form(url.Values{"grant_type": {"password"}, "client_id": {"acme"}, "client_secret": {"acme-secret"}}, 400)
	form(url.Values{"grant_type": {"client_credentials"}, "client_id": {"acme"}, "client_secret": {"wrong"}}, 401)

	call("GET", "/api/v1/openapi.json", "", nil, 200)

	// The catalog.
	call("GET", "/api/v1/webhooks/events", reader, nil, 200)
	call("GET", "/api/v1/webhooks/events?model=WorkOrder", reader, nil, 200)
	call("GET", "/api/v1/webhooks/events", "", nil, 401)
	call("GET", "/api/v1/webhooks/events", publisher, nil, 403)

	// Webhooks.
	const hooks = "/api/v1/webhooks"
	body := gatewaytest.NewHook(rc.Srv.URL+"/gone", "workorder.created")
	body["webhookAttribute"] = map[string]any{"header": map[string]any{"X-Team": "ops"}}
	created := call("POST", hooks, admin, body, 200).Result()
	id := created["webhookId"].(string)
	withEmail := gatewaytest.NewHook(rc.Srv.URL+"/b", "workorder.routed")
	withEmail["notificationEmail"] = "ops@example.com"
	other := call("POST", hooks, admin, withEmail, 200).Result()["webhookId"].(string)
	call("POST", hooks, admin, map[string]any{"url": "https://example.com/c", "method": "POST", "status": "active", "events": []string{"workorder.created"}}, 400)
	call("POST", hooks, reader, gatewaytest.NewHook("https://example.com/d"), 403)
	call("POST", hooks, "", gatewaytest.NewHook("https://example.com/d"), 401)

	call("GET", hooks, reader, nil, 200)
	call("GET", hooks+"?search=example&status=active&webhookAttribute=header,legacy_field", admin, nil, 200)
	call("GET", hooks+"?sortBy=color", reader, nil, 400)
	call("GET", hooks, publisher, nil, 403)

	const one = "/api/v1/webhooks/{webhookId}"
	call("GET", one, reader, nil, 200, "{webhookId}", id)
	call("GET", one+"?webhookAttribute=legacy_field", admin, nil, 200, "{webhookId}", id)
	call("GET", one+"?fields=nope", reader, nil, 400, "{webhookId}", id)
	call("GET", one, reader, nil, 404, "{webhookId}", "00000000-0000-4000-8000-000000000000")
	call("PUT", one, admin, map[string]any{"url": rc.Srv.URL + "/gone2"}, 200, "{webhookId}", id)
	call("PUT", one, admin, map[string]any{"method": "PUT"}, 400, "{webhookId}", id)
	call("PUT", one, admin, map[string]any{"status": "inactive"}, 404, "{webhookId}", "00000000-0000-4000-8000-000000000000")
	call("PUT", one, reader, map[string]any{"status": "inactive"}, 403, "{webhookId}", id)
	erp := tg.Must(200, "GET", hooks+"?search=erp.example.com", reader, nil).List()[0]["webhookId"].(string)
	call("PUT", one, admin, map[string]any{"status": "inactive"}, 409, "{webhookId}", erp)

	const attr = "/api/v1/webhooks/{webhookId}/{attributeType}/{attributeName}"
	call("DELETE", attr, admin, nil, 200, "{webhookId}", id, "{attributeType}", "header", "{attributeName}", "X-Team")
	call("DELETE", attr, admin, nil, 404, "{webhookId}", id, "{attributeType}", "legacy_field", "{attributeName}", "X-Team")
	call("DELETE", attr, admin, nil, 400, "{webhookId}", id, "{attributeType}", "cookie", "{attributeName}", "X-Team")

	const history = "/api/v1/webhooks/{webhookId}/history"
	call("GET", history, reader, nil, 200, "{webhookId}", id)
	call("GET", history+"?userId=1068&fields=id&fields=action", reader, nil, 200, "{webhookId}", id)
	call("GET", history+"?userId=someone", reader, nil, 400, "{webhookId}", id)
	call("GET", history, reader, nil, 404, "{webhookId}", "00000000-0000-4000-8000-000000000000")

	// Publishing, and the delivery it makes: the receiver answers 404, so
	// the delivery is dead at once and can be retried.
	call("POST", "/api/v1/events", admin, string(gatewaytest.Seed(t, "workorder.created")), 202)
	call("POST", "/api/v1/events", admin, `{"event":{}}`, 400)
	call("POST", "/api/v1/events", reader, string(gatewaytest.Seed(t, "workorder.created")), 403)
	call("POST", "/api/v1/events", "", string(gatewaytest.Seed(t, "workorder.created")), 401)
	call("POST", "/api/v1/events", admin, string(gatewaytest.PaddedEnvelope(t, "workorder.created", int(cfg.Server.BodyLimit)+1)), 413)
	batch := `{"events":[{"envelope":` + string(gatewaytest.Seed(t, "workorder.routed")) + `}]}`
	call("POST", "/api/v1/events/batch", admin, batch, 202)
	// One envelope refused: still a 202, with the item's error (the body
	// is not one the request schema describes, so only the answer is checked).
	mixed := tg.Do("POST", "/api/v1/events/batch", admin, []byte(`{"events":[{"envelope":{"event":{}}}]}`), nil)
	if mixed.Status != 202 {
		t.Errorf("batch with a bad envelope: %d %s", mixed.Status, mixed.Raw)
	}
	d.check("POST", "/api/v1/events/batch", false, mixed)
	call("POST", "/api/v1/events/batch", admin, `{"events":[]}`, 400)
	call("POST", "/api/v1/events/batch", reader, batch, 403)
	tg.WaitDelivery(id, store.DeliveryDead)

	const logs = "/api/v1/webhooks/delivery-logs"
	call("GET", logs, reader, nil, 200)
	list := call("GET", logs+"?webhookId="+id, reader, nil, 200).List()
	if len(list) != 1 {
		t.Fatalf("%d delivery logs of webhook %s, want 1", len(list), id)
	}
	logID := list[0]["deliveryId"].(string)
	call("GET", logs+"?webhookId="+id+"&eventName=workorder.created&deliveryStatus=404&workOrderId=12345&fields=deliveryId&fields=outcome", reader, nil, 200)
	call("GET", logs+"?deliveryStatus=abc", reader, nil, 400)
	call("GET", logs, publisher, nil, 403)
	details := call("GET", logs+"/{deliveryId}", reader, nil, 200, "{deliveryId}", logID)
	call("GET", logs+"/{deliveryId}", reader, nil, 404, "{deliveryId}", "00000000-0000-4000-8000-000000000000:1")
	signed, err := url.Parse(details.Result()["delivery_log"].(string))
	if err != nil {
		t.Fatal(err)
	}
	call("GET", logs+"/{deliveryId}/log?"+signed.RawQuery, "", nil, 200, "{deliveryId}", url.PathEscape(logID))
	call("GET", logs+"/{deliveryId}/log?expires=1&signature=00", "", nil, 403, "{deliveryId}", url.PathEscape(logID))
	call("PATCH", logs+"/{deliveryId}/retry", admin, nil, 200, "{deliveryId}", logID)
	call("PATCH", logs+"/{deliveryId}/retry", admin, nil, 404, "{deliveryId}", "00000000-0000-4000-8000-000000000000:1")
	call("PATCH", logs+"/{deliveryId}/retry", reader, nil, 403, "{deliveryId}", logID)
	// Once the retried attempt is dead too, a retry of a paused webhook's
	// delivery is refused.
	tg.WaitFor(id, store.DeliveryDead, func(d *store.Delivery) bool { return d.Attempts == 2 })
	call("PUT", one, admin, map[string]any{"status": "inactive"}, 200, "{webhookId}", id)
	call("PATCH", logs+"/{deliveryId}/retry", admin, nil, 422, "{deliveryId}", logID)
	call("PUT", one, admin, map[string]any{"status": "active"}, 200, "{webhookId}", id)

	// Our actions.
	call("POST", one+"/test", admin, map[string]any{"eventName": "workorder.created"}, 200, "{webhookId}", id)
	call("POST", one+"/test", admin, map[string]any{"eventName": "workorder.exploded"}, 400, "{webhookId}", id)
	call("POST", one+"/test", admin, nil, 404, "{webhookId}", "00000000-0000-4000-8000-000000000000")
	call("POST", one+"/recover", admin, map[string]any{"since": "2026-01-01T00:00:00Z"}, 200, "{webhookId}", id)
	call("POST", one+"/recover", admin, map[string]any{}, 400, "{webhookId}", id)
	call("POST", one+"/recover", admin, map[string]any{"since": "2026-01-01T00:00:00Z"}, 404, "{webhookId}", "00000000-0000-4000-8000-000000000000")
	// Held lanes of an ordered webhook: the receiver's 404 dead-letters
	// the first event of the work order, which holds the second.
	ordered := gatewaytest.NewHook(rc.Srv.URL+"/ordered", "workorder.status.assigned")
	ordered["ordering"], ordered["orderingOnDead"] = "work_order", "hold"
	oid := call("POST", hooks, admin, ordered, 200).Result()["webhookId"].(string)
	call("POST", hooks, admin, withField(ordered, "ordering", "by_work_order"), 400)
	call("POST", "/api/v1/events", admin, string(gatewaytest.Seed(t, "workorder.status.assigned")), 202)
	call("POST", "/api/v1/events", admin, string(gatewaytest.Seed(t, "workorder.status.assigned")), 202)
	tg.WaitDelivery(oid, store.DeliveryDead)
	const lanes = "/api/v1/webhooks/{webhookId}/lanes"
	held := call("GET", lanes, reader, nil, 200, "{webhookId}", oid).Result()["heldLanes"].([]any)
	if len(held) != 1 || held[0].(map[string]any)["waiting"] != float64(1) || held[0].(map[string]any)["workOrderId"] != float64(12345) {
		t.Errorf("held lanes %v, want work order 12345 with 1 waiting", held)
	}
	call("GET", lanes, reader, nil, 404, "{webhookId}", "00000000-0000-4000-8000-000000000000")
	call("POST", lanes+"/{workOrderId}/release", reader, nil, 403, "{webhookId}", oid, "{workOrderId}", "12345")
	call("POST", lanes+"/{workOrderId}/release", admin, nil, 400, "{webhookId}", oid, "{workOrderId}", "abc")
	call("POST", lanes+"/{workOrderId}/release", admin, nil, 404, "{webhookId}", oid, "{workOrderId}", "777")
	call("POST", lanes+"/{workOrderId}/release", admin, nil, 200, "{webhookId}", oid, "{workOrderId}", "12345")

	const preview = "/api/v1/transforms/preview"
	call("POST", preview, reader, map[string]any{"payloadTemplate": `{"id": workorder.id}`, "payload": json.RawMessage(gatewaytest.Seed(t, "workorder.created"))}, 200)
	call("POST", preview, reader, map[string]any{"payloadTemplate": `{"id": workorder.(}`, "payload": json.RawMessage(gatewaytest.Seed(t, "workorder.created"))}, 422)
	call("POST", preview, reader, `[1]`, 400)
	call("GET", "/api/v1/stats", reader, nil, 200)
	call("GET", "/api/v1/stats?range=24h", reader, nil, 200)
	call("GET", "/api/v1/stats?range=1h&webhookId="+id, reader, nil, 200)
	call("GET", "/api/v1/stats?range=2h", reader, nil, 400)
	call("GET", "/api/v1/stats?range=1h&webhookId=00000000-0000-4000-8000-000000000000", reader, nil, 404)
	call("GET", "/api/v1/stats", publisher, nil, 403)
	call("GET", "/api/v1/sinks", reader, nil, 200)
	call("GET", "/api/v1/sinks", publisher, nil, 403)

	// Archived: read-only; then deletes.
	call("PUT", one, admin, map[string]any{"status": "archived"}, 200, "{webhookId}", other)
	call("PUT", one, admin, map[string]any{"status": "active"}, 422, "{webhookId}", other)
	call("DELETE", one, admin, nil, 422, "{webhookId}", other)
	call("DELETE", one, reader, nil, 403, "{webhookId}", id)
	call("DELETE", one, admin, nil, 200, "{webhookId}", id)
	call("DELETE", one, admin, nil, 404, "{webhookId}", id)

	// Every operation of the document was answered successfully.
	for path, ops := range d.paths {
		for m := range ops {
			if m == "parameters" {
				continue
			}
			op := strings.ToUpper(m) + " " + path
			if !slices.ContainsFunc(d.answered[op], func(s int) bool { return s >= 200 && s < 300 }) {
				t.Errorf("%s was not driven to a success (answers seen: %v)", op, d.answered[op])
			}
		}
	}
}
