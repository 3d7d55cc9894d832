// Package gateway wires hookgate together: it opens storage and its keys,
// starts the sink plugins, and assembles the webhook service
// (gateway/webhooks), ingest (gateway/ingest), the dispatcher
// (gateway/delivery) and the HTTP API (gateway/api); it owns the metrics
// registry, the disk guard and the lifecycle loop, and starts and stops
// them all.
package gateway

import (
	"context"
	"errors"
	"fmt"
	"log/slog"
	"net"
	"os/exec"
	"sync/atomic"
	"time"

	"go.opentelemetry.io/otel/trace"

	"github.com/hookgate/hookgate/config"
	"github.com/hookgate/hookgate/gateway/api"
	"github.com/hookgate/hookgate/gateway/delivery"
	"github.com/hookgate/hookgate/gateway/ingest"
	"github.com/hookgate/hookgate/gateway/webhooks"
	"github.com/hookgate/hookgate/plugins/host"
	"github.com/hookgate/hookgate/store"
	"github.com/hookgate/hookgate/store/badger"
	"github.com/hookgate/hookgate/telemetry"
	"github.com/hookgate/hookgate/transforms"
)

// Options assemble a Gateway. Only Config is required; the rest default to
// the real parts (Badger at storage.path, sink subprocesses, the wall clock).
type Options struct {
	Config *config.Config
	Store  store.Store    // nil: open Badger at Config.Storage.Path
	Sinks  delivery.Sinks // nil: start the sink plugins of the config
	// BuiltinCommand runs a built-in sink in plugin mode; nil runs this
	// executable as `hookgate sink TYPE`. Tests point it at the test binary.
	BuiltinCommand func(typ string) *exec.Cmd
	Clock          Clock
	Logger         *slog.Logger
	// PollInterval bounds how long a due delivery waits when nothing wakes
	// the dispatcher (a retry coming due); default 100ms.
	PollInterval time.Duration
}

// Gateway is one running hookgate.
type Gateway struct {
	cfg         *config.Config
	store       store.Store
	sinks       delivery.Sinks
	sinkAccess  *webhooks.SinkAccess // who may use which sink
	host        *host.Host           // nil when Options.Sinks was given
	transformer *transforms.Transformer
	clock       Clock
	log         *slog.Logger
	auth        *api.Tokens
	index       *webhooks.Index
	hooks       *webhooks.Service    // every change to webhooks
	recent      *delivery.EventCache // events just accepted, for their deliveries
	metrics     *metrics
	dispatcher  *delivery.Dispatcher
	ingest      *ingest.Service
	api         *api.Server
	mailer      webhooks.Mailer // auto-deactivation notices
	lifecycle   *lifecycleLoop
	disk        *diskGuard // nil unless the gateway opened Badger itself
	quota       *quotas    // per-company limits (quotas.go)
	telemetry   *telemetry.Provider
	tracer      trace.Tracer // nil: tracing off (telemetry.go)
	ready       atomic.Bool
	ownsStore   bool

	rollups *rollupLoop // the charts' per-minute figures (rollups.go); nil without store.Rollups
}

