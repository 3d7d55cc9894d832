package config

import (
	"fmt"
	"net/url"
	"strings"

	"github.com/hashicorp/hcl/v2"
)

// Telemetry is the telemetry block: OpenTelemetry traces exported over
// OTLP/HTTP (docs/observability.md). With no OTLPEndpoint nothing is
// recorded or exported.
type Telemetry struct {
	// OTLPEndpoint is the collector's OTLP/HTTP base URL, such as
	// "http://127.0.0.1:4318"; spans are posted to its /v1/traces.
	OTLPEndpoint string
	// Headers go with every export: a hosted collector's credentials,
	// usually env("...").
	Headers map[string]string
	// SampleRatio is the share of new traces recorded, 0 to 1; a publish
	// that continues a producer's traceparent follows its sampled flag.
	// Default 1.
	SampleRatio float64
	// ServiceName is the service.name of the gateway's spans; each sink's
	// are ServiceName + "-sink-" + its name. Default "hookgate".
	ServiceName string
	// TraceURL is a trace viewer's URL with {trace_id} where the 32-hex
	// W3C trace id goes; the dashboard links delivery logs to it.
	TraceURL string
}

// TraceIDPlaceholder is what telemetry.trace_url's trace id replaces.
const TraceIDPlaceholder = "{trace_id}"

var telemetrySchema = attrSchema("otlp_endpoint", "headers", "sample_ratio", "service_name", "trace_url")

func (d *decoder) decodeTelemetry(blk *hcl.Block, t *Telemetry) {
	d.ranges[blk.Type] = blk.DefRange
	b, _ := d.content(blk.Body, telemetrySchema, "telemetry")
	b.str("otlp_endpoint", &t.OTLPEndpoint)
	b.strMap("headers", &t.Headers)
	b.float("sample_ratio", &t.SampleRatio)
	b.str("service_name", &t.ServiceName)
	b.str("trace_url", &t.TraceURL)
}

func (d *decoder) validateTelemetry(cfg *Config) {
	t := &cfg.Telemetry
	block := d.rangeOf("telemetry", hcl.Range{Filename: cfg.File})
	at := func(name string) hcl.Range { return d.rangeOf("telemetry."+name, block) }
	if t.OTLPEndpoint != "" && !httpURL(t.OTLPEndpoint) {
		d.errorf(at("otlp_endpoint"), fmt.Sprintf("invalid telemetry.otlp_endpoint %q", t.OTLPEndpoint),
			"expected the collector's OTLP/HTTP base URL, such as \"http://127.0.0.1:4318\" (spans go to its /v1/traces)")
	}
	if t.SampleRatio < 0 || t.SampleRatio > 1 {
		d.errorf(at("sample_ratio"), fmt.Sprintf("invalid telemetry.sample_ratio: %g", t.SampleRatio),
			"must be between 0 (record no new trace) and 1 (record every one)")
	}
	if t.ServiceName == "" {
		d.errorf(at("service_name"), "empty telemetry.service_name", "name the service its spans belong to; the default is \"hookgate\"")
	}
	if t.TraceURL != "" && (!strings.Contains(t.TraceURL, TraceIDPlaceholder) || !httpURL(strings.ReplaceAll(t.TraceURL, TraceIDPlaceholder, "0"))) {
		d.errorf(at("trace_url"), fmt.Sprintf("invalid telemetry.trace_url %q", t.TraceURL),
			"expected an http or https URL with %s where the trace id goes, such as \"https://traces.example.com/trace/%s\"", TraceIDPlaceholder, TraceIDPlaceholder)
	}
	if t.OTLPEndpoint == "" && len(t.Headers) > 0 {
		// Only a warning: an env() endpoint left unset turns tracing off on purpose.
		d.warnf(at("headers"), "telemetry.headers without telemetry.otlp_endpoint", "tracing is off until otlp_endpoint is set%s", d.envHint("telemetry.otlp_endpoint"))
	}
}

// httpURL reports whether s is an absolute http or https URL with a host.
func httpURL(s string) bool {
	u, err := url.Parse(s)
	return err == nil && (u.Scheme == "http" || u.Scheme == "https") && u.Host != ""
}

// Enabled reports whether tracing is configured.
func (t Telemetry) Enabled() bool { return t.OTLPEndpoint != "" }
