package gateway

import (
	"context"
	"encoding/json"
	"fmt"
	"io/fs"
	"net/http"
	"path/filepath"
	"strconv"
	"strings"
	"sync/atomic"
	"syscall"
	"testing"
	"time"

	"github.com/hookgate/hookgate/config"
	"github.com/hookgate/hookgate/gateway/delivery"
	"github.com/hookgate/hookgate/gateway/gatewaytest"
	"github.com/hookgate/hookgate/plugins/sdk"
	"github.com/hookgate/hookgate/signature"
	"github.com/hookgate/hookgate/store"
)

// amplifier turns any event into a JSON string of 2^23 "x": 8 MiB (issue
// 12, finding 4).
const amplifier = `$reduce([1..23], function($a, $b){ $a & $a }, 'x')`

// dirBytes is the space a folder's files take on disk (allocated blocks:
// Badger preallocates sparse files).
func dirBytes(t *testing.T, dir string) int64 {
	t.Helper()
	var n int64
	err := filepath.WalkDir(dir, func(_ string, e fs.DirEntry, err error) error {
		if err != nil || e.IsDir() {
			return err
		}
		info, err := e.Info()
		if err != nil {
			return nil // removed meanwhile (compaction)
		}
		if st, ok := info.Sys().(*syscall.Stat_t); ok {
			n += st.Blocks * 512
		}
		return nil
	})
	if err != nil {
		t.Fatal(err)
	}
	return n
}

// logRecordOf follows a log's pre-signed delivery_log URL: the full record.
func logRecordOf(t *testing.T, tg *testGateway, tok, logID string) (details, record map[string]any) {
	t.Helper()
	details = tg.Must(200, "GET", "/api/v1/webhooks/delivery-logs/"+logID, tok, nil).Result()
	resp, err := http.Get(details["delivery_log"].(string))
	if err != nil {
		t.Fatal(err)
	}
	defer resp.Body.Close()
	if err := json.NewDecoder(resp.Body).Decode(&record); err != nil || resp.StatusCode != 200 {
		t.Fatalf("delivery_log: %d, %v", resp.StatusCode, err)
	}
	return details, record
}

// TestTemplateAmplificationFailsOverMaxBody (issue 12, finding 4): a 1 KB
// event whose template renders 8 MiB fails at once, without retry, with an
// error naming delivery.max_body and its value; the receiver never sees it;
// the attempt record keeps 64 KiB of the body and its size, and the data
// folder grows by far less than the body (before: the 8 MiB body was sent
// and stored in every attempt for 30 days).
func TestTemplateAmplificationFailsOverMaxBody(t *testing.T) {
	rc := gatewaytest.NewReceiver(t, nil)
	cfg := gatewaytest.APIConfig(t)
	cfg.Transforms.Timeout = 10 * time.Second // ~0.3 s here, more under -race: the size is what is tested
	tg := startAPIGateway(t, cfg)
	w := tg.AddWebhook(&store.Webhook{URL: rc.Srv.URL + "/in", Events: []string{"workorder.created"}, PayloadTemplate: amplifier})
	tok := tg.Token("acme", "acme-secret")
	before := dirBytes(t, cfg.Storage.Path)
	tg.Publish(tok, gatewaytest.Seed(t, "workorder.created"))
	d := tg.WaitDelivery(w.WebhookID, store.DeliveryDead)
	a, err := tg.G.store.GetAttempt(context.Background(), d.ID, 1)
	if err != nil {
		t.Fatal(err)
	}
	const size = 8<<20 + 2 // the JSON string's quotes
	want := fmt.Sprintf("rendered body is %d bytes, over delivery.max_body (%d)", size, 1<<20)
	if d.Attempts != 1 || a.Error != want || a.Outcome != store.OutcomeFailed {
		t.Fatalf("attempts %d, outcome %s, error %q; want one failed attempt: %q", d.Attempts, a.Outcome, a.Error, want)
	}
	if len(a.RequestBody) != 64<<10 || a.RequestBodySize != size || !a.RequestBodyTruncated() {
		t.Errorf("record keeps %d bytes of the body, size %d; want 64 KiB of %d", len(a.RequestBody), a.RequestBodySize, size)
	}
	_, rec := logRecordOf(t, tg, tok, a.LogID())
	if rec["requestBodySize"] != float64(size) || rec["requestBodyTruncated"] != true || len(rec["requestBody"].(string)) != 64<<10 {
		t.Errorf("log file: size %v, truncated %v, %d body bytes", rec["requestBodySize"], rec["requestBodyTruncated"], len(rec["requestBody"].(string)))
	}
	grew := dirBytes(t, cfg.Storage.Path) - before
	t.Logf("data folder grew by %d KiB for an 8 MiB rendered body", grew>>10)
	if grew > 2<<20 {
		t.Errorf("data folder grew by %d KiB: the rendered body was stored", grew>>10)
	}
	rc.None(t, 50*time.Millisecond)
}

