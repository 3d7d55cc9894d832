package telemetry

import (
	"context"
	"testing"
)

// TestTraceparentRoundTrip: a context carried as one traceparent string
// comes back as the same span context, and its trace id converts to the
// UUID form events use and back.
func TestTraceparentRoundTrip(t *testing.T) {
	const tp = "00-4bf92f3577b34da6a3ce929d0e0e4736-00f067aa0ba902b7-01"
	ctx := WithRemoteParent(context.Background(), tp)
	if got := Traceparent(ctx); got != tp {
		t.Errorf("Traceparent = %q, want %q", got, tp)
	}
	u := TraceUUID(ctx)
	if u != "4bf92f35-77b3-4da6-a3ce-929d0e0e4736" || W3CTraceID(u) != "4bf92f3577b34da6a3ce929d0e0e4736" {
		t.Errorf("TraceUUID = %q, W3CTraceID of it = %q", u, W3CTraceID(u))
	}
}

// TestMalformedTraceparentStartsFresh: a producer's bad header is ignored
// (a new trace), never an error or a half-parsed parent.
func TestMalformedTraceparentStartsFresh(t *testing.T) {
	for _, tp := range []string{"", "garbage", "00-00000000000000000000000000000000-00f067aa0ba902b7-01",
		"00-4bf92f3577b34da6a3ce929d0e0e4736-0000000000000000-01", "ff-4bf92f3577b34da6a3ce929d0e0e4736-00f067aa0ba902b7-01",
		"00-4BF92F3577B34DA6A3CE929D0E0E4736-00f067aa0ba902b7-01"} {
		if got := Traceparent(WithRemoteParent(context.Background(), tp)); got != "" {
			t.Errorf("traceparent %q gave parent %q, want none", tp, got)
		}
	}
	if W3CTraceID("not-a-uuid") != "" || W3CTraceID("4bf92f3577b34da6a3ce929d0e0e4736") != "" {
		t.Error("W3CTraceID accepted something that is not a dashed UUID")
	}
}

// TestOffRecordsNothing: no endpoint is the no-op provider; a bad endpoint
// is refused by New.
func TestOffRecordsNothing(t *testing.T) {
	p, err := New(context.Background(), Settings{})
	if err != nil || p.Enabled() {
		t.Fatalf("New(off) = %v, %v; want a disabled provider", p.Enabled(), err)
	}
	_, span := p.Tracer("x").Start(context.Background(), "s")
	if span.IsRecording() || span.SpanContext().IsValid() {
		t.Error("the off provider made a recording or valid span")
	}
	if _, err := New(context.Background(), Settings{Endpoint: "127.0.0.1:4318"}); err == nil {
		t.Error("New accepted an endpoint without a scheme")
	}
}
