package gateway

import (
	"context"
	"encoding/json"
	"net/http"
	"net/url"
	"strings"
	"testing"
	"time"

	"github.com/golang-jwt/jwt/v5"
	"github.com/google/uuid"

	"github.com/hookgate/hookgate/gateway/api"
	"github.com/hookgate/hookgate/gateway/gatewaytest"
	"github.com/hookgate/hookgate/store"
)

func TestTokenEndpoint(t *testing.T) {
	tg := startGateway(t, gatewaytest.Config(t), false)
	post := func(form url.Values) gatewaytest.Response {
		return tg.Do("POST", "/authentication/api/oauth/token", "", []byte(form.Encode()),
			map[string]string{"Content-Type": "application/x-www-form-urlencoded"})
	}
	r := post(url.Values{"grant_type": {"client_credentials"}, "client_id": {"acme"}, "client_secret": {"acme-secret"}})
	if r.Status != 200 || r.Body["token_type"] != "Bearer" || r.Body["expires_in"].(float64) != 3600 {
		t.Fatalf("good credentials: %d %s", r.Status, r.Raw)
	}
	// The token carries the client's company, user and scopes.
	var c api.Claims
	if _, _, err := jwt.NewParser().ParseUnverified(r.Body["access_token"].(string), &c); err != nil {
		t.Fatal(err)
	}
	if c.CompanyID != 100 || c.UserID != 1068 || !c.HasScope(api.ScopePublish) || !c.HasScope(api.ScopeWebhooksWrite) {
		t.Errorf("claims = %+v", c)
	}
	for name, form := range map[string]url.Values{
		"wrong secret":   {"grant_type": {"client_credentials"}, "client_id": {"acme"}, "client_secret": {"nope"}},
		"unknown client": {"grant_type": {"client_credentials"}, "client_id": {"nobody"}, "client_secret": {"acme-secret"}},
	} {
		r := post(form)
		if r.Status != 401 || r.ErrMessage() != "invalid client_id or client_secret" || r.Body["result"] == nil {
			t.Errorf("%s: %d %s, want 401 in the error envelope", name, r.Status, r.Raw)
		}
	}
	if r := post(url.Values{"grant_type": {"password"}, "client_id": {"acme"}, "client_secret": {"acme-secret"}}); r.Status != 400 || !strings.Contains(r.ErrMessage(), "client_credentials") {
		t.Errorf("wrong grant: %d %s", r.Status, r.Raw)
	}
}

func TestAPIRequiresValidToken(t *testing.T) {
	tg := startGateway(t, gatewaytest.Config(t), false)
	env := gatewaytest.Seed(t, "workorder.created")
	good := tg.Token("acme", "acme-secret")

	forged := func() string {
		var c api.Claims
		jwt.NewParser().ParseUnverified(good, &c)
		s, _ := jwt.NewWithClaims(jwt.SigningMethodHS256, c).SignedString([]byte("not-the-key"))
		return s
	}()
	noneAlg := func() string {
		var c api.Claims
		jwt.NewParser().ParseUnverified(good, &c)
		s, _ := jwt.NewWithClaims(jwt.SigningMethodNone, c).SignedString(jwt.UnsafeAllowNoneSignatureType)
		return s
	}()
	for name, tok := range map[string]string{"missing": "", "garbage": "abc.def.ghi", "forged": forged, "alg none": noneAlg} {
		r := tg.Do("POST", "/api/v1/events", tok, env, nil)
		if r.Status != 401 || r.ErrMessage() == "" || r.Body["metadata"].(map[string]any)["path"] != "/api/v1/events" {
			t.Errorf("%s token: %d %s, want 401 envelope", name, r.Status, r.Raw)
		}
	}
	tg.Clock.Advance(time.Hour + time.Second)
	if r := tg.Do("POST", "/api/v1/events", good, env, nil); r.Status != 401 || !strings.Contains(r.ErrMessage(), "expired") {
		t.Errorf("expired token: %d %s", r.Status, r.Raw)
	}
}