// TestLargeBodyDeliveredWholeRecordKeeps64KiB: a body under
// delivery.max_body (200 KiB) reaches the receiver whole; its attempt
// record keeps the first 64 KiB of the request and of the 100 KB answer,
// with both sizes, and details and the log file say they were truncated.
func TestLargeBodyDeliveredWholeRecordKeeps64KiB(t *testing.T) {
	rc := gatewaytest.NewReceiver(t, func(_ int, w http.ResponseWriter, _ *http.Request) {
		_, _ = w.Write([]byte(strings.Repeat("r", 100_000)))
	})
	tg := startAPIGateway(t, gatewaytest.APIConfig(t))
	w := tg.AddWebhook(&store.Webhook{URL: rc.Srv.URL + "/in", Events: []string{"workorder.created"},
		PayloadTemplate: `$join([1..20].$pad("", 10000, "y")) & $pad("", 4800, "y")`})
	tok := tg.Token("acme", "acme-secret")
	tg.Publish(tok, gatewaytest.Seed(t, "workorder.created"))
	const size = 204800 + 2
	if got := rc.Next(t); len(got.Body) != size {
		t.Fatalf("receiver got %d bytes, want the whole %d", len(got.Body), size)
	}
	d := tg.WaitDelivery(w.WebhookID, store.DeliverySucceeded)
	a, err := tg.G.store.GetAttempt(context.Background(), d.ID, 1)
	if err != nil {
		t.Fatal(err)
	}
	if len(a.RequestBody) != 64<<10 || a.RequestBodySize != size || len(a.ResponseBody) != 64<<10 || a.ResponseBodySize != 100_000 {
		t.Fatalf("record: request %d of %d, response %d of %d", len(a.RequestBody), a.RequestBodySize, len(a.ResponseBody), a.ResponseBodySize)
	}
	det, rec := logRecordOf(t, tg, tok, a.LogID())
	for _, m := range []map[string]any{det, rec} {
		if m["requestBodySize"] != float64(size) || m["requestBodyTruncated"] != true ||
			m["responseBodySize"] != 100_000.0 || m["responseBodyTruncated"] != true {
			t.Errorf("sizes shown: %v %v %v %v", m["requestBodySize"], m["requestBodyTruncated"], m["responseBodySize"], m["responseBodyTruncated"])
		}
	}
	if rec["requestBody"] != `"`+strings.Repeat("y", 64<<10-1) || len(rec["responseBody"].(string)) != 64<<10 {
		t.Errorf("log file bodies: %d and %d bytes", len(rec["requestBody"].(string)), len(rec["responseBody"].(string)))
	}
}

// TestPreviewBoundedByMaxBody: the preview endpoint renders what a
// delivery would and refuses the same bodies, naming the setting.
func TestPreviewBoundedByMaxBody(t *testing.T) {
	cfg := gatewaytest.APIConfig(t)
	cfg.Transforms.Timeout = 10 * time.Second
	tg := startAPIGateway(t, cfg)
	tok := tg.Token("acme", "acme-secret")
	r := tg.Call("POST", "/api/v1/transforms/preview", tok, map[string]any{"payloadTemplate": amplifier})
	want := fmt.Sprintf("rendered body is %d bytes, over delivery.max_body (1048576)", 8<<20+2)
	if r.Status != 422 || !strings.HasSuffix(r.ErrMessage(), want) || len(r.Raw) > 4<<10 {
		t.Fatalf("preview of an 8 MiB body: %d, %d bytes: %.300s", r.Status, len(r.Raw), r.Raw)
	}
	tg.Must(200, "POST", "/api/v1/transforms/preview", tok, map[string]any{"payloadTemplate": `$pad("", 1000, "y")`})
}

