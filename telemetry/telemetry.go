// Package telemetry sets up OpenTelemetry tracing for the gateway and for
// sink processes: an OTLP/HTTP (protobuf) exporter behind a batching
// tracer provider when an endpoint is configured, otherwise a no-op tracer
// that records and exports nothing. It also carries a span's context as one
// W3C traceparent string, the form it takes in storage and on the plugin
// stream.
package telemetry

import (
	"context"
	"fmt"
	"net/url"

	"github.com/google/uuid"

	"go.opentelemetry.io/otel/exporters/otlp/otlptrace/otlptracehttp"
	"go.opentelemetry.io/otel/propagation"
	"go.opentelemetry.io/otel/sdk/resource"
	sdktrace "go.opentelemetry.io/otel/sdk/trace"
	semconv "go.opentelemetry.io/otel/semconv/v1.40.0"
	"go.opentelemetry.io/otel/trace"
	"go.opentelemetry.io/otel/trace/noop"
)

// Settings are what a process needs to export its spans. The zero value
// (no Endpoint) is tracing off.
type Settings struct {
	// Endpoint is the OTLP/HTTP base URL, e.g. "http://127.0.0.1:4318";
	// spans go to Endpoint + "/v1/traces".
	Endpoint string
	// Headers are sent with every export (credentials of a hosted collector).
	Headers map[string]string
	// SampleRatio is the share of new traces recorded (0..1); a trace
	// continued from a parent follows the parent's decision.
	SampleRatio float64
	// ServiceName is the resource's service.name.
	ServiceName string
}

// Enabled reports whether spans are exported.
func (s Settings) Enabled() bool { return s.Endpoint != "" }

// Provider is a process's tracer provider: the SDK's when Settings are
// enabled, a no-op one otherwise.
type Provider struct {
	trace.TracerProvider
	sdk *sdktrace.TracerProvider // nil when off
}

// Off is a provider that records nothing.
func Off() *Provider { return &Provider{TracerProvider: noop.NewTracerProvider()} }

// New builds the provider for s. Nothing is dialled here: the exporter
// connects when it first sends, so a collector that is down costs dropped
// spans, never a failed start.
func New(ctx context.Context, s Settings) (*Provider, error) {
	if !s.Enabled() {
		return Off(), nil
	}
	u, err := url.Parse(s.Endpoint)
	if err != nil || (u.Scheme != "http" && u.Scheme != "https") || u.Host == "" {
		return nil, fmt.Errorf("telemetry endpoint %q: want an http or https URL with a host", s.Endpoint)
	}
	opts := []otlptracehttp.Option{otlptracehttp.WithEndpointURL(s.Endpoint + "/v1/traces")}
	if len(s.Headers) > 0 {
		opts = append(opts, otlptracehttp.WithHeaders(s.Headers))
	}
	exp, err := otlptracehttp.New(ctx, opts...)
	if err != nil {
		return nil, fmt.Errorf("telemetry exporter: %w", err)
	}
	res := resource.NewSchemaless(semconv.ServiceName(s.ServiceName))
	tp := sdktrace.NewTracerProvider(
		sdktrace.WithBatcher(exp),
		sdktrace.WithResource(res),
		sdktrace.WithSampler(sdktrace.ParentBased(sdktrace.TraceIDRatioBased(s.SampleRatio))),
	)
	return &Provider{TracerProvider: tp, sdk: tp}, nil
}

// Enabled reports whether this provider records spans.
func (p *Provider) Enabled() bool { return p != nil && p.sdk != nil }

// Flush exports the spans ended so far.
func (p *Provider) Flush(ctx context.Context) error {
	if !p.Enabled() {
		return nil
	}
	return p.sdk.ForceFlush(ctx)
}

// Shutdown exports what is left and stops the exporter.
func (p *Provider) Shutdown(ctx context.Context) error {
	if !p.Enabled() {
		return nil
	}
	return p.sdk.Shutdown(ctx)
}

// The header name of W3C Trace Context.
const HeaderTraceparent = "traceparent"

var w3c = propagation.TraceContext{}

// Traceparent is ctx's span context as a W3C traceparent value, "" when
// ctx carries no valid span.
func Traceparent(ctx context.Context) string {
	if !trace.SpanContextFromContext(ctx).IsValid() {
		return ""
	}
	c := propagation.MapCarrier{}
	w3c.Inject(ctx, c)
	return c[HeaderTraceparent]
}

// WithRemoteParent returns ctx carrying the span context a traceparent
// value names, as a remote parent; ctx unchanged when tp is empty or
// malformed (a producer's bad header starts a new trace, never an error).
func WithRemoteParent(ctx context.Context, tp string) context.Context {
	if tp == "" {
		return ctx
	}
	return w3c.Extract(ctx, propagation.MapCarrier{HeaderTraceparent: tp})
}

// TraceUUID is the trace id of ctx's span written as a UUID
// (8-4-4-4-12 hex), "" when ctx has none. An event's trace id
// (X-FN-Event-Trace-Id, the API's traceId) is this form of its W3C trace
// id, so what a receiver or the delivery log shows finds the trace.
func TraceUUID(ctx context.Context) string {
	sc := trace.SpanContextFromContext(ctx)
	if !sc.IsValid() {
		return ""
	}
	id := sc.TraceID()
	return uuid.UUID(id).String()
}

// W3CTraceID is the 32-hex W3C form of a trace id written as a UUID, ""
// when s is not one.
func W3CTraceID(s string) string {
	u, err := uuid.Parse(s)
	if err != nil || len(s) != 36 {
		return ""
	}
	return trace.TraceID(u).String()
}