// New opens storage, loads the webhooks of the config into it, starts the
// sink plugins and builds the HTTP app. Start begins delivering; Serve
// answers HTTP; Shutdown undoes it all.
func New(ctx context.Context, opts Options) (g *Gateway, err error) {
	cfg := opts.Config
	if cfg == nil {
		return nil, errors.New("gateway: no config")
	}
	g = &Gateway{cfg: cfg, clock: opts.Clock, log: opts.Logger, index: webhooks.NewIndex(), recent: delivery.NewEventCache(cfg.Delivery.EventCacheBytes)}
	if g.clock == nil {
		g.clock = SystemClock{}
	}
	g.quota = newQuotas(cfg, g.clock)
	if g.log == nil {
		g.log = slog.Default()
	}
	// Error returns set g to nil, so the cleanup keeps its own reference.
	self := g
	defer func() {
		if err != nil {
			self.closeParts()
		}
	}()
	if g.tracer, err = g.startTelemetry(ctx); err != nil {
		return nil, err
	}
	if g.store = opts.Store; g.store == nil && cfg.Storage.Driver == config.DriverPostgres {
		if g.store, err = openPostgres(ctx, cfg, g); err != nil { // storage.go: replicas on one database
			return nil, err
		}
		g.ownsStore = true
	}
	if g.store == nil {
		keys, err := loadStorageKeys(cfg.Storage) // storage_keys.go: secrets at rest
		if err != nil {
			return nil, err
		}
		g.store, err = badger.Open(badger.Options{
			Path: cfg.Storage.Path, LogRetention: cfg.Storage.LogRetention,
			RollupRetention: cfg.Storage.RollupRetention,
			GCInterval:      cfg.Storage.GCInterval, Logger: g.log, Clock: g.clock.Now, Keys: keys.ring,
			OutcomeSyncDelay: cfg.Storage.OutcomeSyncDelay,
			CommitDelay:      cfg.Storage.CommitDelay,
		})
		if err != nil {
			return nil, fmt.Errorf("opening storage at %s: %w", cfg.Storage.Path, keys.openError(err))
		}
		g.ownsStore = true
		g.disk = newDiskGuard(cfg.Storage.Path, cfg.Storage.MinFreeBytes, g.log)
		if err := keys.persist(g); err != nil {
			return nil, err
		}
	}
	if g.transformer, err = transforms.New(transforms.Options{
		Engine: cfg.Transforms.Engine, Timeout: cfg.Transforms.Timeout, MaxDepth: cfg.Transforms.MaxDepth,
	}); err != nil {
		return nil, err
	}
	if g.auth, err = g.newAuth(ctx); err != nil {
		return nil, err
	}
	proxies, err := api.NewTrustedProxies(cfg.Server.TrustedProxies)
	if err != nil {
		return nil, fmt.Errorf("server.trusted_proxies: %w", err)
	}
	warnPublishedSecrets(cfg, g.log) // published_secrets.go
	g.mailer = webhooks.NewMailer(cfg.SMTP, g.clock)
	g.lifecycle = &lifecycleLoop{g: g, every: cfg.Lifecycle.CheckInterval}
	g.sinkAccess = webhooks.NewSinkAccess(webhooks.SinkSnapshot{Blocks: cfg.Sinks})
	if err = webhooks.CheckBlockSinks(cfg.Webhooks, g.sinkAccess); err != nil {
		return nil, err
	}
	g.hooks = webhooks.NewService(g.store, g.index, g.clock, g.log, g.transformer, g.sinkAccess)
	if err = g.reconcileConfigWebhooks(ctx); err != nil {
		return nil, fmt.Errorf("loading webhooks from %s: %w", cfg.File, err)
	}
	if err = g.index.Load(ctx, g.store); err != nil {
		return nil, err
	}
	if n, err := g.store.ReleaseInFlight(ctx, g.clock.Now()); err != nil {
		return nil, err
	} else if n > 0 {
		g.log.Info("re-queued deliveries left in flight by the last run", "count", n)
	}
	if g.sinks = opts.Sinks; g.sinks == nil {
		if g.host, err = g.startSinks(ctx, opts.BuiltinCommand); err != nil {
			return nil, err
		}
		g.sinks = g.host
	}
	g.metrics = newMetrics(g.store, func() int64 { return g.dispatcher.InFlight() })
	g.rollups = newRollupLoop(g)
	g.metrics.rollups = g.rollups.aggregator()
	g.dispatcher = delivery.New(g.deliveryOptions(opts.PollInterval))
	io := ingest.Options{Store: g.store, Subscribers: g.index, Clock: g.clock, Quota: publishQuota{g},
		IdempotencyTTL: cfg.Delivery.IdempotencyTTL, Accepted: g.accepted, Tracer: g.tracer}
	if g.disk != nil {
		io.Disk = g.disk
	}
	g.ingest = ingest.New(io)
	if g.disk != nil {
		g.metrics.registry.MustRegister(g.disk.collectors()...)
	}
	if g.api, err = api.New(ctx, api.Options{
		Config: cfg, Clock: g.clock, Log: g.log, Store: g.store,
		Webhooks: g.hooks, Index: g.index, SinkAccess: g.sinkAccess, Ingest: g.ingest,
		Tokens: g.auth, Proxies: proxies, Metrics: g.metrics.registry,
		Ready: g.ready.Load, Queued: g.queued, Requeue: g.Requeue, Tracer: g.tracer,
		ReleaseLane: g.ReleaseLane,
	}); err != nil {
		return nil, err
	}
	return g, nil
}