// TestAttemptRecordsCountTowardDiskGuard (issue 12, finding 4): the bytes
// attempt records write bring the free-space check forward as published
// bytes do. Here the timer is stopped and the publishes are a few KB, so
// only the ~9 MiB of attempt records can notice that the disk is low.
// Before, they never did: deliveries went on filling the disk.
func TestAttemptRecordsCountTowardDiskGuard(t *testing.T) {
	rc := gatewaytest.NewReceiver(t, func(_ int, w http.ResponseWriter, _ *http.Request) {
		_, _ = w.Write([]byte(strings.Repeat("r", 64<<10)))
	})
	tg := startGateway(t, gatewaytest.Config(t), false)
	var free atomic.Uint64
	var reads atomic.Int64
	free.Store(1 << 30)
	tg.G.disk.free = func(string) (uint64, error) { reads.Add(1); return free.Load(), nil }
	tg.G.disk.check()
	tg.G.Start()
	tg.G.disk.stop() // no timer: only written bytes can trigger a check
	free.Store(1 << 20)
	reads.Store(0)
	var hooks []*store.Webhook
	for range 8 {
		hooks = append(hooks, tg.AddWebhook(&store.Webhook{URL: rc.Srv.URL + "/in", Events: []string{"workorder.created"},
			PayloadTemplate: `$join([1..10].$pad("", 10000, "y"))`}))
	}
	tok := tg.Token("acme", "acme-secret")
	env := gatewaytest.Seed(t, "workorder.created")
	for range 9 { // 72 attempts of ~129 KiB recorded: ~9 MiB; 9 publishes of ~2 KB
		tg.Publish(tok, env)
	}
	deadline := time.Now().Add(15 * time.Second)
	for !tg.G.disk.Low() && time.Now().Before(deadline) {
		done := 0
		for _, w := range hooks {
			ds, _ := tg.G.store.ListDeliveries(context.Background(), w.WebhookID, store.DeliverySucceeded, time.Time{}, time.Time{})
			done += len(ds)
		}
		if done == 72 {
			break
		}
		time.Sleep(10 * time.Millisecond)
	}
	if !tg.G.disk.Low() || reads.Load() == 0 {
		t.Fatalf("after ~9 MiB of attempt records: low %v, %d free-space reads; want the guard to have checked and gone low",
			tg.G.disk.Low(), reads.Load())
	}
}

// TestURLTemplateCannotChangeHost (issue 12, finding 8): a URL template with
// a placeholder in the host is refused at create with a 400 naming 'url',
// and one stored before (or written around the API) fails at delivery
// without retry, the receiver it would have reached never called. Before,
// `http://example.invalid{{ x }}/` with x = "@127.0.0.1:port" went there.
func TestURLTemplateCannotChangeHost(t *testing.T) {
	rc := gatewaytest.NewReceiver(t, nil)
	tg := startAPIGateway(t, gatewaytest.APIConfig(t))
	tok := tg.Token("acme", "acme-secret")
	for _, u := range []string{"https://example.com{{ x }}/", "https://{{ workorder.id }}.example.com/in", "https://example.com:{{ x }}/"} {
		r := tg.Call("POST", "/api/v1/webhooks", tok, gatewaytest.NewHook(u))
		if r.Status != 400 || !strings.Contains(r.ErrMessage(), "'url' is not allowed: a {{ placeholder }} may only appear in the path, query or fragment") {
			t.Errorf("create %s: %d %s", u, r.Status, r.Raw)
		}
	}
	id := tg.Create(tok, gatewaytest.NewHook("https://example.com/{{ workorder.id }}"))["webhookId"].(string)
	if r := tg.Call("PUT", "/api/v1/webhooks/"+id, tok, map[string]any{"url": "https://{{ x }}/"}); r.Status != 400 || !strings.Contains(r.ErrMessage(), "'url'") {
		t.Errorf("update: %d %s", r.Status, r.Raw)
	}
	r := tg.Call("POST", "/api/v1/transforms/preview", tok, map[string]any{"urlTemplate": "https://example.com{{ workorder.id }}/"})
	if r.Status != 422 || !strings.Contains(r.ErrMessage(), "path, query or fragment") {
		t.Errorf("preview: %d %s", r.Status, r.Raw)
	}

	host := strings.TrimPrefix(rc.Srv.URL, "http://")
	w := tg.AddWebhook(&store.Webhook{URL: `http://example.invalid{{ "@` + host + `" }}/in`, Events: []string{"workorder.created"}})
	tg.Publish(tg.Token("acme", "acme-secret"), gatewaytest.Seed(t, "workorder.created"))
	d := tg.WaitDelivery(w.WebhookID, store.DeliveryDead)
	a, err := tg.G.store.GetAttempt(context.Background(), d.ID, 1)
	if err != nil {
		t.Fatal(err)
	}
	if d.Attempts != 1 || !strings.Contains(a.Error, "path, query or fragment") {
		t.Errorf("attempts %d, error %q", d.Attempts, a.Error)
	}
	rc.None(t, 100*time.Millisecond)
}

