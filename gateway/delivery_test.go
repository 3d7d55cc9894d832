package gateway

import (
	"context"
	"encoding/json"
	"fmt"
	"net/http"
	"strconv"
	"strings"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	"github.com/hookgate/hookgate/gateway/delivery"
	"github.com/hookgate/hookgate/gateway/gatewaytest"
	"github.com/hookgate/hookgate/signature"
	"github.com/hookgate/hookgate/store"
)

func TestDeliverySignedTransformedAndTemplatedURL(t *testing.T) {
	rc := gatewaytest.NewReceiver(t, func(_ int, w http.ResponseWriter, _ *http.Request) { w.WriteHeader(200) })
	tg := startGateway(t, gatewaytest.Config(t), true)
	w := tg.AddWebhook(&store.Webhook{
		URL:             rc.Srv.URL + "/hooks/{{ workorder.location.country }}/{{ workorder.id }}",
		Events:          []string{"workorder.status.published"},
		Headers:         map[string]string{"Authorization": "Bearer receiver-token"},
		PayloadTemplate: `{"ticket": $string(workorder.id), "title": workorder.title, "event": event.name}`,
	})
	tok := tg.Token("acme", "acme-secret")
	res := tg.Publish(tok, gatewaytest.Seed(t, "workorder.status.published"))
	if res["deliveries"].(float64) != 1 {
		t.Fatalf("deliveries queued = %v, want 1", res["deliveries"])
	}

	got := rc.Next(t)
	if got.Method != "POST" || got.Path != "/hooks/US/12345" {
		t.Errorf("request line = %s %s, want POST /hooks/US/12345", got.Method, got.Path)
	}
	var body map[string]any
	if err := json.Unmarshal(got.Body, &body); err != nil {
		t.Fatalf("body %q: %v", got.Body, err)
	}
	if body["ticket"] != "12345" || body["title"] != "Router Installation - Site 42" || body["event"] != "workorder.status.published" {
		t.Errorf("transformed body = %s", got.Body)
	}
	// The signature covers exactly the bytes received.
	if !signature.Verify(w.Secret, got.Body, got.Header.Get("X-FN-Signature")) {
		t.Errorf("signature %q does not verify over the received body", got.Header.Get("X-FN-Signature"))
	}
	if want := signature.Sign(w.Secret, got.Body); got.Header.Get("X-FN-Signature") != want {
		t.Errorf("X-FN-Signature = %q, want %q", got.Header.Get("X-FN-Signature"), want)
	}
	m := gatewaytest.DeliveryIDRe.FindStringSubmatch(got.Header.Get("X-FN-Delivery-Id"))
	if m == nil || m[1] != "1" {
		t.Errorf("X-FN-Delivery-Id = %q, want <uuid>:1", got.Header.Get("X-FN-Delivery-Id"))
	}
	checks := map[string]string{
		"Content-Type":           "application/json",
		"X-FN-Webhook-Id":        w.WebhookID,
		"X-FN-Event-Trace-Id":    res["traceId"].(string),
		"X-FN-Event-Name":        "workorder.status.published",
		"X-FN-Request-Timestamp": strconv.FormatInt(gatewaytest.T0.UnixMilli(), 10),
		"Authorization":          "Bearer receiver-token",
	}
	for k, want := range checks {
		if v := got.Header.Get(k); v != want {
			t.Errorf("%s = %q, want %q", k, v, want)
		}
	}

	d := tg.WaitDelivery(w.WebhookID, store.DeliverySucceeded)
	a, err := tg.G.store.GetAttempt(context.Background(), d.ID, 1)
	if err != nil {
		t.Fatal(err)
	}
	if a.ResponseStatus != 200 || a.Outcome != store.OutcomeSuccess || string(a.RequestBody) != string(got.Body) {
		t.Errorf("log = status %d outcome %s body %q", a.ResponseStatus, a.Outcome, a.RequestBody)
	}
	if a.RequestHeaders["Authorization"] != delivery.RedactedHeaderVal {
		t.Errorf("custom header stored in the log as %q, want it redacted", a.RequestHeaders["Authorization"])
	}
	ev, err := tg.G.store.GetEvent(context.Background(), d.EventID)
	if err != nil || !strings.Contains(string(ev.Payload), `"work_order_company_id"`) {
		t.Errorf("original envelope not kept: %v", err)
	}
}

