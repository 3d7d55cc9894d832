package sinkhttp

import (
	"context"

	"go.opentelemetry.io/otel"
	"go.opentelemetry.io/otel/attribute"
	"go.opentelemetry.io/otel/codes"
	"go.opentelemetry.io/otel/trace"

	"github.com/hookgate/hookgate/telemetry"
)

const tracerName = "github.com/hookgate/hookgate/plugins/sdk/sinkhttp"

// startRequestSpan starts the client span of one outbound request when
// ctx belongs to a trace, and sends that span on as the request's W3C
// traceparent header, so the receiver's own spans join the trace. With no
// trace in ctx (the gateway's tracing off) it does nothing.
func startRequestSpan(ctx context.Context, req *outgoing) trace.Span {
	if !trace.SpanContextFromContext(ctx).IsValid() {
		return nil
	}
	// The global provider is the sink's exporter (sdk.Serve sets it from
	// Configure) or a no-op one, whose span still carries the parent's
	// context on to the header.
	ctx, span := otel.Tracer(tracerName).Start(ctx, "HTTP "+req.method, trace.WithSpanKind(trace.SpanKindClient),
		trace.WithAttributes(attribute.String("http.request.method", req.method), attribute.String("server.address", req.url.Host)))
	req.setHeader(telemetry.HeaderTraceparent, telemetry.Traceparent(ctx))
	return span
}

func endRequestSpan(span trace.Span, status int, err error) {
	if span == nil {
		return
	}
	switch {
	case err != nil:
		span.SetStatus(codes.Error, StripURL(err).Error())
	case status >= 400:
		span.SetStatus(codes.Error, StatusText(status))
	}
	if status != 0 {
		span.SetAttributes(attribute.Int("http.response.status_code", status))
	}
	span.End()
}