// TestOurHeadersWinInAnyCase (issue 12, finding 10): a webhook stored with
// custom headers named like ours in another case (before create refused
// them) sends ours only, once each, in every delivery, and its log records
// exactly what was sent. The header map is checked directly, so map order
// cannot hide a duplicate (before: Content-Type and content-type both went
// to the sink, which sent one of them at random).
func TestOurHeadersWinInAnyCase(t *testing.T) {
	rc := gatewaytest.NewReceiver(t, nil)
	tg := startAPIGateway(t, gatewaytest.APIConfig(t))
	tok := tg.Token("acme", "acme-secret")
	for _, name := range []string{"content-type", "CONTENT-TYPE", "Webhook-Signature", "x-fn-signature"} {
		body := gatewaytest.NewHook("https://example.com/in")
		body["webhookAttribute"] = map[string]any{"header": map[string]any{name: "x"}}
		r := tg.Call("POST", "/api/v1/webhooks", tok, body)
		if r.Status != 400 || !strings.Contains(r.ErrMessage(), "'webhookAttribute.header' cannot set "+strconv.Quote(name)) {
			t.Errorf("create with %s: %d %s", name, r.Status, r.Raw)
		}
	}
	custom := map[string]string{"content-type": "text/plain", "x-fn-signature": "forged", "X-FN-WEBHOOK-ID": "forged",
		"WEBHOOK-ID": "forged", "X-Api-Key": "k"}
	for _, format := range []string{config.SignatureFN, config.SignatureStandard} {
		w := tg.AddWebhook(&store.Webhook{URL: rc.Srv.URL + "/in", Events: []string{"workorder.created"}, Headers: custom, SignatureFormat: format})
		d := &store.Delivery{ID: "3f1e0c2a-9b8d-4c7e-a6f5-1d2e3f4a5b6c", EventName: "workorder.created"}
		h := tg.G.dispatcher.Headers(w, d, &store.Event{TraceID: "t"}, 1, []byte(`{}`))
		seen := map[string]string{}
		for k, v := range h {
			lower := strings.ToLower(k)
			if prev, dup := seen[lower]; dup {
				t.Fatalf("%s: %s and %s both sent", format, prev, k)
			}
			seen[lower] = k
			if v == "forged" || v == "text/plain" {
				t.Errorf("%s: %s: %s sent", format, k, v)
			}
		}
		if h["Content-Type"] != "application/json" || h["X-Api-Key"] != "k" || h[delivery.HeaderWebhookID] != w.WebhookID {
			t.Errorf("%s: headers %v", format, h)
		}
		if _, std := seen["webhook-id"]; std != (format == config.SignatureStandard) {
			t.Errorf("%s: webhook-id present %v", format, std)
		}
	}

	w := tg.AddWebhook(&store.Webhook{URL: rc.Srv.URL + "/all", Events: []string{"workorder.status.published"}, Headers: custom})
	for range 6 {
		tg.Publish(tok, gatewaytest.Seed(t, "workorder.status.published"))
	}
	for range 6 {
		got := rc.Next(t)
		if ct := got.Header.Values("Content-Type"); len(ct) != 1 || ct[0] != "application/json" {
			t.Errorf("Content-Type %v", ct)
		}
		if sig := got.Header.Values(delivery.HeaderSignature); len(sig) != 1 || !signature.Verify(w.Secret, got.Body, sig[0]) {
			t.Errorf("X-FN-Signature %v does not verify", sig)
		}
	}
	// The receiver has the requests before the gateway records their
	// outcomes (the recorder batches them): wait for one recorded.
	d := tg.WaitDelivery(w.WebhookID, store.DeliverySucceeded)
	a, err := tg.G.store.GetAttempt(context.Background(), d.ID, 1)
	if err != nil {
		t.Fatal(err)
	}
	if a.RequestHeaders["Content-Type"] != "application/json" || a.RequestHeaders["X-Api-Key"] != delivery.RedactedHeaderVal {
		t.Errorf("logged headers %v", a.RequestHeaders)
	}
	for k := range a.RequestHeaders {
		if k != "Content-Type" && strings.EqualFold(k, "content-type") || k == "WEBHOOK-ID" || k == "x-fn-signature" {
			t.Errorf("log records %s, which was not sent", k)
		}
	}
}

// TestGatewayHeadersAreReserved: every header the gateway sets is one a
// webhook may not set, so the two lists cannot drift apart.
func TestGatewayHeadersAreReserved(t *testing.T) {
	tg := startGateway(t, gatewaytest.Config(t), false)
	w := &store.Webhook{WebhookID: "w", Secret: "s", SignatureFormat: config.SignatureStandard}
	for k := range tg.G.dispatcher.Headers(w, &store.Delivery{ID: "d"}, &store.Event{}, 1, nil) {
		if !config.ReservedHeader(k) {
			t.Errorf("the gateway sets %s, which a webhook may set too", k)
		}
	}
	if config.MaxDeliveryBody != sdk.MaxRequestBody {
		t.Errorf("config.MaxDeliveryBody %d, sdk.MaxRequestBody %d", config.MaxDeliveryBody, sdk.MaxRequestBody)
	}
}
