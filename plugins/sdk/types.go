package sdk

import (
	"context"
	"time"
)

// Request is one delivery attempt handed to a sink.
type Request struct {
	// ID is the delivery log id, "uuid:attempt" (the X-FN-Delivery-Id value).
	ID      string
	Method  string // "POST" or "PUT"
	URL     string
	Headers map[string]string // signed X-FN-* headers and the webhook's custom headers
	Body    []byte            // exact bytes that were signed
	// Timeout bounds the whole attempt; the ctx passed to Deliver carries it too.
	Timeout time.Duration
	// Traceparent is the W3C trace context of the gateway's span for this
	// call, "" when the gateway's tracing is off. The ctx passed to Deliver
	// already carries it (and the SDK's own span of the call), so spans a
	// sink starts from that ctx with go.opentelemetry.io/otel join the
	// delivery's trace; sinkhttp sends it on as the traceparent header.
	Traceparent string
}

// Result is what a sink reports about one attempt. A Result with a 2xx Status
// and an empty Error is a success; anything else is a failure that Retryable
// classifies.
type Result struct {
	Status  int               // the remote HTTP status, 0 when none was received
	Headers map[string]string // response headers (first value of each)
	Body    []byte            // at most the first MaxResponseBody bytes
	// BodySize is the size of the whole response body when it is larger
	// than Body (the delivery log shows both); 0 means len(Body).
	BodySize    int64
	ExternalRef string        // the remote record's id (sys_id, Salesforce id, ...)
	Error       string        // why it failed when there is no status, or the remote's error text
	Retryable   bool          // try again later
	RetryAfter  time.Duration // the remote asked to wait at least this long
	Duration    time.Duration // time spent on the attempt
}

// OK reports whether the attempt succeeded.
func (r *Result) OK() bool { return r.Error == "" && r.Status >= 200 && r.Status < 300 }

// MaxResponseBody is how much of a response body a sink returns.
const MaxResponseBody = 64 << 10

// Sink is what a sink author implements.
type Sink interface {
	// Configure receives the sink block's config map (and the gateway's
	// network policy) once at start. It validates and returns an error a
	// person can act on, naming the setting, e.g. `instance_url: must be https`.
	// It must never include a credential's value in the error.
	Configure(ctx context.Context, cfg Config) error
	// Deliver performs one attempt. Failures are reported in the Result, not
	// as an error; an error means the sink itself broke (retryable).
	Deliver(ctx context.Context, req *Request) (*Result, error)
}

// Config is a sink's settings as written in gateway.hcl, plus the gateway's
// delivery policy that every sink must honour.
type Config struct {
	Name                 string            // the sink block's label
	Settings             map[string]string // the config = { ... } map
	AllowHTTP            bool              // plain http endpoints allowed
	AllowPrivateNetworks bool              // loopback/private targets allowed (SSRF guard off)
}