// deliveryOptions are the dispatcher's parts, taken from g.
func (g *Gateway) deliveryOptions(poll time.Duration) delivery.Options {
	o := delivery.Options{
		Delivery: g.cfg.Delivery, LogMaxBody: g.cfg.DeliveryLog.MaxBody, Queue: g.store, Webhooks: g.index,
		Access: g.sinkAccess, Sinks: g.sinks, Transformer: g.transformer, Events: g.recent,
		Clock: g.clock, Log: g.log, Metrics: g.metrics, Poll: poll, Tracer: g.tracer,
		SinkLimits: map[string]config.RateLimit{},
	}
	for _, s := range g.cfg.Sinks {
		o.SinkLimits[s.Name] = s.Limit
	}
	if g.disk != nil { // a nil *diskGuard in the interface would not be nil
		o.Disk = g.disk
	}
	return o
}

// accepted is told of each event a publish stored: the metrics and, when
// it queued deliveries, the event cache and the dispatcher.
func (g *Gateway) accepted(ev *store.Event, deliveries int) {
	g.metrics.eventsAccepted.WithLabelValues(ev.Name).Inc()
	if deliveries > 0 {
		g.recent.Add(ev)
		g.dispatcher.Wake()
	}
}

// queued is told of an event whose deliveries the API queued itself (a
// test delivery): the event cache keeps it and the dispatcher wakes.
func (g *Gateway) queued(ev *store.Event) {
	g.recent.Add(ev)
	g.dispatcher.Wake()
}

func (g *Gateway) newAuth(ctx context.Context) (*api.Tokens, error) {
	key := []byte(g.cfg.Auth.SigningKey)
	if len(key) == 0 {
		var err error
		if key, err = g.store.Meta(ctx, "auth.signing_key", api.NewSigningKey); err != nil {
			return nil, fmt.Errorf("token signing key: %w", err)
		}
	}
	return api.NewTokens(key, g.cfg.Auth.TokenTTL, g.clock, g.cfg.Auth.Clients,
		api.NewAuthThrottle(g.cfg.Auth.MaxFailuresPerClient, g.clock, g.log))
}

// SinkSpec is the plugin host's view of a sink block.
func SinkSpec(s config.Sink) host.Spec {
	return host.Spec{Name: s.Name, Type: s.Type, Command: s.Command, SHA256: s.SHA256, Settings: s.Settings, CPUs: s.ProcessCPUs()}
}

// startSinks launches the built-in http sink and every sink block.
func (g *Gateway) startSinks(ctx context.Context, builtin func(string) *exec.Cmd) (*host.Host, error) {
	h := host.New(host.Options{
		BuiltinCommand: builtin, Logger: g.log,
		AllowHTTP: g.cfg.Delivery.AllowHTTP, AllowPrivateNetworks: g.cfg.Delivery.AllowPrivateNetworks,
		BatchMax: g.cfg.Delivery.SinkBatchMax, BatchLinger: g.cfg.Delivery.SinkBatchLinger,
		Telemetry: telemetrySettings(g.cfg.Telemetry),
	})
	specs := []host.Spec{SinkSpec(config.BuiltinSinkBlock())}
	for _, s := range g.cfg.Sinks {
		if s.Name == "http" {
			specs = specs[:0] // a sink block named http replaces the implicit one
		}
	}
	for _, s := range g.cfg.Sinks {
		specs = append(specs, SinkSpec(s))
	}
	if err := h.Start(ctx, specs); err != nil {
		h.Close()
		return nil, err
	}
	return h, nil
}