func TestEnvelopeDeliveredAsIsWithoutTemplate(t *testing.T) {
	rc := gatewaytest.NewReceiver(t, nil)
	tg := startGateway(t, gatewaytest.Config(t), true)
	tg.AddWebhook(&store.Webhook{URL: rc.Srv.URL + "/in", Method: "put", Events: []string{"workorder.created"}})
	env := gatewaytest.Seed(t, "workorder.created")
	tg.Publish(tg.Token("acme", "acme-secret"), env)
	got := rc.Next(t)
	if got.Method != "PUT" || string(got.Body) != string(env) {
		t.Errorf("got %s %q, want PUT with the envelope byte for byte", got.Method, got.Body)
	}
}

func TestModelPropertiesFilterWorkorder(t *testing.T) {
	rc := gatewaytest.NewReceiver(t, nil)
	tg := startGateway(t, gatewaytest.Config(t), true)
	tg.AddWebhook(&store.Webhook{URL: rc.Srv.URL, Events: []string{"workorder.created"}, ModelProperties: []string{"id", "title"}})
	tg.Publish(tg.Token("acme", "acme-secret"), gatewaytest.Seed(t, "workorder.created"))
	var body struct {
		Event     map[string]any `json:"event"`
		Workorder map[string]any `json:"workorder"`
	}
	if err := json.Unmarshal(rc.Next(t).Body, &body); err != nil {
		t.Fatal(err)
	}
	if len(body.Workorder) != 2 || body.Workorder["title"] == nil || body.Event["name"] != "workorder.created" {
		t.Errorf("workorder = %v, want only id and title", body.Workorder)
	}
}

func TestFanOutOnlyToActiveSubscribersOfTheCompany(t *testing.T) {
	rc := gatewaytest.NewReceiver(t, nil)
	tg := startGateway(t, gatewaytest.Config(t), true)
	on := tg.AddWebhook(&store.Webhook{URL: rc.Srv.URL + "/on", Events: []string{"workorder.created", "workorder.routed"}})
	tg.AddWebhook(&store.Webhook{URL: rc.Srv.URL + "/inactive", Status: store.StatusInactive, Events: []string{"workorder.created"}})
	tg.AddWebhook(&store.Webhook{URL: rc.Srv.URL + "/archived", Status: store.StatusArchived, Events: []string{"workorder.created"}})
	tg.AddWebhook(&store.Webhook{URL: rc.Srv.URL + "/other-event", Events: []string{"workorder.routed"}})
	tg.AddWebhook(&store.Webhook{URL: rc.Srv.URL + "/other-company", CompanyID: 200, Events: []string{"workorder.created"}})
	res := tg.Publish(tg.Token("acme", "acme-secret"), gatewaytest.Seed(t, "workorder.created"))
	if res["deliveries"].(float64) != 1 {
		t.Fatalf("deliveries = %v, want 1", res["deliveries"])
	}
	if got := rc.Next(t); got.Path != "/on" || got.Header.Get("X-FN-Webhook-Id") != on.WebhookID {
		t.Errorf("delivered to %s", got.Path)
	}
	rc.None(t, 200*time.Millisecond)
}