func TestPublishValidation(t *testing.T) {
	cfg := gatewaytest.Config(t)
	cfg.Server.BodyLimit = 64 << 10
	tg := startGateway(t, cfg, false)
	tok := tg.Token("acme", "acme-secret")
	mutate := func(f func(m map[string]any)) []byte {
		var m map[string]any
		json.Unmarshal(gatewaytest.Seed(t, "workorder.created"), &m)
		f(m)
		b, _ := json.Marshal(m)
		return b
	}
	cases := []struct {
		name   string
		body   []byte
		status int
		msg    string
	}{
		{"not json", []byte(`{"event":`), 400, "not a valid event envelope"},
		{"array", []byte(`[1]`), 400, "body is a JSON array"},
		{"no event", mutate(func(m map[string]any) { delete(m, "event") }), 400, "event is required"},
		{"no name", mutate(func(m map[string]any) { delete(m["event"].(map[string]any), "name") }), 400, "event.name is required"},
		{"unknown name", mutate(func(m map[string]any) { m["event"].(map[string]any)["name"] = "workorder.exploded" }), 400, `event.name "workorder.exploded" is not one of the 33 events`},
		{"no timestamp", mutate(func(m map[string]any) { delete(m, "timestamp") }), 400, "timestamp is required"},
		{"bad timestamp", mutate(func(m map[string]any) { m["timestamp"] = "yesterday" }), 400, `timestamp "yesterday" is not an ISO 8601`},
		{"no user", mutate(func(m map[string]any) { delete(m, "triggered_by_user") }), 400, "triggered_by_user is required"},
		{"no workorder", mutate(func(m map[string]any) { delete(m, "workorder") }), 400, "workorder is required"},
		{"no company", mutate(func(m map[string]any) {
			delete(m["event"].(map[string]any)["params"].(map[string]any), "work_order_company_id")
			delete(m["workorder"].(map[string]any), "company")
		}), 400, "the company is required"},
		{"bad company", mutate(func(m map[string]any) {
			m["event"].(map[string]any)["params"].(map[string]any)["work_order_company_id"] = "acme"
		}), 400, "work_order_company_id must be a number"},
		{"other company", mutate(func(m map[string]any) {
			m["event"].(map[string]any)["params"].(map[string]any)["work_order_company_id"] = 200
		}), 403, "company 100 only"},
		{"too big", []byte(`{"pad":"` + strings.Repeat("x", 70<<10) + `"}`), 413, "larger than the limit"},
		// A member of the wrong JSON type is named in JSON's words, not
		// by the Go type it decodes into.
		{"event a number", mutate(func(m map[string]any) { m["event"] = 5 }), 400, "a JSON number where an object is expected (in event)"},
		{"name a number", mutate(func(m map[string]any) { m["event"].(map[string]any)["name"] = 5 }), 400, "a JSON number where a string is expected (in event.name)"},
		{"params an array", mutate(func(m map[string]any) { m["event"].(map[string]any)["params"] = []int{} }), 400, "a JSON array where an object is expected (in event.params)"},
		{"user id not a number", mutate(func(m map[string]any) { m["triggered_by_user"].(map[string]any)["id"] = "x" }), 400, "triggered_by_user.id must be a number or a numeric string"},
		{"user id an object", mutate(func(m map[string]any) { m["triggered_by_user"].(map[string]any)["id"] = map[string]any{} }), 400, "a JSON object where a number is expected (in triggered_by_user.id)"},
	}
	for _, c := range cases {
		r := tg.Do("POST", "/api/v1/events", tok, c.body, nil)
		if strings.Contains(r.ErrMessage(), "struct {") || strings.Contains(r.ErrMessage(), "json.") {
			t.Errorf("%s: %q names our Go types", c.name, r.ErrMessage())
		}
		if r.Status != c.status || !strings.Contains(r.ErrMessage(), c.msg) {
			t.Errorf("%s: %d %q, want %d containing %q", c.name, r.Status, r.ErrMessage(), c.status, c.msg)
		}
	}
	// The company may come from workorder.company.id alone.
	r := tg.Do("POST", "/api/v1/events", tok, mutate(func(m map[string]any) {
		delete(m["event"].(map[string]any)["params"].(map[string]any), "work_order_company_id")
	}), nil)
	if r.Status != 202 {
		t.Errorf("company from workorder.company.id: %d %s", r.Status, r.Raw)
	}
	// A token without events:publish cannot publish.
	if r := tg.Do("POST", "/api/v1/events", tg.Token("reader", "reader-secret"), gatewaytest.Seed(t, "workorder.created"), nil); r.Status != 403 {
		t.Errorf("reader publishing: %d, want 403", r.Status)
	}
}

