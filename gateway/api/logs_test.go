package api_test

import (
	"encoding/json"
	"net/http"
	"net/url"
	"slices"
	"strings"
	"testing"
	"time"

	"github.com/hookgate/hookgate/gateway/gatewaytest"
	"github.com/hookgate/hookgate/store"
)

// logsFixture: one webhook answering 200, one answering 500 (retried), one
// answering 404 (dead at once), and one event each.
type logsFixture struct {
	tg                *testGateway
	tok               string
	ok, retry, dead   string // webhook ids
	rc                *gatewaytest.Receiver
	deadDelivery      *store.Delivery
	createdAt, second time.Time
}

func newLogsFixture(t *testing.T) *logsFixture {
	f := &logsFixture{}
	f.rc = gatewaytest.NewReceiver(t, func(_ int, w http.ResponseWriter, r *http.Request) {
		switch {
		case strings.HasSuffix(r.URL.Path, "/fail"):
			w.WriteHeader(500)
		case strings.HasSuffix(r.URL.Path, "/gone"):
			w.WriteHeader(404)
		default:
			w.Header().Set("X-Receiver", "yes")
			w.Write([]byte("OK"))
		}
	})
	f.tg = startAPIGateway(t, gatewaytest.APIConfig(t))
	f.tok = f.tg.Token("acme", "acme-secret")
	f.ok = f.tg.Create(f.tok, gatewaytest.NewHook(f.rc.Srv.URL+"/ok", "workorder.created"))["webhookId"].(string)
	f.retry = f.tg.Create(f.tok, gatewaytest.NewHook(f.rc.Srv.URL+"/fail", "workorder.status.paid"))["webhookId"].(string)
	f.dead = f.tg.Create(f.tok, gatewaytest.NewHook(f.rc.Srv.URL+"/gone", "workorder.routed"))["webhookId"].(string)
	f.createdAt = f.tg.Clock.Now()
	f.tg.Publish(f.tok, gatewaytest.Seed(t, "workorder.created"))
	f.tg.Publish(f.tok, gatewaytest.Seed(t, "workorder.status.paid"))
	f.tg.Publish(f.tok, gatewaytest.Seed(t, "workorder.routed"))
	f.tg.WaitDelivery(f.ok, store.DeliverySucceeded)
	f.tg.WaitFor(f.retry, store.DeliveryPending, func(d *store.Delivery) bool { return d.Attempts == 1 })
	f.deadDelivery = f.tg.WaitDelivery(f.dead, store.DeliveryDead)
	// The retry comes due ten seconds later: a second attempt, logged later.
	f.tg.Clock.Advance(10 * time.Second)
	f.second = f.tg.Clock.Now()
	f.tg.G.Kick()
	f.tg.WaitFor(f.retry, store.DeliveryPending, func(d *store.Delivery) bool { return d.Attempts == 2 })
	for range 4 {
		f.rc.Next(t)
	}
	return f
}