// TestRetryClasses checks what each kind of failure does to the delivery.
func TestRetryClasses(t *testing.T) {
	cases := []struct {
		name      string
		answer    func(w http.ResponseWriter, r *http.Request)
		wantState store.DeliveryState
		wantDelay time.Duration // for retries: due after the attempt
		wantCode  int
	}{
		{"500", func(w http.ResponseWriter, _ *http.Request) { w.WriteHeader(500) }, store.DeliveryPending, 10 * time.Second, 500},
		{"503 Retry-After shorter than backoff", func(w http.ResponseWriter, _ *http.Request) {
			w.Header().Set("Retry-After", "3")
			w.WriteHeader(503)
		}, store.DeliveryPending, 10 * time.Second, 503},
		{"429 Retry-After longer", func(w http.ResponseWriter, _ *http.Request) {
			w.Header().Set("Retry-After", "120")
			w.WriteHeader(429)
		}, store.DeliveryPending, 120 * time.Second, 429},
		{"408", func(w http.ResponseWriter, _ *http.Request) { w.WriteHeader(408) }, store.DeliveryPending, 10 * time.Second, 408},
		{"timeout", func(w http.ResponseWriter, r *http.Request) { <-r.Context().Done() }, store.DeliveryPending, 10 * time.Second, 0},
		{"connection reset", func(w http.ResponseWriter, _ *http.Request) {
			conn, _, _ := w.(http.Hijacker).Hijack()
			conn.(interface{ SetLinger(int) error }).SetLinger(0)
			conn.Close()
		}, store.DeliveryPending, 10 * time.Second, 0},
		{"404", func(w http.ResponseWriter, _ *http.Request) { w.WriteHeader(404) }, store.DeliveryDead, 0, 404},
		{"410", func(w http.ResponseWriter, _ *http.Request) { w.WriteHeader(410) }, store.DeliveryDead, 0, 410},
		{"400", func(w http.ResponseWriter, _ *http.Request) { w.WriteHeader(400) }, store.DeliveryDead, 0, 400},
	}
	cfg := gatewaytest.Config(t)
	cfg.Delivery.Timeout = 300 * time.Millisecond
	tg := startGateway(t, cfg, true)
	tok := tg.Token("acme", "acme-secret")
	for _, c := range cases {
		t.Run(c.name, func(t *testing.T) {
			rc := gatewaytest.NewReceiver(t, func(_ int, w http.ResponseWriter, r *http.Request) { c.answer(w, r) })
			w := tg.AddWebhook(&store.Webhook{URL: rc.Srv.URL, Events: []string{"workorder.created"}})
			defer tg.G.index.Remove(w.WebhookID)
			tg.Publish(tok, gatewaytest.Seed(t, "workorder.created"))
			rc.Next(t)
			d := tg.WaitDelivery(w.WebhookID, c.wantState)
			if d.Attempts != 1 || d.LastStatus != c.wantCode {
				t.Errorf("attempts %d last status %d, want 1 and %d", d.Attempts, d.LastStatus, c.wantCode)
			}
			if c.wantState == store.DeliveryPending {
				if got := d.DueAt.Sub(tg.Clock.Now()); got != c.wantDelay {
					t.Errorf("next attempt in %v, want %v", got, c.wantDelay)
				}
			} else if d.DeadReason == "" {
				t.Error("a dead delivery must say why")
			}
			// Nothing more happens until the clock reaches the due time.
			rc.None(t, 50*time.Millisecond)
		})
	}
}

