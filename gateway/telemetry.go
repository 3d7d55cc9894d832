package gateway

import (
	"context"

	"go.opentelemetry.io/otel/trace"

	"github.com/hookgate/hookgate/config"
	"github.com/hookgate/hookgate/telemetry"
)

// tracerName is the instrumentation name of the gateway's spans.
const tracerName = "github.com/hookgate/hookgate/gateway"

// telemetrySettings are the exporter's settings of the telemetry block.
func telemetrySettings(t config.Telemetry) telemetry.Settings {
	return telemetry.Settings{Endpoint: t.OTLPEndpoint, Headers: t.Headers, SampleRatio: t.SampleRatio, ServiceName: t.ServiceName}
}

// startTelemetry builds the gateway's tracer provider and returns the
// tracer the API, ingest and the dispatcher record with: nil when tracing
// is off, so that they skip even the no-op calls.
func (g *Gateway) startTelemetry(ctx context.Context) (trace.Tracer, error) {
	p, err := telemetry.New(ctx, telemetrySettings(g.cfg.Telemetry))
	if err != nil {
		return nil, err
	}
	g.telemetry = p
	if !p.Enabled() {
		return nil, nil
	}
	g.log.Info("tracing on", "otlp_endpoint", g.cfg.Telemetry.OTLPEndpoint, "sample_ratio", g.cfg.Telemetry.SampleRatio)
	return p.Tracer(tracerName), nil
}
