package gateway

import (
	"encoding/json"
	"net/http"
	"net/url"
	"slices"
	"strings"
	"testing"
	"time"

	"github.com/hookgate/hookgate/store"
)

// logsFixture: one webhook answering 200, one answering 500 (retried), one
// answering 404 (dead at once), and one event each.
type logsFixture struct {
	tg                *testGateway
	tok               string
	ok, retry, dead   string // webhook ids
	rc                *receiver
	deadDelivery      *store.Delivery
	createdAt, second time.Time
}

func newLogsFixture(t *testing.T) *logsFixture {
	f := &logsFixture{}
	f.rc = newReceiver(t, func(_ int, w http.ResponseWriter, r *http.Request) {
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
	f.tg = startAPIGateway(t, apiConfig(t))
	f.tok = f.tg.token("acme", "acme-secret")
	f.ok = f.tg.create(f.tok, newHook(f.rc.srv.URL+"/ok", "workorder.created"))["webhookId"].(string)
	f.retry = f.tg.create(f.tok, newHook(f.rc.srv.URL+"/fail", "workorder.status.paid"))["webhookId"].(string)
	f.dead = f.tg.create(f.tok, newHook(f.rc.srv.URL+"/gone", "workorder.routed"))["webhookId"].(string)
	f.createdAt = f.tg.clock.Now()
	f.tg.publish(f.tok, seed(t, "workorder.created"))
	f.tg.publish(f.tok, seed(t, "workorder.status.paid"))
	f.tg.publish(f.tok, seed(t, "workorder.routed"))
	f.tg.waitDelivery(f.ok, store.DeliverySucceeded)
	f.tg.waitFor(f.retry, store.DeliveryPending, func(d *store.Delivery) bool { return d.Attempts == 1 })
	f.deadDelivery = f.tg.waitDelivery(f.dead, store.DeliveryDead)
	// The retry comes due ten seconds later: a second attempt, logged later.
	f.tg.clock.Advance(10 * time.Second)
	f.second = f.tg.clock.Now()
	f.tg.g.Kick()
	f.tg.waitFor(f.retry, store.DeliveryPending, func(d *store.Delivery) bool { return d.Attempts == 2 })
	for range 4 {
		f.rc.next(t)
	}
	return f
}

// TestDeliveryLogsList: one record per attempt, the spec's filters, ours,
// paging, sorting and fields.
func TestDeliveryLogsList(t *testing.T) {
	f := newLogsFixture(t)
	tg, tok := f.tg, f.tok
	base := "/api/v1/webhooks/delivery-logs"
	r := tg.must(200, "GET", base, tok, nil)
	if r.metaInt("total") != 4 || r.metaInt("count") != 4 || r.metaInt("perPage") != 50 {
		t.Fatalf("list metadata %v", r.meta())
	}
	first := r.list()[0]
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
	if m := deliveryIDRe.FindStringSubmatch(first["deliveryId"].(string)); m == nil || m[1] != "2" {
		t.Errorf("deliveryId %v is not <uuid>:2", first["deliveryId"])
	}
	count := func(q string) int {
		t.Helper()
		return tg.must(200, "GET", base+q, tok, nil).metaInt("total")
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
		"?search=paid":               2,
		"?search=" + uuidOfRetry[:8]: 2,
		// Not "404": a random uuid may contain it; letters outside hex cannot.
		"?search=" + url.QueryEscape("not found"):    1,
		"?webhookId=" + f.ok + "&deliveryStatus=500": 0,
	}
	for q, want := range filters {
		if got := count(q); got != want {
			t.Errorf("%s: total %d, want %d", q, got, want)
		}
	}
	r = tg.must(200, "GET", base+"?sortBy=deliveryStatus&sortDirection=ASC&fields=deliveryStatus,outcome", tok, nil)
	var statuses []float64
	for _, it := range r.list() {
		statuses = append(statuses, it["deliveryStatus"].(float64))
		if len(it) != 2 {
			t.Errorf("fields=deliveryStatus,outcome gave %v", it)
		}
	}
	if !slices.Equal(statuses, []float64{200, 404, 500, 500}) {
		t.Errorf("sorted by status: %v", statuses)
	}
	// Exploded fields (fields=a&fields=b) as the OpenAPI describes.
	if it := tg.must(200, "GET", base+"?fields=deliveryId&fields=error", tok, nil).list()[0]; len(it) != 2 {
		t.Errorf("exploded fields: %v", it)
	}
	r = tg.must(200, "GET", base+"?page=2&perPage=3", tok, nil)
	if r.metaInt("count") != 1 || r.metaInt("total") != 4 {
		t.Errorf("page 2 of 3: %v", r.meta())
	}
	for _, q := range []string{"?perPage=501", "?fields=nope", "?sortBy=url", "?workOrderId=abc", "?deliveryStatus=ok",
		"?createdFrom=yesterday", "?deliveryId=abc:x"} {
		if r := tg.call("GET", base+q, tok, nil); r.Status != 400 {
			t.Errorf("%s: %d %s", q, r.Status, r.Raw)
		}
	}
	tg.must(200, "GET", base+"?perPage=500", tok, nil)
}

// TestDeliveryLogDetailsAndPresignedURL: details carry a pre-signed URL
// that serves the full record without a token until it expires, and the
// original payload.
func TestDeliveryLogDetailsAndPresignedURL(t *testing.T) {
	f := newLogsFixture(t)
	tg, tok := f.tg, f.tok
	logs := tg.must(200, "GET", "/api/v1/webhooks/delivery-logs?webhookId="+f.ok, tok, nil).list()
	logID := logs[0]["deliveryId"].(string)
	d := tg.must(200, "GET", "/api/v1/webhooks/delivery-logs/"+logID, tok, nil).result()
	if d["deliveryId"] != logID || d["deliveryStatus"] != 200.0 || d["webhookId"] != f.ok || d["workOrderId"] != 12345.0 {
		t.Errorf("details %v", d)
	}
	var original map[string]any
	if err := json.Unmarshal([]byte(d["originalPayload"].(string)), &original); err != nil || original["workorder"].(map[string]any)["title"] != "Router Installation - Site 42" {
		t.Errorf("originalPayload %v (%v)", d["originalPayload"], err)
	}
	// A bare uuid means its latest attempt; %3A works for the colon.
	uuidOnly := strings.Split(logID, ":")[0]
	if d2 := tg.must(200, "GET", "/api/v1/webhooks/delivery-logs/"+uuidOnly, tok, nil).result(); d2["deliveryId"] != logID {
		t.Errorf("bare uuid: %v", d2["deliveryId"])
	}
	tg.must(200, "GET", "/api/v1/webhooks/delivery-logs/"+strings.Replace(logID, ":", "%3A", 1), tok, nil)

	link := d["delivery_log"].(string)
	if !strings.HasPrefix(link, tg.base+"/api/v1/webhooks/delivery-logs/") {
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
		tg.base + u.Path,
	}
	for _, l := range tampered {
		if status, body := get(l); status != 403 {
			t.Errorf("tampered %s: %d %v", l, status, body)
		}
	}
	tg.clock.Advance(15*time.Minute + time.Second)
	if status, body := get(link); status != 403 || !strings.Contains(jsonText(body), "expired") {
		t.Errorf("expired link: %d %v", status, body)
	}
	// A fresh details call signs anew.
	link = tg.must(200, "GET", "/api/v1/webhooks/delivery-logs/"+logID, tok, nil).result()["delivery_log"].(string)
	if status, _ := get(link); status != 200 {
		t.Errorf("fresh link: %d", status)
	}
	if r := tg.call("GET", "/api/v1/webhooks/delivery-logs/"+uuidOnly+":9", tok, nil); r.Status != 404 || r.errMessage() != "Delivery log not found" {
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
	tg.must(200, "PUT", "/api/v1/webhooks/"+f.dead, tok, map[string]any{"url": f.rc.srv.URL + "/ok"})
	job := tg.must(200, "PATCH", "/api/v1/webhooks/delivery-logs/"+deadLog+"/retry", tok, nil).result()["job_id"]
	if job != store.FormatLogID(f.deadDelivery.ID, 2) {
		t.Fatalf("job_id %v, want %s", job, store.FormatLogID(f.deadDelivery.ID, 2))
	}
	got := f.rc.next(t)
	if got.Header.Get("X-FN-Delivery-Id") != job {
		t.Errorf("retry sent as %s, want %s", got.Header.Get("X-FN-Delivery-Id"), job)
	}
	tg.waitFor(f.dead, store.DeliverySucceeded, func(d *store.Delivery) bool { return d.Attempts == 2 })
	l := tg.must(200, "GET", "/api/v1/webhooks/delivery-logs?deliveryId="+url.QueryEscape(job.(string)), tok, nil).list()
	if len(l) != 1 || l[0]["deliveryStatus"] != 200.0 {
		t.Errorf("job %v in the logs: %v", job, l)
	}
	if r := tg.call("PATCH", "/api/v1/webhooks/delivery-logs/00000000-0000-4000-8000-000000000000:1/retry", tok, nil); r.Status != 404 {
		t.Errorf("retry unknown: %d", r.Status)
	}

	// Recover: the failing webhook's delivery is dead-lettered when the
	// webhook is paused; reactivated, recover sends it again.
	tg.must(200, "PUT", "/api/v1/webhooks/"+f.retry, tok, map[string]any{"status": "inactive"})
	tg.waitDelivery(f.retry, store.DeliveryDead)
	if r := tg.call("POST", "/api/v1/webhooks/"+f.retry+"/recover", tok, map[string]any{"since": "2026-01-01T00:00:00Z"}); r.Status != 422 {
		t.Errorf("recover on an inactive webhook: %d %s", r.Status, r.Raw)
	}
	if r := tg.call("PATCH", "/api/v1/webhooks/delivery-logs/"+store.FormatLogID(strings.Split(tg.must(200, "GET", "/api/v1/webhooks/delivery-logs?webhookId="+f.retry, tok, nil).list()[0]["deliveryId"].(string), ":")[0], 1)+"/retry", tok, nil); r.Status != 422 {
		t.Errorf("retry on an inactive webhook: %d %s", r.Status, r.Raw)
	}
	tg.must(200, "PUT", "/api/v1/webhooks/"+f.retry, tok, map[string]any{"status": "active", "url": f.rc.srv.URL + "/ok"})
	for _, bad := range []any{map[string]any{}, map[string]any{"since": "yesterday"}, map[string]any{"since": "2026-02-01T00:00:00Z", "until": "2026-01-01T00:00:00Z"}} {
		if r := tg.call("POST", "/api/v1/webhooks/"+f.retry+"/recover", tok, bad); r.Status != 400 {
			t.Errorf("recover %v: %d", bad, r.Status)
		}
	}
	empty := tg.must(200, "POST", "/api/v1/webhooks/"+f.retry+"/recover", tok, map[string]any{"since": "2025-01-01T00:00:00Z", "until": "2025-12-31T00:00:00Z"}).result()
	if empty["requeued"] != 0.0 {
		t.Errorf("recover outside the window: %v", empty)
	}
	rec := tg.must(200, "POST", "/api/v1/webhooks/"+f.retry+"/recover", tok, map[string]any{"since": "2026-01-20T00:00:00Z"}).result()
	if rec["requeued"] != 1.0 || !strings.HasSuffix(strs(rec["job_ids"])[0], ":3") {
		t.Errorf("recover: %v", rec)
	}
	if got := f.rc.next(t); got.Header.Get("X-FN-Delivery-Id") != strs(rec["job_ids"])[0] {
		t.Errorf("recovered delivery sent as %s", got.Header.Get("X-FN-Delivery-Id"))
	}
	tg.waitDelivery(f.retry, store.DeliverySucceeded)
}

// TestTestSendAndPreview: a sample event through the real pipeline, and the
// template preview with its 422.
func TestTestSendAndPreview(t *testing.T) {
	rc := newReceiver(t, func(_ int, w http.ResponseWriter, _ *http.Request) { w.WriteHeader(204) })
	tg := startAPIGateway(t, apiConfig(t))
	tok := tg.token("acme", "acme-secret")
	body := newHook(rc.srv.URL+"/t/{{ event.name }}", "workorder.created")
	body["payloadTemplate"] = `{"name": event.name, "test": event.params.test}`
	id := tg.create(tok, body)["webhookId"].(string)
	res := tg.must(200, "POST", "/api/v1/webhooks/"+id+"/test", tok, map[string]any{"eventName": "workorder.status.paid"}).result()
	got := rc.next(t)
	if got.Path != "/t/workorder.status.paid" || string(got.Body) != `{"name":"workorder.status.paid","test":true}` ||
		got.Header.Get("X-FN-Delivery-Id") != res["job_id"] || got.Header.Get("X-FN-Event-Name") != "workorder.status.paid" {
		t.Errorf("test delivery %s %s %v (job %v)", got.Path, got.Body, got.Header, res["job_id"])
	}
	tg.waitDelivery(id, store.DeliverySucceeded)
	if l := tg.must(200, "GET", "/api/v1/webhooks/delivery-logs?deliveryId="+url.QueryEscape(res["job_id"].(string)), tok, nil).list(); len(l) != 1 || l[0]["deliveryStatus"] != 204.0 {
		t.Errorf("test delivery log %v", l)
	}
	// Default event: the webhook's first.
	tg.must(200, "POST", "/api/v1/webhooks/"+id+"/test", tok, nil)
	if got := rc.next(t); got.Path != "/t/workorder.created" {
		t.Errorf("default test event: %s", got.Path)
	}
	if r := tg.call("POST", "/api/v1/webhooks/"+id+"/test", tok, map[string]any{"eventName": "nope"}); r.Status != 400 {
		t.Errorf("unknown event: %d", r.Status)
	}
	tg.must(200, "PUT", "/api/v1/webhooks/"+id, tok, map[string]any{"status": "inactive"})
	if r := tg.call("POST", "/api/v1/webhooks/"+id+"/test", tok, nil); r.Status != 422 {
		t.Errorf("test on an inactive webhook: %d", r.Status)
	}

	env := string(seed(t, "workorder.status.published"))
	p := tg.must(200, "POST", "/api/v1/transforms/preview", tok, `{"payloadTemplate": "{\"t\": workorder.title}", "urlTemplate": "https://x.example.com/{{ workorder.location.country }}/{{ workorder.id }}", "payload": `+env+`}`).result()
	if p["url"] != "https://x.example.com/US/12345" || p["body"].(map[string]any)["t"] != "Router Installation - Site 42" {
		t.Errorf("preview %v", p)
	}
	p = tg.must(200, "POST", "/api/v1/transforms/preview", tok, `{"payload": `+env+`, "modelProperties": ["id"]}`).result()
	if wo := p["body"].(map[string]any)["workorder"].(map[string]any); len(wo) != 1 || wo["id"] != 12345.0 {
		t.Errorf("preview with modelProperties: %v", wo)
	}
	r := tg.call("POST", "/api/v1/transforms/preview", tok, map[string]any{"payloadTemplate": `{"a": workorder.(}`})
	item := r.Body["errors"].([]any)[0].(map[string]any)
	if r.Status != 422 || item["template"] != "payload" || item["position"] == nil {
		t.Errorf("bad template: %d %s", r.Status, r.Raw)
	}
	r = tg.call("POST", "/api/v1/transforms/preview", tok, map[string]any{"urlTemplate": "https://x/{{ $undefinedFn() }}"})
	if r.Status != 422 {
		t.Errorf("bad url template: %d %s", r.Status, r.Raw)
	}
	if r := tg.call("POST", "/api/v1/transforms/preview", tok, map[string]any{"payloadTemplate": "x", "nope": 1}); r.Status != 400 {
		t.Errorf("unknown preview field: %d", r.Status)
	}
}