func TestIdempotencyKey(t *testing.T) {
	rc := gatewaytest.NewReceiver(t, nil)
	tg := startGateway(t, gatewaytest.Config(t), false)
	w := tg.AddWebhook(&store.Webhook{URL: rc.Srv.URL, Events: []string{"workorder.created"}})
	tok := tg.Token("acme", "acme-secret")
	hdr := map[string]string{"Idempotency-Key": "order-42"}
	first := tg.Do("POST", "/api/v1/events", tok, gatewaytest.Seed(t, "workorder.created"), hdr)
	again := tg.Do("POST", "/api/v1/events", tok, gatewaytest.Seed(t, "workorder.created"), hdr)
	if first.Status != 202 || again.Status != 202 {
		t.Fatalf("statuses %d %d", first.Status, again.Status)
	}
	id1 := first.Body["result"].(map[string]any)["eventId"]
	if again.Body["result"].(map[string]any)["eventId"] != id1 || again.Header.Get("Idempotent-Replayed") != "true" {
		t.Errorf("repeat answered %s, want the first answer %v", again.Raw, id1)
	}
	ds, _ := tg.G.store.ListDeliveries(context.Background(), w.WebhookID, "", time.Time{}, time.Time{})
	if len(ds) != 1 {
		t.Errorf("%d deliveries queued, want 1", len(ds))
	}
	// After 24h the key is forgotten.
	tg.Clock.Advance(24*time.Hour + time.Minute)
	tok = tg.Token("acme", "acme-secret")
	later := tg.Do("POST", "/api/v1/events", tok, gatewaytest.Seed(t, "workorder.created"), hdr)
	if later.Body["result"].(map[string]any)["eventId"] == id1 {
		t.Error("key still remembered after its TTL")
	}
}

// TestIdempotencyKeyOtherBody: a key reused with another body is a 422
// naming the problem, not the first answer (which would drop the second
// event without a word); the same body still replays, and a record written
// by the previous version (no body hash) replays as it did.
func TestIdempotencyKeyOtherBody(t *testing.T) {
	rc := gatewaytest.NewReceiver(t, nil)
	tg := startGateway(t, gatewaytest.Config(t), false)
	w := tg.AddWebhook(&store.Webhook{URL: rc.Srv.URL, Events: []string{"workorder.created", "workorder.declined"}})
	tok := tg.Token("acme", "acme-secret")
	hdr := map[string]string{"Idempotency-Key": "order-43"}
	first := tg.Do("POST", "/api/v1/events", tok, gatewaytest.Seed(t, "workorder.created"), hdr)
	if first.Status != 202 {
		t.Fatalf("first: %d %s", first.Status, first.Raw)
	}
	other := tg.Do("POST", "/api/v1/events", tok, gatewaytest.Seed(t, "workorder.declined"), hdr)
	if other.Status != 422 || !strings.Contains(other.ErrMessage(), `Idempotency-Key "order-43" was already used with another body`) ||
		!strings.Contains(other.ErrMessage(), "delivery.idempotency_ttl = 24h0m0s") || other.Header.Get("Idempotent-Replayed") != "" {
		t.Errorf("another body: %d %s", other.Status, other.Raw)
	}
	same := tg.Do("POST", "/api/v1/events", tok, gatewaytest.Seed(t, "workorder.created"), hdr)
	if same.Status != 202 || same.Header.Get("Idempotent-Replayed") != "true" ||
		same.Body["result"].(map[string]any)["eventId"] != first.Body["result"].(map[string]any)["eventId"] {
		t.Errorf("same body: %d %s", same.Status, same.Raw)
	}
	if _, ok := same.Body["result"].(map[string]any)["bodySha256"]; ok {
		t.Errorf("the stored hash leaked into the answer: %s", same.Raw)
	}
	ds, _ := tg.G.store.ListDeliveries(context.Background(), w.WebhookID, "", time.Time{}, time.Time{})
	if len(ds) != 1 {
		t.Errorf("%d deliveries queued, want 1", len(ds))
	}

	// A record of the previous version: the plain answer, no hash.
	legacy := `{"eventId":"0c9b5f9e-1d2a-4f6e-8a7b-3c4d5e6f7a8b","traceId":"5e6f7a8b-0c9b-4f6e-8a7b-1d2a3c4d5e6f","deliveries":1}`
	ev := &store.Event{ID: uuid.NewString(), TraceID: uuid.NewString(), Name: "workorder.created", CompanyID: 100, Payload: []byte(`{}`), ReceivedAt: gatewaytest.T0}
	if _, err := tg.G.store.Ingest(context.Background(), &store.Idempotency{Key: "acme\x00old-key", Response: []byte(legacy), TTL: time.Hour},
		[]store.IngestItem{{Event: ev}}); err != nil {
		t.Fatal(err)
	}
	old := tg.Do("POST", "/api/v1/events", tok, gatewaytest.Seed(t, "workorder.declined"), map[string]string{"Idempotency-Key": "old-key"})
	if old.Status != 202 || old.Header.Get("Idempotent-Replayed") != "true" ||
		old.Body["result"].(map[string]any)["eventId"] != "0c9b5f9e-1d2a-4f6e-8a7b-3c4d5e6f7a8b" {
		t.Errorf("record of the previous version: %d %s", old.Status, old.Raw)
	}
}