// TestDeliveryLogsList: one record per attempt, the spec's filters, ours,
// paging, sorting and fields.
func TestDeliveryLogsList(t *testing.T) {
	f := newLogsFixture(t)
	tg, tok := f.tg, f.tok
	base := "/api/v1/webhooks/delivery-logs"
	r := tg.Must(200, "GET", base, tok, nil)
	if r.MetaInt("total") != 4 || r.MetaInt("count") != 4 || r.MetaInt("perPage") != 50 {
		t.Fatalf("list metadata %v", r.Meta())
	}
	first := r.List()[0]
	wantKeys := []string{"createdAt", "deliveryAttempt", "deliveryId", "deliveryStatus", "eventName", "webhookId", "workOrderId"}
	var keys []string
	for k := range first {
		keys = append(keys, k)
	}
	slices.Sort(keys)
	if !slices.Equal(keys, wantKeys) {
		t.Errorf("default fields %v, want %v", keys, wantKeys)
	}
	if first["webhookId"] != f.retry || first["deliveryAttempt"] != 2.0 || first["deliveryStatus"] != 500.0 {
		t.Errorf("newest first: %v", first)
	}
	if m := gatewaytest.DeliveryIDRe.FindStringSubmatch(first["deliveryId"].(string)); m == nil || m[1] != "2" {
		t.Errorf("deliveryId %v is not <uuid>:2", first["deliveryId"])
	}
	count := func(q string) int {
		t.Helper()
		return tg.Must(200, "GET", base+q, tok, nil).MetaInt("total")
	}
	uuidOfRetry := strings.Split(first["deliveryId"].(string), ":")[0]
	filters := map[string]int{
		"?webhookId=" + f.retry:                            2,
		"?webhookId=" + f.ok:                               1,
		"?eventName=workorder.routed":                      1,
		"?deliveryStatus=500":                              2,
		"?deliveryStatus=200":                              1,
		"?deliveryStatus=404":                              1,
		"?deliveryStatus=0":                                0,
		"?workOrderId=12345":                               4,
		"?workOrderId=999":                                 0,
		"?deliveryId=" + uuidOfRetry:                       2,
		"?deliveryId=" + uuidOfRetry + ":1":                1,
		"?deliveryId=" + url.QueryEscape(uuidOfRetry+":2"): 1,
		"?createdFrom=" + url.QueryEscape(f.second.Format(time.RFC3339)):  1,
		"?createdTo=" + url.QueryEscape(f.createdAt.Format(time.RFC3339)): 3,
		"?search=paid": 2,
		// The end of an id: its start is the time (UUIDv7, store.NewID).
		"?search=" + uuidOfRetry[len(uuidOfRetry)-12:]: 2,
		// Not "404": a random uuid may contain it; letters outside hex cannot.
		"?search=" + url.QueryEscape("not found"):    1,
		"?webhookId=" + f.ok + "&deliveryStatus=500": 0,
	}
	for q, want := range filters {
		if got := count(q); got != want {
			t.Errorf("%s: total %d, want %d", q, got, want)
		}
	}
	r = tg.Must(200, "GET", base+"?sortBy=deliveryStatus&sortDirection=ASC&fields=deliveryStatus,outcome", tok, nil)
	var statuses []float64
	for _, it := range r.List() {
		statuses = append(statuses, it["deliveryStatus"].(float64))
		if len(it) != 2 {
			t.Errorf("fields=deliveryStatus,outcome gave %v", it)
		}
	}
	if !slices.Equal(statuses, []float64{200, 404, 500, 500}) {
		t.Errorf("sorted by status: %v", statuses)
	}
	// Exploded fields (fields=a&fields=b) as the OpenAPI describes.
	if it := tg.Must(200, "GET", base+"?fields=deliveryId&fields=error", tok, nil).List()[0]; len(it) != 2 {
		t.Errorf("exploded fields: %v", it)
	}
	r = tg.Must(200, "GET", base+"?page=2&perPage=3", tok, nil)
	if r.MetaInt("count") != 1 || r.MetaInt("total") != 4 {
		t.Errorf("page 2 of 3: %v", r.Meta())
	}
	for _, q := range []string{"?perPage=501", "?fields=nope", "?sortBy=url", "?workOrderId=abc", "?deliveryStatus=ok",
		"?createdFrom=yesterday", "?deliveryId=abc:x"} {
		if r := tg.Call("GET", base+q, tok, nil); r.Status != 400 {
			t.Errorf("%s: %d %s", q, r.Status, r.Raw)
		}
	}
	tg.Must(200, "GET", base+"?perPage=500", tok, nil)
}

