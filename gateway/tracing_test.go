package gateway

import (
	"net/http"
	"strings"
	"testing"
	"time"

	"github.com/hookgate/hookgate/gateway/gatewaytest"
	"github.com/hookgate/hookgate/store"
	"github.com/hookgate/hookgate/telemetry"
	"github.com/hookgate/hookgate/telemetry/telemetrytest"
)

// TestTraceFromPublisherToReceiver: one event's spans reach a real OTLP
// receiver with the right parents, from the producer's traceparent through
// the publish, fan-out and write, each attempt, the sink process's own
// spans, to the receiver's traceparent header; a retry is a new attempt
// span in the same trace.
func TestTraceFromPublisherToReceiver(t *testing.T) {
	// Export within 50 ms instead of the SDK's 5 s; sinks inherit it.
	t.Setenv("OTEL_BSP_SCHEDULE_DELAY", "50")
	col := telemetrytest.Start(t)
	rc := gatewaytest.NewReceiver(t, func(n int, w http.ResponseWriter, _ *http.Request) {
		if n == 1 {
			w.WriteHeader(http.StatusServiceUnavailable)
			return
		}
		w.WriteHeader(http.StatusOK)
	})
	cfg := gatewaytest.Config(t)
	cfg.Telemetry.OTLPEndpoint = col.URL
	tg := startGateway(t, cfg, true)
	w := tg.AddWebhook(&store.Webhook{URL: rc.Srv.URL + "/hook", Events: []string{"workorder.created"}})

	const producerTrace, producerSpan = "4bf92f3577b34da6a3ce929d0e0e4736", "00f067aa0ba902b7"
	r := tg.Do("POST", "/api/v1/events", tg.Token("acme", "acme-secret"), gatewaytest.Seed(t, "workorder.created"),
		map[string]string{"traceparent": "00-" + producerTrace + "-" + producerSpan + "-01"})
	if r.Status != 202 {
		t.Fatalf("publish: %d %s", r.Status, r.Raw)
	}
	// Another request at once on the same connection: the server reuses
	// its buffers, so a span attribute still pointing into them (not
	// copied) would be exported with this request's bytes.
	tg.Must(200, "GET", "/api/v1/webhooks", tg.Token("acme", "acme-secret"), nil)
	traceUUID := r.Result()["traceId"].(string)
	if telemetry.W3CTraceID(traceUUID) != producerTrace {
		t.Errorf("traceId = %q, want the producer's trace %s as a UUID", traceUUID, producerTrace)
	}
	var sent []gatewaytest.Received
	sent = append(sent, rc.Next(t))
	tg.WaitFor(w.WebhookID, store.DeliveryPending, func(d *store.Delivery) bool { return d.Attempts == 1 })
	tg.Clock.Advance(cfg.Delivery.Backoff[0])
	tg.G.Kick()
	sent = append(sent, rc.Next(t))

	for i, got := range sent {
		tp := got.Header.Get("traceparent")
		if !strings.HasPrefix(tp, "00-"+producerTrace+"-") || !strings.HasSuffix(tp, "-01") {
			t.Fatalf("request %d: traceparent = %q, want the producer's trace, sampled", i+1, tp)
		}
		if got.Header.Get("X-FN-Event-Trace-Id") != traceUUID {
			t.Errorf("request %d: X-FN-Event-Trace-Id = %q, want %q", i+1, got.Header.Get("X-FN-Event-Trace-Id"), traceUUID)
		}
	}
	// The delivery log shows the trace id.
	tg.WaitDelivery(w.WebhookID, store.DeliverySucceeded)
	logID := sent[1].Header.Get("X-FN-Delivery-Id")
	if det := tg.Must(200, "GET", "/api/v1/webhooks/delivery-logs/"+logID, tg.Token("acme", "acme-secret"), nil).Result(); det["traceId"] != traceUUID {
		t.Errorf("delivery log %s: traceId = %v, want %s", logID, det["traceId"], traceUUID)
	}
	// Publish 3 + per attempt: attempt, render, sink.call, sink.deliver, HTTP POST.
	spans := col.WaitFor(t, 10*time.Second, func(s []telemetrytest.Span) bool {
		return len(named(s, "HTTP POST")) == 2 && len(named(s, "delivery.attempt")) == 2 && len(named(s, "ingest.write")) == 1
	})
	byID := map[string]telemetrytest.Span{}
	for _, s := range spans {
		if s.TraceID != producerTrace {
			t.Errorf("span %s (%s) is in trace %s, want %s", s.Name, s.Service, s.TraceID, producerTrace)
		}
		byID[s.SpanID] = s
	}
	parent := func(s telemetrytest.Span) telemetrytest.Span { return byID[s.ParentID] }
	publish := one(t, spans, "POST /api/v1/events")
	if publish.ParentID != producerSpan || publish.Service != "hookgate" || publish.Kind != "SPAN_KIND_SERVER" {
		t.Errorf("publish span = %+v, want a server span of hookgate under the producer's span %s", publish, producerSpan)
	}
	if m := publish.Attrs["http.request.method"]; m != "POST" {
		t.Errorf("publish span: http.request.method = %q, want POST (copied out of the request, whose buffer the next request reuses)", m)
	}
	fanOut := one(t, spans, "ingest.fan_out")
	for _, s := range []telemetrytest.Span{fanOut, one(t, spans, "ingest.write")} {
		if s.ParentID != publish.SpanID {
			t.Errorf("%s: parent %s, want the publish span", s.Name, s.ParentID)
		}
	}
	for i, http := range named(spans, "HTTP POST") {
		deliver := parent(http)
		call := parent(deliver)
		attempt := parent(call)
		if http.Service != "hookgate-sink-http" || http.Kind != "SPAN_KIND_CLIENT" ||
			deliver.Name != "sink.deliver" || deliver.Service != "hookgate-sink-http" ||
			call.Name != "sink.call" || call.Service != "hookgate" ||
			attempt.Name != "delivery.attempt" || attempt.ParentID != fanOut.SpanID {
			t.Errorf("HTTP POST %d: chain %s/%s <- %s/%s <- %s/%s <- %s (parent %s), want HTTP POST <- sink.deliver (sink) <- sink.call <- delivery.attempt <- fan-out",
				i, http.Service, http.Name, deliver.Service, deliver.Name, call.Service, call.Name, attempt.Name, attempt.ParentID)
		}
	}
	// The receiver got each attempt's outbound span as its parent.
	for i, got := range sent {
		id := strings.Split(got.Header.Get("traceparent"), "-")[2]
		if s, ok := byID[id]; !ok || s.Name != "HTTP POST" || !strings.HasSuffix(parent(parent(parent(s))).Attrs["hookgate.delivery_id"], ":"+string(rune('1'+i))) {
			t.Errorf("request %d: traceparent span %s is %+v, want the HTTP POST span of attempt %d", i+1, id, s, i+1)
		}
	}
	attempts := named(spans, "delivery.attempt")
	if len(named(spans, "delivery.render")) != 2 || parent(named(spans, "delivery.render")[0]).Name != "delivery.attempt" {
		t.Errorf("render spans = %v, want one under each attempt", named(spans, "delivery.render"))
	}
	outcomes := map[string]bool{}
	for _, a := range attempts {
		outcomes[a.Attrs["hookgate.outcome"]] = a.Error
	}
	if len(outcomes) != 2 || outcomes["retry"] != true || outcomes["success"] != false {
		t.Errorf("attempt outcomes (outcome: error status) = %v, want a failed retry and a success", outcomes)
	}
}