func TestRetriesUntilDeadLetterThenRequeue(t *testing.T) {
	rc := gatewaytest.NewReceiver(t, func(_ int, w http.ResponseWriter, _ *http.Request) { w.WriteHeader(502) })
	tg := startGateway(t, gatewaytest.Config(t), true)
	w := tg.AddWebhook(&store.Webhook{URL: rc.Srv.URL, Events: []string{"workorder.status.paid"}})
	tg.Publish(tg.Token("acme", "acme-secret"), gatewaytest.Seed(t, "workorder.status.paid"))

	backoff := tg.Cfg.Delivery.Backoff
	for attempt := 1; attempt <= len(backoff)+1; attempt++ {
		got := rc.Next(t)
		if id := got.Header.Get("X-FN-Delivery-Id"); !strings.HasSuffix(id, ":"+strconv.Itoa(attempt)) {
			t.Fatalf("attempt %d sent as %s", attempt, id)
		}
		if attempt <= len(backoff) {
			tg.WaitFor(w.WebhookID, store.DeliveryPending, func(d *store.Delivery) bool { return d.Attempts == attempt })
			// One nanosecond early is not enough...
			tg.Clock.Advance(backoff[attempt-1] - time.Nanosecond)
			tg.G.Kick()
			rc.None(t, 30*time.Millisecond)
			// ...exactly the backoff is.
			tg.Clock.Advance(time.Nanosecond)
			tg.G.Kick()
		}
	}
	d := tg.WaitDelivery(w.WebhookID, store.DeliveryDead)
	if d.Attempts != 8 || !strings.Contains(d.DeadReason, "exhausted") {
		t.Errorf("dead after %d attempts (%q), want 8", d.Attempts, d.DeadReason)
	}
	logs, total, err := tg.G.store.ListAttempts(context.Background(), store.AttemptFilter{CompanyID: 100, WebhookID: w.WebhookID, Limit: 50})
	if err != nil || total != 8 || len(logs) != 8 {
		t.Fatalf("attempt log has %d records (%v), want 8", total, err)
	}

	// A dead delivery can be queued again from Go code, same uuid, next attempt.
	rc.Answer = func(_ int, w http.ResponseWriter, _ *http.Request) { w.WriteHeader(200) }
	if _, err := tg.G.Requeue(context.Background(), d.ID); err != nil {
		t.Fatal(err)
	}
	if got := rc.Next(t).Header.Get("X-FN-Delivery-Id"); got != d.ID+":9" {
		t.Errorf("requeued attempt sent as %s, want %s:9", got, d.ID)
	}
	tg.WaitDelivery(w.WebhookID, store.DeliverySucceeded)
}

func TestTemplateErrorFailsOnlyThatDeliveryWithoutRetry(t *testing.T) {
	rc := gatewaytest.NewReceiver(t, nil)
	tg := startGateway(t, gatewaytest.Config(t), true)
	bad := tg.AddWebhook(&store.Webhook{URL: rc.Srv.URL + "/bad/{{ workorder.nothing_here }}", Events: []string{"workorder.created"}})
	tg.AddWebhook(&store.Webhook{URL: rc.Srv.URL + "/good", Events: []string{"workorder.created"}})
	tg.Publish(tg.Token("acme", "acme-secret"), gatewaytest.Seed(t, "workorder.created"))
	if got := rc.Next(t); got.Path != "/good" {
		t.Errorf("got %s, want /good", got.Path)
	}
	d := tg.WaitDelivery(bad.WebhookID, store.DeliveryDead)
	a, err := tg.G.store.GetAttempt(context.Background(), d.ID, 1)
	if err != nil {
		t.Fatal(err)
	}
	if d.Attempts != 1 || !strings.Contains(a.Error, "url template") {
		t.Errorf("attempts %d, log error %q: want one attempt whose log names the url template", d.Attempts, a.Error)
	}
	rc.None(t, 50*time.Millisecond)
}

func TestPriorityHighBeforeNormalBeforeLow(t *testing.T) {
	cfg := gatewaytest.Config(t)
	cfg.Delivery.Workers = 1
	rc := gatewaytest.NewReceiver(t, nil)
	tg := startGateway(t, cfg, false) // queue first, deliver after
	tg.AddWebhook(&store.Webhook{URL: rc.Srv.URL + "/{{ event.name }}", Events: []string{
		"workorder.message_posted", "workorder.provider_upload", "workorder.created", "workorder.status.approved"}})
	tok := tg.Token("acme", "acme-secret")
	for range 5 {
		tg.Publish(tok, gatewaytest.Seed(t, "workorder.message_posted"))
		tg.Publish(tok, gatewaytest.Seed(t, "workorder.provider_upload"))
	}
	tg.Publish(tok, gatewaytest.Seed(t, "workorder.created"))
	tg.Publish(tok, gatewaytest.Seed(t, "workorder.status.approved"))
	tg.G.Start()
	var order []string
	for range 12 {
		order = append(order, rc.Next(t).Path)
	}
	if order[0] != "/workorder.status.approved" || order[1] != "/workorder.created" {
		t.Errorf("order = %v, want approved, then created, then the low ones", order)
	}
}