// TestDeliveryLogDetailsAndPresignedURL: details carry a pre-signed URL
// that serves the full record without a token until it expires, and the
// original payload.
func TestDeliveryLogDetailsAndPresignedURL(t *testing.T) {
	f := newLogsFixture(t)
	tg, tok := f.tg, f.tok
	logs := tg.Must(200, "GET", "/api/v1/webhooks/delivery-logs?webhookId="+f.ok, tok, nil).List()
	logID := logs[0]["deliveryId"].(string)
	d := tg.Must(200, "GET", "/api/v1/webhooks/delivery-logs/"+logID, tok, nil).Result()
	if d["deliveryId"] != logID || d["deliveryStatus"] != 200.0 || d["webhookId"] != f.ok || d["workOrderId"] != 12345.0 {
		t.Errorf("details %v", d)
	}
	var original map[string]any
	if err := json.Unmarshal([]byte(d["originalPayload"].(string)), &original); err != nil || original["workorder"].(map[string]any)["title"] != "Router Installation - Site 42" {
		t.Errorf("originalPayload %v (%v)", d["originalPayload"], err)
	}
	// A bare uuid means its latest attempt; %3A works for the colon.
	uuidOnly := strings.Split(logID, ":")[0]
	if d2 := tg.Must(200, "GET", "/api/v1/webhooks/delivery-logs/"+uuidOnly, tok, nil).Result(); d2["deliveryId"] != logID {
		t.Errorf("bare uuid: %v", d2["deliveryId"])
	}
	tg.Must(200, "GET", "/api/v1/webhooks/delivery-logs/"+strings.Replace(logID, ":", "%3A", 1), tok, nil)

	link := d["delivery_log"].(string)
	if !strings.HasPrefix(link, tg.Base+"/api/v1/webhooks/delivery-logs/") {
		t.Fatalf("delivery_log %q is not on this gateway", link)
	}
	get := func(u string) (int, map[string]any) {
		t.Helper()
		resp, err := http.Get(u) // no bearer token
		if err != nil {
			t.Fatal(err)
		}
		defer resp.Body.Close()
		var m map[string]any
		json.NewDecoder(resp.Body).Decode(&m)
		return resp.StatusCode, m
	}
	status, rec := get(link)
	if status != 200 {
		t.Fatalf("pre-signed URL: %d %v", status, rec)
	}
	reqHeaders := rec["requestHeaders"].(map[string]any)
	if rec["deliveryId"] != logID || rec["responseStatus"] != 200.0 || rec["responseBody"] != "OK" || rec["requestMethod"] != "POST" ||
		!strings.Contains(rec["requestBody"].(string), "Router Installation") || reqHeaders["X-FN-Delivery-Id"] != logID ||
		rec["responseHeaders"].(map[string]any)["X-Receiver"] != "yes" {
		t.Errorf("record %v", rec)
	}
	u, _ := url.Parse(link)
	q := u.Query()
	sig := q.Get("signature")
	tampered := []string{
		strings.Replace(link, "signature="+sig, "signature="+strings.Repeat("0", len(sig)), 1),
		strings.Replace(link, "expires="+q.Get("expires"), "expires=9999999999", 1),
		strings.Replace(link, uuidOnly, strings.Split(f.deadDelivery.ID, ":")[0], 1),
		tg.Base + u.Path,
	}
	for _, l := range tampered {
		if status, body := get(l); status != 403 {
			t.Errorf("tampered %s: %d %v", l, status, body)
		}
	}
	tg.Clock.Advance(15*time.Minute + time.Second)
	if status, body := get(link); status != 403 || !strings.Contains(gatewaytest.JSONText(body), "expired") {
		t.Errorf("expired link: %d %v", status, body)
	}
	// A fresh details call signs anew.
	link = tg.Must(200, "GET", "/api/v1/webhooks/delivery-logs/"+logID, tok, nil).Result()["delivery_log"].(string)
	if status, _ := get(link); status != 200 {
		t.Errorf("fresh link: %d", status)
	}
	if r := tg.Call("GET", "/api/v1/webhooks/delivery-logs/"+uuidOnly+":9", tok, nil); r.Status != 404 || r.ErrMessage() != "Delivery log not found" {
		t.Errorf("unknown attempt: %d %s", r.Status, r.Raw)
	}
}