func TestHealthReadyMetrics(t *testing.T) {
	tg := startGateway(t, gatewaytest.Config(t), false)
	if r := tg.Do("GET", "/readyz", "", nil, nil); r.Status != 503 {
		t.Errorf("readyz before Start = %d, want 503", r.Status)
	}
	tg.G.Start()
	for _, p := range []string{"/healthz", "/readyz"} {
		if r := tg.Do("GET", p, "", nil, nil); r.Status != 200 {
			t.Errorf("%s = %d", p, r.Status)
		}
	}
	w := tg.AddWebhook(&store.Webhook{URL: "http://127.0.0.1:1/", Status: store.StatusActive, Events: []string{"workorder.status.paid"}})
	tg.Publish(tg.Token("acme", "acme-secret"), gatewaytest.Seed(t, "workorder.status.paid"))
	// Port 1 refuses: one failed attempt, rescheduled.
	tg.WaitFor(w.WebhookID, store.DeliveryPending, func(d *store.Delivery) bool { return d.Attempts == 1 })
	// The worker counts the attempt just after the store has it: read
	// /metrics until it does (or the deadline), instead of once.
	wants := []string{
		`hookgate_events_accepted_total{event="workorder.status.paid"} 1`,
		`hookgate_queue_depth{priority="high"}`,
		`hookgate_attempt_duration_seconds_bucket{outcome="retry"`,
		`hookgate_delivery_attempts_total{outcome="retry"} 1`,
		"hookgate_deliveries_in_flight 0\n", // recorded: nothing running
	}
	var missing []string
	for deadline := time.Now().Add(10 * time.Second); ; {
		missing = missing[:0]
		page := metricsPage(t, tg.Base)
		for _, want := range wants {
			if !strings.Contains(page, want) {
				missing = append(missing, want)
			}
		}
		if len(missing) == 0 || time.Now().After(deadline) {
			break
		}
		time.Sleep(10 * time.Millisecond)
	}
	for _, m := range missing {
		t.Errorf("/metrics lacks %s", m)
	}
}

// metricsPage reads GET /metrics.
func metricsPage(t *testing.T, base string) string {
	t.Helper()
	resp, err := http.Get(base + "/metrics")
	if err != nil {
		t.Fatal(err)
	}
	defer resp.Body.Close()
	buf := new(strings.Builder)
	_, _ = gatewaytest.BufioCopy(buf, resp)
	return buf.String()
}
