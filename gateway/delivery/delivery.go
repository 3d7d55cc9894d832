// Package delivery sends queued deliveries: the dispatcher that claims due
// ones, fairness between companies and webhooks, one attempt (render,
// headers, sign, send through a sink), the retry policy and the cache of
// recent events. What it needs from the rest of the gateway it declares
// here as small interfaces, so it holds no pointer back to the gateway and
// its tests can stand each part in.
package delivery

import (
	"context"
	"log/slog"
	"time"

	"go.opentelemetry.io/otel/trace"

	"github.com/hookgate/hookgate/config"
	"github.com/hookgate/hookgate/plugins/sdk"
	"github.com/hookgate/hookgate/store"
	"github.com/hookgate/hookgate/transforms"
)

// Header names of a delivery (02-payload-structure; X-FN-Event-Name is ours).
const (
	HeaderSignature  = "X-FN-Signature"
	HeaderWebhookID  = "X-FN-Webhook-Id"
	HeaderDeliveryID = "X-FN-Delivery-Id"
	HeaderTraceID    = "X-FN-Event-Trace-Id"
	HeaderTimestamp  = "X-FN-Request-Timestamp"
	HeaderEventName  = "X-FN-Event-Name"
	// HeaderSequence is the delivery's place in its work order's lane
	// (1, 2, …) when its webhook is ordered; absent otherwise.
	HeaderSequence    = "X-FN-Sequence"
	RedactedHeaderVal = "[redacted]" // a custom header's value in the delivery log
)

// Sinks delivers a request through a named sink. plugins/host.Host is the
// real implementation; the interface is the gateway's test seam.
type Sinks interface {
	Deliver(ctx context.Context, sink string, req *sdk.Request) (*sdk.Result, error)
}

// Queue is the part of the store the dispatcher uses: claim due
// deliveries, read their events (a claim's at once, or one) and their webhook's recent success rate,
// record attempts (the recorder: one, or a batch). A Queue that is also a store.FilteredClaimer lets
// fairness pass over deliveries in the claim scan itself.
type Queue interface {
	ClaimDue(ctx context.Context, priority int, now time.Time, limit int) ([]*store.Delivery, error)
	GetEvent(ctx context.Context, eventID string) (*store.Event, error)
	GetEvents(ctx context.Context, eventIDs []string) (map[string]*store.Event, error)
	GetWebhookStats(ctx context.Context, webhookID string) (store.WebhookStats, error)
	RecordAttempt(ctx context.Context, d *store.Delivery, a *store.Attempt) error
	RecordAttempts(ctx context.Context, recs []store.AttemptRecord) error
}

// WebhookLookup returns a webhook by id, or nil when it is gone: the
// gateway's in-memory subscriber index. The result is read-only.
type WebhookLookup interface {
	Get(webhookID string) *store.Webhook
}

// SinkAccess reports a sink this process runs that company may not use
// (a companies list changed, or a reload removed the sink block).
type SinkAccess interface {
	Forbids(sink string, company int64) bool
}

// Clock is the source of time of retry scheduling and signatures.
type Clock interface {
	Now() time.Time
}

// Metrics is told of each recorded attempt (its Outcome, webhook and
// company) and how long the sink took: the Prometheus counters and the
// charts' rollups.
type Metrics interface {
	ObserveAttempt(a *store.Attempt, took time.Duration)
}

// DiskGuard keeps writes from filling the data folder: while Low, no
// deliveries are claimed; Note is told roughly how many bytes each
// recorded attempt wrote, so large records bring its check forward.
type DiskGuard interface {
	Low() bool
	Note(bytes int)
}

// Options assemble a Dispatcher. Queue, Webhooks, Sinks, Transformer and
// Events are required; a nil Access allows every sink, a nil Clock is the
// wall clock, nil Metrics and Disk are off.
type Options struct {
	Delivery config.Delivery // workers, fairness, retry budget, timeout, max_body
	// LogMaxBody is delivery_log.max_body: how much of each body an attempt
	// record keeps.
	LogMaxBody  int
	Queue       Queue
	Webhooks    WebhookLookup
	Access      SinkAccess
	Sinks       Sinks
	Transformer *transforms.Transformer
	Events      *EventCache
	Clock       Clock
	Log         *slog.Logger
	Metrics     Metrics
	Disk        DiskGuard
	// Tracer records each attempt's spans (trace.go); nil: tracing off.
	Tracer trace.Tracer
	// SinkLimits are the rate limits of sink blocks, by sink name: they
	// pace every webhook delivering through the sink together.
	SinkLimits map[string]config.RateLimit
	// Poll bounds how long a due delivery waits when nothing wakes the
	// dispatcher (a retry coming due); default 100ms.
	Poll time.Duration
}

type wallClock struct{}

func (wallClock) Now() time.Time { return time.Now() }

type allowAll struct{}

func (allowAll) Forbids(string, int64) bool { return false }