// TestRetryAndRecover: retry answers a job_id found in the logs once sent;
// recover re-queues a window of dead letters; both refuse a paused webhook.
func TestRetryAndRecover(t *testing.T) {
	f := newLogsFixture(t)
	tg, tok := f.tg, f.tok
	deadLog := store.FormatLogID(f.deadDelivery.ID, 1)
	// The endpoint is fixed: point the webhook at the 200 path.
	tg.Must(200, "PUT", "/api/v1/webhooks/"+f.dead, tok, map[string]any{"url": f.rc.Srv.URL + "/ok"})
	job := tg.Must(200, "PATCH", "/api/v1/webhooks/delivery-logs/"+deadLog+"/retry", tok, nil).Result()["job_id"]
	if job != store.FormatLogID(f.deadDelivery.ID, 2) {
		t.Fatalf("job_id %v, want %s", job, store.FormatLogID(f.deadDelivery.ID, 2))
	}
	got := f.rc.Next(t)
	if got.Header.Get("X-FN-Delivery-Id") != job {
		t.Errorf("retry sent as %s, want %s", got.Header.Get("X-FN-Delivery-Id"), job)
	}
	tg.WaitFor(f.dead, store.DeliverySucceeded, func(d *store.Delivery) bool { return d.Attempts == 2 })
	l := tg.Must(200, "GET", "/api/v1/webhooks/delivery-logs?deliveryId="+url.QueryEscape(job.(string)), tok, nil).List()
	if len(l) != 1 || l[0]["deliveryStatus"] != 200.0 {
		t.Errorf("job %v in the logs: %v", job, l)
	}
	if r := tg.Call("PATCH", "/api/v1/webhooks/delivery-logs/00000000-0000-4000-8000-000000000000:1/retry", tok, nil); r.Status != 404 {
		t.Errorf("retry unknown: %d", r.Status)
	}

	// Recover: the failing webhook's delivery is dead-lettered when the
	// webhook is paused; reactivated, recover sends it again.
	tg.Must(200, "PUT", "/api/v1/webhooks/"+f.retry, tok, map[string]any{"status": "inactive"})
	tg.WaitDelivery(f.retry, store.DeliveryDead)
	if r := tg.Call("POST", "/api/v1/webhooks/"+f.retry+"/recover", tok, map[string]any{"since": "2026-01-01T00:00:00Z"}); r.Status != 422 {
		t.Errorf("recover on an inactive webhook: %d %s", r.Status, r.Raw)
	}
	if r := tg.Call("PATCH", "/api/v1/webhooks/delivery-logs/"+store.FormatLogID(strings.Split(tg.Must(200, "GET", "/api/v1/webhooks/delivery-logs?webhookId="+f.retry, tok, nil).List()[0]["deliveryId"].(string), ":")[0], 1)+"/retry", tok, nil); r.Status != 422 {
		t.Errorf("retry on an inactive webhook: %d %s", r.Status, r.Raw)
	}
	tg.Must(200, "PUT", "/api/v1/webhooks/"+f.retry, tok, map[string]any{"status": "active", "url": f.rc.Srv.URL + "/ok"})
	for _, bad := range []any{map[string]any{}, map[string]any{"since": "yesterday"}, map[string]any{"since": "2026-02-01T00:00:00Z", "until": "2026-01-01T00:00:00Z"}} {
		if r := tg.Call("POST", "/api/v1/webhooks/"+f.retry+"/recover", tok, bad); r.Status != 400 {
			t.Errorf("recover %v: %d", bad, r.Status)
		}
	}
	empty := tg.Must(200, "POST", "/api/v1/webhooks/"+f.retry+"/recover", tok, map[string]any{"since": "2025-01-01T00:00:00Z", "until": "2025-12-31T00:00:00Z"}).Result()
	if empty["requeued"] != 0.0 {
		t.Errorf("recover outside the window: %v", empty)
	}
	rec := tg.Must(200, "POST", "/api/v1/webhooks/"+f.retry+"/recover", tok, map[string]any{"since": "2026-01-20T00:00:00Z"}).Result()
	if rec["requeued"] != 1.0 || !strings.HasSuffix(gatewaytest.Strs(rec["job_ids"])[0], ":3") {
		t.Errorf("recover: %v", rec)
	}
	if got := f.rc.Next(t); got.Header.Get("X-FN-Delivery-Id") != gatewaytest.Strs(rec["job_ids"])[0] {
		t.Errorf("recovered delivery sent as %s", got.Header.Get("X-FN-Delivery-Id"))
	}
	tg.WaitDelivery(f.retry, store.DeliverySucceeded)
}