// Start begins claiming and delivering.
func (g *Gateway) Start() {
	g.disk.start(g.dispatcher.Wake)
	g.dispatcher.Start()
	g.lifecycle.start()
	g.rollups.start()
	g.ready.Store(true)
}

// Serve answers HTTP on ln until Shutdown.
func (g *Gateway) Serve(ln net.Listener) error { return g.api.App().Listener(ln) }

// Kick wakes the dispatcher, e.g. after a test moved its clock.
func (g *Gateway) Kick() { g.dispatcher.Wake() }

// Store returns the gateway's store (for tools and tests).
func (g *Gateway) Store() store.Store { return g.store }

// API returns the gateway's HTTP API (for tools and tests).
func (g *Gateway) API() *api.Server { return g.api }

// PutWebhook stores a webhook as it is and indexes it, past the API's
// checks and the webhook service's history (for tools and tests that need
// a webhook the API would refuse, or no history entry).
func (g *Gateway) PutWebhook(ctx context.Context, w *store.Webhook) error {
	if err := g.store.PutWebhook(ctx, w, nil); err != nil {
		return err
	}
	g.index.Put(w)
	return nil
}

// intakeShutdownLimit bounds how long Shutdown waits for HTTP connections.
const intakeShutdownLimit = 3 * time.Second

// Shutdown stops intake, lets in-flight deliveries finish until ctx ends,
// stops the sinks and closes storage cleanly.
func (g *Gateway) Shutdown(ctx context.Context) error {
	g.ready.Store(false)
	t := time.Now()
	// Intake gets a bounded share of the deadline: a connection fasthttp
	// does not see as idle must not eat the time in-flight deliveries need.
	// A request still running after it fails on the closed store and is not
	// acknowledged, so nothing accepted is lost.
	actx, cancel := context.WithTimeout(ctx, intakeShutdownLimit)
	if err := g.api.App().ShutdownWithContext(actx); err != nil {
		g.log.Warn("shutdown: connections still open; going on without them", "err", err)
	}
	cancel()
	g.log.Debug("shutdown: intake stopped", "took", time.Since(t))
	g.lifecycle.stop()
	g.disk.stop()
	t = time.Now()
	g.dispatcher.Stop(ctx) // nothing to do when Start was not called
	g.log.Debug("shutdown: dispatcher stopped", "took", time.Since(t))
	g.rollups.stop() // after the dispatcher: its last attempts are written too
	t = time.Now()
	cerr := g.closeParts()
	g.log.Debug("shutdown: sinks and storage closed", "took", time.Since(t), "err", cerr)
	return cerr
}

func (g *Gateway) closeParts() error {
	var errs []error
	if g.host != nil {
		errs = append(errs, g.host.Close())
	}
	if g.ownsStore && g.store != nil {
		errs = append(errs, g.store.Close())
	}
	// Last, so the spans of the final attempts are exported; a collector
	// that is down costs its spans, not the shutdown.
	if err := g.telemetry.Shutdown(context.Background()); err != nil {
		g.log.Warn("shutdown: exporting the last spans", "err", err)
	}
	return errors.Join(errs...)
}

// ReleaseLane lets the held lane of an ordered webhook's work order go on
// past its dead delivery (ordering_on_dead = "hold"), which stays dead.
// store.ErrNotFound when the lane is not held.
func (g *Gateway) ReleaseLane(ctx context.Context, webhookID string, workOrderID int64) (*store.Delivery, error) {
	l, ok := g.store.(store.Lanes)
	if !ok {
		return nil, store.ErrNotFound
	}
	d, err := l.ReleaseLane(ctx, webhookID, workOrderID, g.clock.Now())
	if err == nil {
		g.dispatcher.Wake()
	}
	return d, err
}

// Requeue queues a dead-lettered delivery again, due now, with the same uuid;
// its next attempt number follows the last one. A delivery of an ordered
// webhook rejoins its work order's lane at its place (docs/delivery.md).
func (g *Gateway) Requeue(ctx context.Context, deliveryID string) (*store.Delivery, error) {
	d, err := g.store.Requeue(ctx, deliveryID, g.clock.Now())
	if err == nil {
		g.dispatcher.Wake()
	}
	return d, err
}
