package delivery

import (
	"context"

	"go.opentelemetry.io/otel/attribute"
	"go.opentelemetry.io/otel/codes"
	"go.opentelemetry.io/otel/trace"

	"github.com/hookgate/hookgate/plugins/sdk"
	"github.com/hookgate/hookgate/store"
	"github.com/hookgate/hookgate/telemetry"
)

// Spans of one attempt (docs/observability.md): "delivery.attempt", a child
// of the publish's span stored with the event (Event.TraceParent), so a
// retry is a new span in the same trace; under it "delivery.render" and
// "sink.call", whose context travels to the sink process as the request's
// traceparent. With no tracer (tracing off) none of this runs.

// startAttempt starts the attempt's span. It reads the event for its
// trace context (unless the claimer did: ev); one read back from storage
// is cached for prepare.
func (dp *Dispatcher) startAttempt(ctx context.Context, d *store.Delivery, ev *store.Event, attempt int) (context.Context, trace.Span) {
	if dp.tracer == nil {
		return ctx, nil
	}
	if ev != nil {
		ctx = telemetry.WithRemoteParent(ctx, ev.TraceParent)
	} else if ev, err := dp.events.Get(ctx, dp.queue, d.EventID); err == nil {
		ctx = telemetry.WithRemoteParent(ctx, ev.TraceParent)
		dp.events.Add(ev) // Add keeps an event once; prepare reads it next
	}
	return dp.tracer.Start(ctx, "delivery.attempt", trace.WithAttributes(
		attribute.String("hookgate.delivery_id", store.FormatLogID(d.ID, attempt)),
		attribute.Int("hookgate.attempt", attempt),
		attribute.String("hookgate.webhook_id", d.WebhookID),
		attribute.String("hookgate.event_name", d.EventName),
		attribute.Int64("hookgate.company_id", d.CompanyID),
	))
}

// endAttempt ends the attempt's span with what was decided; o is nil when
// the shutdown deadline cut the attempt off.
func endAttempt(span trace.Span, o *outcome) {
	if span == nil {
		return
	}
	if o == nil {
		span.SetStatus(codes.Error, "cut off by shutdown; sent again at next start")
	} else {
		span.SetAttributes(attribute.String("hookgate.outcome", string(o.dec.outcome)),
			attribute.String("hookgate.state", string(o.dec.state)))
		if o.status != 0 {
			span.SetAttributes(attribute.Int("http.response.status_code", o.status))
		}
		if o.dec.state != store.DeliverySucceeded {
			span.SetStatus(codes.Error, failureText(&sdk.Result{Status: o.status, Error: o.err}))
		}
	}
	span.End()
}

// noEnd ends no span: startStep's answer when tracing is off.
func noEnd() {}

// startStep starts a child span of the attempt named name.
func (dp *Dispatcher) startStep(ctx context.Context, name string) (context.Context, func()) {
	if dp.tracer == nil {
		return ctx, noEnd
	}
	ctx, span := dp.tracer.Start(ctx, name)
	return ctx, func() { span.End() }
}

// callSink hands req to the sink inside a "sink.call" span whose context
// the request carries into the sink process.
func (dp *Dispatcher) callSink(ctx context.Context, sink string, req *sdk.Request) (*sdk.Result, error) {
	if dp.tracer == nil {
		return dp.sinks.Deliver(ctx, sink, req)
	}
	ctx, span := dp.tracer.Start(ctx, "sink.call", trace.WithSpanKind(trace.SpanKindClient),
		trace.WithAttributes(attribute.String("hookgate.sink", sink)))
	defer span.End()
	req.Traceparent = telemetry.Traceparent(ctx)
	res, err := dp.sinks.Deliver(ctx, sink, req)
	switch {
	case err != nil:
		span.SetStatus(codes.Error, err.Error())
	case !res.OK():
		span.SetStatus(codes.Error, failureText(res))
	}
	return res, err
}
