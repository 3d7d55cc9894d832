package ingest

import (
	"context"

	"go.opentelemetry.io/otel/attribute"
	"go.opentelemetry.io/otel/codes"
	"go.opentelemetry.io/otel/trace"

	"github.com/hookgate/hookgate/store"
	"github.com/hookgate/hookgate/telemetry"
)

// Spans of a publish below the API's (docs/observability.md):
// "ingest.fan_out" (parse, checks, the deliveries) and "ingest.write" (the
// durable write). The event keeps the fan-out span's context, the parent
// of every attempt's span. With no tracer (tracing off) none of this runs.

func (s *Service) startSpan(ctx context.Context, name string) (context.Context, trace.Span) {
	if s.o.Tracer == nil {
		return ctx, nil
	}
	return s.o.Tracer.Start(ctx, name)
}

func endSpan(span trace.Span, err error) {
	if span == nil {
		return
	}
	if err != nil {
		span.SetStatus(codes.Error, err.Error())
	}
	span.End()
}

// stampTrace gives ev the trace of ctx's span: its trace id as the event's
// TraceID (X-FN-Event-Trace-Id, the answer's traceId) and its traceparent.
func stampTrace(ctx context.Context, ev *store.Event, deliveries int) {
	span := trace.SpanFromContext(ctx)
	if !span.SpanContext().IsValid() {
		return
	}
	ev.TraceID, ev.TraceParent = telemetry.TraceUUID(ctx), telemetry.Traceparent(ctx)
	span.SetAttributes(attribute.String("hookgate.event_id", ev.ID), attribute.String("hookgate.event_name", ev.Name),
		attribute.Int64("hookgate.company_id", ev.CompanyID), attribute.Int("hookgate.deliveries", deliveries))
}