// TestTestSendAndPreview: a sample event through the real pipeline, and the
// template preview with its 422.
func TestTestSendAndPreview(t *testing.T) {
	rc := gatewaytest.NewReceiver(t, func(_ int, w http.ResponseWriter, _ *http.Request) { w.WriteHeader(204) })
	tg := startAPIGateway(t, gatewaytest.APIConfig(t))
	tok := tg.Token("acme", "acme-secret")
	body := gatewaytest.NewHook(rc.Srv.URL+"/t/{{ event.name }}", "workorder.created")
	body["payloadTemplate"] = `{"name": event.name, "test": event.params.test}`
	id := tg.Create(tok, body)["webhookId"].(string)
	res := tg.Must(200, "POST", "/api/v1/webhooks/"+id+"/test", tok, map[string]any{"eventName": "workorder.status.paid"}).Result()
	got := rc.Next(t)
	if got.Path != "/t/workorder.status.paid" || string(got.Body) != `{"name":"workorder.status.paid","test":true}` ||
		got.Header.Get("X-FN-Delivery-Id") != res["job_id"] || got.Header.Get("X-FN-Event-Name") != "workorder.status.paid" {
		t.Errorf("test delivery %s %s %v (job %v)", got.Path, got.Body, got.Header, res["job_id"])
	}
	tg.WaitDelivery(id, store.DeliverySucceeded)
	if l := tg.Must(200, "GET", "/api/v1/webhooks/delivery-logs?deliveryId="+url.QueryEscape(res["job_id"].(string)), tok, nil).List(); len(l) != 1 || l[0]["deliveryStatus"] != 204.0 {
		t.Errorf("test delivery log %v", l)
	}
	// Default event: the webhook's first.
	tg.Must(200, "POST", "/api/v1/webhooks/"+id+"/test", tok, nil)
	if got := rc.Next(t); got.Path != "/t/workorder.created" {
		t.Errorf("default test event: %s", got.Path)
	}
	if r := tg.Call("POST", "/api/v1/webhooks/"+id+"/test", tok, map[string]any{"eventName": "nope"}); r.Status != 400 {
		t.Errorf("unknown event: %d", r.Status)
	}
	tg.Must(200, "PUT", "/api/v1/webhooks/"+id, tok, map[string]any{"status": "inactive"})
	if r := tg.Call("POST", "/api/v1/webhooks/"+id+"/test", tok, nil); r.Status != 422 {
		t.Errorf("test on an inactive webhook: %d", r.Status)
	}

	env := string(gatewaytest.Seed(t, "workorder.status.published"))
	p := tg.Must(200, "POST", "/api/v1/transforms/preview", tok, `{"payloadTemplate": "{\"t\": workorder.title}", "urlTemplate": "https://x.example.com/{{ workorder.location.country }}/{{ workorder.id }}", "payload": `+env+`}`).Result()
	if p["url"] != "https://x.example.com/US/12345" || p["body"].(map[string]any)["t"] != "Router Installation - Site 42" {
		t.Errorf("preview %v", p)
	}
	p = tg.Must(200, "POST", "/api/v1/transforms/preview", tok, `{"payload": `+env+`, "modelProperties": ["id"]}`).Result()
	if wo := p["body"].(map[string]any)["workorder"].(map[string]any); len(wo) != 1 || wo["id"] != 12345.0 {
		t.Errorf("preview with modelProperties: %v", wo)
	}
	r := tg.Call("POST", "/api/v1/transforms/preview", tok, map[string]any{"payloadTemplate": `{"a": workorder.(}`})
	item := r.Body["errors"].([]any)[0].(map[string]any)
	if r.Status != 422 || item["template"] != "payload" || item["position"] == nil {
		t.Errorf("bad template: %d %s", r.Status, r.Raw)
	}
	r = tg.Call("POST", "/api/v1/transforms/preview", tok, map[string]any{"urlTemplate": "https://x/{{ $undefinedFn() }}"})
	if r.Status != 422 {
		t.Errorf("bad url template: %d %s", r.Status, r.Raw)
	}
	if r := tg.Call("POST", "/api/v1/transforms/preview", tok, map[string]any{"payloadTemplate": "x", "nope": 1}); r.Status != 400 {
		t.Errorf("unknown preview field: %d", r.Status)
	}
}
