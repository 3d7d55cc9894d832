package api_test

import (
	"encoding/json"
	"fmt"
	"net/http"
	"strings"
	"testing"
	"time"

	"github.com/hookgate/hookgate/gateway/gatewaytest"
)

// batchBody is a bulk publish of envelopes (raw JSON), keyed by keys[i] when set.
func batchBody(envelopes []string, keys ...string) []byte {
	var b strings.Builder
	b.WriteString(`{"events":[`)
	for i, e := range envelopes {
		if i > 0 {
			b.WriteByte(',')
		}
		key := ""
		if i < len(keys) {
			key = keys[i]
		}
		fmt.Fprintf(&b, `{"idempotencyKey":%q,"envelope":%s}`, key, e)
	}
	b.WriteString(`]}`)
	return []byte(b.String())
}

// TestPublishBatch: a bulk publish answers 202 with one result per envelope
// in order; one bad envelope (broken, another company's) does not refuse
// the others, every accepted one is delivered, and a key repeated in a later
// batch replays its first answer.
func TestPublishBatch(t *testing.T) {
	rc := gatewaytest.NewReceiver(t, func(_ int, w http.ResponseWriter, _ *http.Request) { w.WriteHeader(200) })
	tg := startAPIGateway(t, gatewaytest.APIConfig(t))
	acme := tg.Token("acme", "acme-secret")
	tg.Create(acme, gatewaytest.NewHook(rc.Srv.URL+"/in", "workorder.created"))
	good := string(gatewaytest.Seed(t, "workorder.created"))
	other := strings.Replace(good, `"work_order_company_id":"100"`, `"work_order_company_id":"200"`, 1)
	envs := []string{good, `{"event":{"name":"nope"}}`, other, good}
	r := tg.Do("POST", "/api/v1/events/batch", acme, batchBody(envs, "", "", "", "k1"), nil)
	if r.Status != 202 {
		t.Fatalf("bulk publish: %d %s", r.Status, r.Raw)
	}
	res := r.Result()
	items := res["items"].([]any)
	if len(items) != 4 || res["accepted"] != 2.0 || res["refused"] != 2.0 {
		t.Fatalf("result %s", r.Raw)
	}
	status := func(i int) float64 { return items[i].(map[string]any)["status"].(float64) }
	if status(0) != 202 || status(1) != 400 || status(2) != 403 || status(3) != 202 {
		t.Fatalf("statuses %v %v %v %v, want 202 400 403 202: %s", status(0), status(1), status(2), status(3), r.Raw)
	}
	if e := items[1].(map[string]any)["error"].(map[string]any); e["field"] == nil || e["message"] == "" {
		t.Fatalf("item 1's error names no field: %v", e)
	}
	first := items[3].(map[string]any)["eventId"]
	rc.Next(t)
	rc.Next(t)
	rc.None(t, 50*time.Millisecond)

	again := tg.Do("POST", "/api/v1/events/batch", acme, batchBody([]string{good}, "k1"), nil)
	it := again.Result()["items"].([]any)[0].(map[string]any)
	if again.Status != 202 || it["replayed"] != true || it["eventId"] != first {
		t.Fatalf("repeated key: %d %s, want the replay of %v", again.Status, again.Raw, first)
	}

	// An item's key is refused by the item's member, not by the header a
	// bulk publish may not carry.
	changed := strings.Replace(good, `"workorder":{`, `"workorder":{"extra":1,`, 1)
	bad := tg.Do("POST", "/api/v1/events/batch", acme, batchBody([]string{good, changed}, strings.Repeat("k", 256), "k1"), nil)
	bi := bad.Result()["items"].([]any)
	for i, want := range []string{"idempotencyKey must be at most 255 characters", `idempotencyKey "k1" was already used with another body`} {
		e, _ := bi[i].(map[string]any)["error"].(map[string]any)
		if e == nil || !strings.Contains(fmt.Sprint(e["message"]), want) {
			t.Errorf("item %d: %s; want its error to say %q", i, bad.Raw, want)
		}
	}
	if e, _ := bi[0].(map[string]any)["error"].(map[string]any); e == nil || e["field"] != "idempotencyKey" {
		t.Errorf("item 0's error names field %v, want idempotencyKey", e)
	}
}

// TestPublishBatchRefusals: what is wrong with the batch itself is a 400
// naming the field or the setting; nothing of it is written.
func TestPublishBatchRefusals(t *testing.T) {
	cfg := gatewaytest.APIConfig(t)
	cfg.API.MaxBatchEvents = 2
	tg := startAPIGateway(t, cfg)
	acme := tg.Token("acme", "acme-secret")
	good := string(gatewaytest.Seed(t, "workorder.created"))
	for _, c := range []struct {
		name, want string
		body       []byte
		hdr        map[string]string
	}{
		{"not json", "unexpected end of JSON input", []byte(`{"events":`), nil},
		{"an array", "events: the body must be {" + `"events":[{"envelope":{...},"idempotencyKey":"..."}]}: a JSON array where an object is expected`, []byte(`[` + good + `]`), nil},
		{"events an object", "a JSON object where an array is expected (in events)", []byte(`{"events":{}}`), nil},
		{"an item a number", "a JSON number where an object is expected (in events)", []byte(`{"events":[1]}`), nil},
		{"empty", "events: no envelope", []byte(`{"events":[]}`), nil},
		{"over the limit", "api.max_batch_events", batchBody([]string{good, good, good}), nil},
		{"key in the header", "idempotencyKey", batchBody([]string{good}), map[string]string{"Idempotency-Key": "k"}},
	} {
		r := tg.Do("POST", "/api/v1/events/batch", acme, c.body, c.hdr)
		if r.Status != 400 || !strings.Contains(r.ErrMessage(), c.want) || strings.Contains(r.ErrMessage(), "Go struct") || strings.Contains(r.ErrMessage(), "api.batch") {
			t.Errorf("%s: %d %q, want 400 naming %q", c.name, r.Status, r.ErrMessage(), c.want)
		}
	}
	reader := tg.Token("reader", "reader-secret")
	if r := tg.Do("POST", "/api/v1/events/batch", reader, batchBody([]string{good}), nil); r.Status != 403 {
		t.Errorf("without events:publish: %d %s", r.Status, r.Raw)
	}
	var n struct{ Metadata struct{ Total int } }
	r := tg.Do("GET", "/api/v1/webhooks/delivery-logs", acme, nil, nil)
	if err := json.Unmarshal(r.Raw, &n); err != nil || n.Metadata.Total != 0 {
		t.Errorf("refused batches left %d log records (%v)", n.Metadata.Total, err)
	}
}