// TestTracingOffSendsNoTraceparent: without a telemetry block the
// receiver gets no traceparent, even when the producer sent one, and the
// event's trace id is the gateway's own.
func TestTracingOffSendsNoTraceparent(t *testing.T) {
	rc := gatewaytest.NewReceiver(t, nil)
	tg := startGateway(t, gatewaytest.Config(t), true)
	tg.AddWebhook(&store.Webhook{URL: rc.Srv.URL + "/hook", Events: []string{"workorder.created"}})
	r := tg.Do("POST", "/api/v1/events", tg.Token("acme", "acme-secret"), gatewaytest.Seed(t, "workorder.created"),
		map[string]string{"traceparent": "00-4bf92f3577b34da6a3ce929d0e0e4736-00f067aa0ba902b7-01"})
	if r.Status != 202 {
		t.Fatalf("publish: %d %s", r.Status, r.Raw)
	}
	got := rc.Next(t)
	if tp := got.Header.Get("traceparent"); tp != "" {
		t.Errorf("traceparent = %q with tracing off, want none", tp)
	}
	if id := r.Result()["traceId"].(string); telemetry.W3CTraceID(id) == "4bf92f3577b34da6a3ce929d0e0e4736" {
		t.Errorf("traceId = %q took the producer's trace with tracing off", id)
	}
}

func named(spans []telemetrytest.Span, name string) []telemetrytest.Span {
	var out []telemetrytest.Span
	for _, s := range spans {
		if s.Name == name {
			out = append(out, s)
		}
	}
	return out
}

func one(t *testing.T, spans []telemetrytest.Span, name string) telemetrytest.Span {
	t.Helper()
	got := named(spans, name)
	if len(got) != 1 {
		t.Fatalf("%d spans named %q, want 1", len(got), name)
	}
	return got[0]
}
