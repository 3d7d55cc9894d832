package sdk

import (
	"context"
	"log/slog"
	"strconv"
	"sync/atomic"
	"time"

	"go.opentelemetry.io/otel"
	"go.opentelemetry.io/otel/attribute"
	"go.opentelemetry.io/otel/codes"
	"go.opentelemetry.io/otel/trace"

	sinkpb "github.com/hookgate/hookgate/plugins/proto"
	"github.com/hookgate/hookgate/telemetry"
)

// TracerName is the instrumentation name of the spans the SDK records.
const TracerName = "github.com/hookgate/hookgate/plugins/sdk"

// provider is the process's exporter, set by the first Configure that
// carries telemetry settings; stopTelemetry flushes it when Serve returns.
var provider atomic.Pointer[telemetry.Provider]

// startTelemetry sets up the sink's own exporter from the settings the
// gateway sends in Configure (protocol 2 and 3 alike: older gateways send
// none) and makes it otel's global provider, so a sink's spans started
// with otel.Tracer join the delivery's trace. A nil tracer is tracing off.
func startTelemetry(ctx context.Context, in *sinkpb.ConfigureRequest) trace.Tracer {
	if in.GetOtlpEndpoint() == "" {
		return nil
	}
	if p := provider.Load(); p != nil { // Configure runs once per process; be safe anyway
		return p.Tracer(TracerName)
	}
	p, err := telemetry.New(ctx, telemetry.Settings{Endpoint: in.GetOtlpEndpoint(), Headers: in.GetOtlpHeaders(),
		SampleRatio: in.GetSampleRatio(), ServiceName: in.GetServiceName()})
	if err != nil {
		// Deliveries matter more than their spans: go on untraced.
		slog.Warn("tracing off in this sink", "err", err)
		return nil
	}
	provider.Store(p)
	otel.SetTracerProvider(p)
	return p.Tracer(TracerName)
}

// stopTelemetryTimeout bounds the last export when the sink stops (the
// host kills a sink that takes more than 2 s to stop).
const stopTelemetryTimeout = time.Second

func stopTelemetry() {
	if p := provider.Load(); p != nil {
		ctx, cancel := context.WithTimeout(context.Background(), stopTelemetryTimeout)
		defer cancel()
		_ = p.Shutdown(ctx)
	}
}

// flushTelemetry exports the spans ended so far; the Deliveries stream
// calls it when it ends, since the host may kill the process next.
func flushTelemetry() {
	if p := provider.Load(); p != nil {
		ctx, cancel := context.WithTimeout(context.Background(), stopTelemetryTimeout)
		defer cancel()
		_ = p.Flush(ctx)
	}
}

// startSpan puts the gateway's span of this call into ctx as the remote
// parent and, when the sink exports, starts the sink's span of the call
// under it. Without a traceparent ctx is unchanged.
func (s *server) startSpan(ctx context.Context, req *Request) (context.Context, trace.Span) {
	if req.Traceparent == "" {
		return ctx, nil
	}
	ctx = telemetry.WithRemoteParent(ctx, req.Traceparent)
	if s.tracer == nil {
		return ctx, nil
	}
	return s.tracer.Start(ctx, "sink.deliver", trace.WithSpanKind(trace.SpanKindServer),
		trace.WithAttributes(attribute.String("hookgate.delivery_id", req.ID)))
}

func endSpan(span trace.Span, res *Result) {
	if span == nil {
		return
	}
	if res.Status != 0 {
		span.SetAttributes(attribute.Int("http.response.status_code", res.Status))
	}
	if !res.OK() {
		span.SetStatus(codes.Error, failure(res))
	}
	span.End()
}

// failure describes a failed Result for a span's status.
func failure(res *Result) string {
	if res.Error != "" {
		return res.Error
	}
	return "status " + strconv.Itoa(res.Status)
}