// TestSlowReceiversDoNotHoldBackFast: ten slow webhooks (each attempt
// 600 ms) with 50 deliveries queued ahead of 20 for a fast webhook, on 8
// workers. Without fairness the fast deliveries wait for every slow one;
// with it, each slow webhook runs at most 2 at once, slow ones hold at
// most half the workers, the fast webhook, not known yet, proves itself
// with a probe past the full slow share, and the fast ones are all
// delivered while most slow ones are still queued.
func TestSlowReceiversDoNotHoldBackFast(t *testing.T) {
	cfg := gatewaytest.Config(t)
	cfg.Delivery.Workers = 8
	cfg.Delivery.MaxInFlightPerWebhook = 2
	cfg.Delivery.SlowThreshold = 200 * time.Millisecond
	cfg.Delivery.SlowShare = 0.5
	tg := startGateway(t, cfg, true)

	var slowDone, fastDone atomic.Int64
	var mu sync.Mutex
	running := map[string]int{}
	maxRunning := 0
	slowURL := gatewaytest.NewReceiverTB(t, func(w http.ResponseWriter, r *http.Request) {
		mu.Lock()
		running[r.URL.Path]++
		maxRunning = max(maxRunning, running[r.URL.Path])
		mu.Unlock()
		time.Sleep(600 * time.Millisecond)
		mu.Lock()
		running[r.URL.Path]--
		mu.Unlock()
		slowDone.Add(1)
	})
	fastURL := gatewaytest.NewReceiverTB(t, func(w http.ResponseWriter, r *http.Request) { fastDone.Add(1) })
	for i := range 10 {
		tg.AddWebhook(&store.Webhook{URL: fmt.Sprintf("%s/slow/%d", slowURL, i), Events: []string{"workorder.created"}})
	}
	tg.AddWebhook(&store.Webhook{URL: fastURL + "/fast", Events: []string{"workorder.routed"}})
	tok := tg.Token("acme", "acme-secret")
	for range 5 {
		tg.Publish(tok, gatewaytest.Seed(t, "workorder.created"))
	}
	// The fast deliveries are due after the slow ones, as on the wall
	// clock; on one instant they would be in delivery id order instead.
	tg.Clock.Advance(time.Millisecond)
	for range 20 {
		tg.Publish(tok, gatewaytest.Seed(t, "workorder.routed"))
	}
	deadline := time.Now().Add(30 * time.Second)
	for fastDone.Load() < 20 {
		if time.Now().After(deadline) {
			t.Fatalf("fast webhook got %d of 20", fastDone.Load())
		}
		time.Sleep(5 * time.Millisecond)
	}
	// Without fairness all 8 workers serve the 50 slow deliveries first and
	// the fast ones run only as the last 8 slow ones finish (42+ done); with
	// it they run as soon as the first slow attempts end.
	if n := slowDone.Load(); n > 20 {
		t.Errorf("fast deliveries finished only after %d of 50 slow ones: slow receivers held them back", n)
	}
	for slowDone.Load() < 50 { // the slow ones are slowed, not starved
		if time.Now().After(deadline) {
			t.Fatalf("slow webhooks got %d of 50", slowDone.Load())
		}
		time.Sleep(5 * time.Millisecond)
	}
	mu.Lock()
	defer mu.Unlock()
	if maxRunning > 2 {
		t.Errorf("a slow webhook ran %d attempts at once; max_in_flight_per_webhook is 2", maxRunning)
	}
}
