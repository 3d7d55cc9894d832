package api

import (
	"context"
	"crypto/rand"
	"errors"
	"fmt"
	"log/slog"
	"strings"

	"github.com/gofiber/fiber/v2"
	"github.com/prometheus/client_golang/prometheus"
	"go.opentelemetry.io/otel/trace"

	"github.com/hookgate/hookgate/config"
	"github.com/hookgate/hookgate/gateway/ingest"
	"github.com/hookgate/hookgate/gateway/webhooks"
	"github.com/hookgate/hookgate/store"
	"github.com/hookgate/hookgate/transforms"
)

// Options are what the HTTP API needs from the gateway that assembles it.
// Every field is required.
type Options struct {
	Config     *config.Config
	Clock      Clock
	Log        *slog.Logger
	Store      store.Store
	Webhooks   *webhooks.Service    // every change to webhooks goes through it
	Index      *webhooks.Index      // the webhooks deliveries go to
	SinkAccess *webhooks.SinkAccess // who may use which sink
	Ingest     *ingest.Service      // POST /api/v1/events
	Tokens     *Tokens
	Proxies    TrustedProxies
	Metrics    prometheus.Gatherer // served at /metrics

	// Ready reports whether the gateway delivers (GET /readyz).
	Ready func() bool
	// Queued is told of an event the API queued deliveries for itself (a
	// test delivery), so the dispatcher finds the event and wakes.
	Queued func(ev *store.Event)
	// Requeue queues a dead-lettered delivery again (retry and recover).
	Requeue func(ctx context.Context, deliveryID string) (*store.Delivery, error)
	// Tracer records the publish's server span (trace.go); nil: tracing off.
	Tracer trace.Tracer
	// ReleaseLane lets a held lane of an ordered webhook go on (and wakes
	// the dispatcher). Optional: without it the store's is called.
	ReleaseLane func(ctx context.Context, webhookID string, workOrderID int64) (*store.Delivery, error)
}

// Server is the HTTP API: routes, handlers, auth, limits and the dashboard
// mount on one Fiber app. The gateway builds it, serves its App and shuts
// the App down.
type Server struct {
	cfg        *config.Config
	clock      Clock
	log        *slog.Logger
	store      store.Store
	hooks      *webhooks.Service
	index      *webhooks.Index
	sinkAccess *webhooks.SinkAccess
	ingest     *ingest.Service
	auth       *Tokens
	proxies    TrustedProxies // server.trusted_proxies (clientaddr.go)
	metrics    prometheus.Gatherer
	ready      func() bool
	queued     func(ev *store.Event)
	requeue    func(ctx context.Context, deliveryID string) (*store.Delivery, error)
	tracer     trace.Tracer
	release    func(ctx context.Context, webhookID string, workOrderID int64) (*store.Delivery, error)

	limiter *RateLimiter
	presign *Presigner
	preview *transforms.Transformer // compiles templates sent to /transforms/preview, never cached
	openapi openapiCache

	// unauthBodies bounds the request bodies read before a token vouches
	// for them (server.max_unauthenticated_bodies).
	unauthBodies *bodySlots
	app          *fiber.App
}

// New builds the API and its Fiber app. It reads (or first creates) the
// key that signs delivery-log URLs from the store.
func New(ctx context.Context, o Options) (*Server, error) {
	if missing := o.missing(); len(missing) > 0 {
		return nil, errors.New("api.New: Options lack " + strings.Join(missing, ", "))
	}
	key, err := o.Store.Meta(ctx, "api.presign_key", func() ([]byte, error) {
		k := make([]byte, 32)
		_, err := rand.Read(k)
		return k, err
	})
	if err != nil {
		return nil, fmt.Errorf("delivery-log signing key: %w", err)
	}
	cfg := o.Config
	preview, err := transforms.New(transforms.Options{
		Engine: cfg.Transforms.Engine, Timeout: cfg.Transforms.Timeout, MaxDepth: cfg.Transforms.MaxDepth,
	})
	if err != nil {
		return nil, err
	}
	s := &Server{
		cfg: cfg, clock: o.Clock, log: o.Log, store: o.Store,
		hooks: o.Webhooks, index: o.Index, sinkAccess: o.SinkAccess, ingest: o.Ingest,
		auth: o.Tokens, proxies: o.Proxies, metrics: o.Metrics,
		ready: o.Ready, queued: o.Queued, requeue: o.Requeue, tracer: o.Tracer, release: o.ReleaseLane,
		limiter:      NewRateLimiter(cfg.API.RateLimit, cfg.API.RateBurst, o.Clock),
		presign:      NewPresigner(key, cfg.DeliveryLog.PresignTTL, cfg.Server.PublicURL, o.Clock),
		preview:      preview,
		unauthBodies: &bodySlots{max: int64(cfg.Server.MaxUnauthenticatedBodies)},
	}
	s.app = s.newApp()
	return s, nil
}

// missing names the Options fields left unset.
func (o Options) missing() []string {
	var out []string
	for _, f := range []struct {
		name  string
		unset bool
	}{
		{"Config", o.Config == nil}, {"Clock", o.Clock == nil}, {"Log", o.Log == nil}, {"Store", o.Store == nil},
		{"Webhooks", o.Webhooks == nil}, {"Index", o.Index == nil}, {"SinkAccess", o.SinkAccess == nil},
		{"Ingest", o.Ingest == nil}, {"Tokens", o.Tokens == nil}, {"Metrics", o.Metrics == nil},
		{"Ready", o.Ready == nil}, {"Queued", o.Queued == nil}, {"Requeue", o.Requeue == nil},
	} {
		if f.unset {
			out = append(out, f.name)
		}
	}
	return out
}

// App is the Fiber app: the gateway serves and shuts it down; tests list
// its routes.
func (s *Server) App() *fiber.App { return s.app }

// UnauthenticatedBodies is how many request bodies are being read now
// without a token vouching for them (server.max_unauthenticated_bodies).
func (s *Server) UnauthenticatedBodies() int64 { return s.unauthBodies.n.Load() }
