// Package config reads gateway.hcl: the schema, env() and file() functions,
// defaults for every number in the spec, and validation that reports each
// problem as file:line:col.
package config

import (
	"time"

	"github.com/hashicorp/hcl/v2"
)

// Config is a loaded, validated gateway.hcl with defaults applied.
type Config struct {
	File        string // path it was loaded from
	Server      Server
	Storage     Storage
	Delivery    Delivery
	Auth        Auth
	Transforms  Transforms
	API         API         // the management API: rate limits and paging
	SMTP        SMTP        // outgoing mail (auto-deactivation notices)
	Lifecycle   Lifecycle   // automatic webhook state changes
	DeliveryLog DeliveryLog // delivery-log access
	Sinks       []Sink      // declared sink blocks; the built-in "http" sink is implicit
	Webhooks    []Webhook   // webhook blocks
	Quotas      Quotas      // every company's limits, unless its company block sets its own
	Companies   []Company   // company blocks
	Telemetry   Telemetry   // OpenTelemetry tracing; off without an endpoint
}

// Server is the server block.
type Server struct {
	Listen          string        // default "127.0.0.1:8080"
	PublicURL       string        // default "http://" + Listen
	BodyLimit       int64         // max request body bytes; default 1 MiB
	ShutdownTimeout time.Duration // SIGTERM: how long in-flight deliveries may finish; default 30s
	// ReadTimeout bounds reading one request, so a client that trickles
	// bytes cannot hold a connection; default 10s.
	ReadTimeout time.Duration
	// IdleTimeout closes keep-alive connections with no request; default 60s.
	IdleTimeout time.Duration
	// TrustedProxies are the IPs and CIDRs of reverse proxies in front of
	// the gateway: only a request from one of them has its X-Forwarded-For
	// read for the client's address (the right-most hop that is not a
	// trusted proxy). Default none: X-Forwarded-For is ignored.
	TrustedProxies []string
	// MaxUnauthenticatedBodies bounds the request bodies read at once
	// before a bearer token vouches for their sender (the token endpoint,
	// the dashboard's forms); more get 503; default 64.
	MaxUnauthenticatedBodies int
}

// Storage drivers.
const (
	DriverBadger   = "badger"
	DriverPostgres = "postgres"
)

// LeaseGrace is the least a postgres lease must exceed delivery.timeout by:
// time to record the attempt after the request ends.
const LeaseGrace = 10 * time.Second

// Storage is the storage block.
type Storage struct {
	// Driver is "badger" (embedded, one node; the default) or "postgres"
	// (several replicas sharing one database; docs/postgres.md).
	Driver string
	// DSN is the PostgreSQL connection string (driver postgres), usually
	// env("HOOKGATE_DATABASE_URL").
	DSN string
	// Lease is how long a replica's claim on a delivery lasts (postgres):
	// a replica that dies holds its claims this long. It must exceed
	// delivery.timeout plus LeaseGrace; 0 means delivery.timeout + 60s.
	Lease time.Duration
	// LockTimeout bounds the wait for the advisory locks that let one
	// replica at a time reconcile HCL webhooks or migrate; default 2m.
	LockTimeout time.Duration
	// MaxConns bounds each replica's connection pool; default 16.
	MaxConns int
	// SweepInterval is how often expired rows are deleted in batches
	// (postgres retention); default 10m.
	SweepInterval time.Duration
	Path          string        // default "./data"
	LogRetention  time.Duration // default 720h
	// RollupRetention is how long the per-minute rollups behind the
	// dashboard's charts are kept; default 168h (the charts' longest range).
	RollupRetention time.Duration
	// RollupSample is how often the queue depth is sampled for the charts
	// and the counts since the last write are written (gateway/rollup);
	// default 10s.
	RollupSample time.Duration
	GCInterval   time.Duration // value-log GC timer; default 10m
	// OutcomeSyncDelay is how long an attempt's outcome may stay written
	// but not yet synced to the disk (Badger only): a power loss within it
	// sends those deliveries again, with the same delivery id; a crash of
	// the process loses nothing. Publishes and API changes are synced
	// before they are answered, whatever it is. Default 200ms; 0 syncs
	// every outcome before the worker takes the next delivery.
	OutcomeSyncDelay time.Duration
	// CommitDelay is how long the committer may hold a publish (or any
	// write that must be durable) for others to join its sync (Badger
	// only; PostgreSQL's commit_delay). Each sync has a fixed cost, and at
	// a steady rate with few requests at once every publish paid one.
	// Default 0: none held.
	CommitDelay time.Duration
	// MinFreeBytes is the free space (of the file system holding Path) below
	// which the gateway refuses new events (507) and pauses deliveries until
	// space is freed: Badger writes through mmap, and a write to a full disk
	// kills the process. Default 64 MiB; 0 turns the guard off. Badger only.
	MinFreeBytes int64
	// EncryptionKey seals webhook secrets and custom header values in the
	// data folder (AES-256-GCM; 32 bytes as base64 or hex). Empty: the key
	// is read from EncryptionKeyFile, which is created on first start.
	EncryptionKey string
	// EncryptionKeyFile holds the key when EncryptionKey is empty; default
	// Path + ".key", beside the data folder and never inside it, so a copy
	// of the data folder alone reveals no secret.
	EncryptionKeyFile string
	// PreviousEncryptionKeys still decrypt during a key rotation; every
	// record is re-encrypted with EncryptionKey at start (docs/security.md).
	PreviousEncryptionKeys []string
}

// Delivery is the delivery block.
type Delivery struct {
	Timeout              time.Duration   // default 30s
	Backoff              []time.Duration // delays before retries 1..N; default 10s..640s (7)
	Workers              int             // default 64
	AllowHTTP            bool            // default false
	AllowPrivateNetworks bool            // default false
	IdempotencyTTL       time.Duration   // default 24h
	// Retry budget by success rate over the last 100 attempts (spec §2.3).
	RetriesHigh   int     // > HighRate: default 7
	RetriesMedium int     // between: default 5
	RetriesLow    int     // < LowRate: default 3
	HighRate      float64 // default 0.95
	LowRate       float64 // default 0.80
	// MaxRetryAfter bounds how long a Retry-After header may delay a retry; default 1h.
	MaxRetryAfter time.Duration
	// SecretGracePeriod is how long a replaced webhook secret keeps signing
	// deliveries beside the new one (API updates without secretGracePeriod
	// and HCL secret changes); default 24h, at most MaxSecretGracePeriod.
	SecretGracePeriod time.Duration
	// MaxInFlightPerWebhook bounds the attempts of one webhook running at
	// once, so one webhook cannot take every worker; default 8.
	MaxInFlightPerWebhook int
	// SlowThreshold: a webhook whose attempts take longer than this is slow;
	// default 1s.
	SlowThreshold time.Duration
	// SlowShare is the fraction of workers slow webhooks may hold together,
	// so fast ones always keep the rest; default 0.5.
	SlowShare float64
	// EventCacheBytes bounds the cache of recently accepted events that
	// deliveries read instead of the store; an event larger than a
	// sixteenth of it is not cached. 0 turns the cache off; default 32 MiB.
	EventCacheBytes int64
	// MaxBody bounds a rendered request body, bytes: a delivery whose
	// payload template (or envelope) renders larger fails without retry;
	// default 1 MiB, at most MaxDeliveryBody.
	MaxBody int64
	// SpareWorkers is how many workers a company may not take while no
	// other company has due work, so another company's next delivery
	// finds one idle instead of waiting behind the backlog; companies with
	// due work share the rest equally. Default 2; 0 lets a lone company
	// take every worker (gateway/delivery/fairness.go).
	SpareWorkers int
	// SinkBatchMax and SinkBatchLinger batch the stream to each sink
	// process both ways (plugins/host): at most SinkBatchMax requests or
	// results per message, and one waits at most SinkBatchLinger for
	// others to share its message, only while others are in flight.
	// Defaults 64 and 0 (no linger: a message carries whatever is queued).
	SinkBatchMax    int
	SinkBatchLinger time.Duration
	// RecordBatch is the most attempt outcomes the recorder writes in one
	// store call (one group commit, one statement); default 256.
	RecordBatch int
	// RecordLinger is how long the recorder waits at most for the
	// outcomes of other deliveries in flight before writing a batch that
	// is not full (none in flight: no wait); default 5 ms. 0: it writes
	// what is waiting, and outcomes gather while the previous write syncs
	// (gateway/delivery/recorder.go).
	RecordLinger time.Duration
	// RateBurst is the burst of a webhook or sink rate_limit that sets
	// no rate_burst: how many attempts may go at once after an idle
	// spell. Default 1: an even pace, which is what a receiver's API
	// limit wants (gateway/delivery/throttle.go).
	RateBurst int
}

// Quotas is the quotas block: the limits of each company's resources. 0
// means no limit.
type Quotas struct {
	// Webhooks bounds the webhooks a company has (archived ones too: they
	// are kept): creating one past it over the API gets 409. Webhook blocks
	// count but are never refused. Default 100.
	Webhooks int
	// StoredBytes bounds the event payload bytes a company has in storage
	// (until retention deletes them): a publish past it gets 507.
	// Default 1 GiB.
	StoredBytes int64
	// PublishRate is the events a company may publish per second on
	// average, PublishBurst how many at once: a publish past them gets
	// 429. Defaults 1000 and 2000.
	PublishRate  int
	PublishBurst int
}

// Company is a company block: the quotas of one company. A limit it leaves
// out is the quotas block's.
type Company struct {
	ID           int64 // block label
	Webhooks     *int
	StoredBytes  *int64
	PublishRate  *int
	PublishBurst *int
	Range        hcl.Range
}

// Auth is the auth block.
type Auth struct {
	TokenTTL   time.Duration // default 1h
	SigningKey string        // empty: generated and persisted in storage
	Clients    []Client
	// MaxFailuresPerClient is how many failed authentications a client id
	// may have per minute, from any address, before the token endpoint
	// answers 429 for it (secret guessing); default 10.
	MaxFailuresPerClient int
}

// Client is an OAuth client allowed to get tokens.
type Client struct {
	ID           string // block label
	Secret       string // plain secret, or
	SecretSHA256 string // lowercase hex sha256 of the secret
	CompanyID    int64
	UserID       int64
	Scopes       []string
	Range        hcl.Range
}

// Transforms is the transforms block.
type Transforms struct {
	Engine   string        // "gnata" (default) | "jsonata-go"
	Timeout  time.Duration // per evaluation; default 100ms
	MaxDepth int           // default 200
}

// API is the api block: limits of the management API (/api/v1/webhooks...).
type API struct {
	RateLimit  int // requests per minute per client; default 100
	RateBurst  int // requests a client may make at once; default 20
	PerPage    int // default page size of webhooks and history; default 25
	MaxPerPage int // largest perPage accepted by any list; default 500
	LogPerPage int // default page size of delivery logs; default 50
	// MaxSortDepth bounds page*perPage of a delivery-log list sorted by
	// anything but createdAt: such a page holds that many records while the
	// log is walked; default 5000.
	MaxSortDepth int
	// MaxBatchEvents bounds the envelopes of one bulk publish
	// (POST /api/v1/events/batch); server.body_limit still applies. Default 500.
	MaxBatchEvents int
}

// SMTP is the smtp block: the server that sends notification emails. An
// empty Host disables email (the gateway logs what it would have sent).
type SMTP struct {
	Host     string
	Port     int           // default 587
	From     string        // envelope and header sender; required with Host
	Username string        // optional; PLAIN auth when set
	Password string        // use env("...")
	TLS      string        // "starttls" (default, required), "tls" (implicit) or "none"
	Timeout  time.Duration // per message; default 10s
}

// SMTP TLS modes.
const (
	SMTPStartTLS = "starttls"
	SMTPTLS      = "tls"
	SMTPNoTLS    = "none"
)

// Lifecycle is the lifecycle block: automatic state changes of webhooks.
type Lifecycle struct {
	// AutoDeactivateAfter: a webhook whose deliveries have all failed for
	// this long becomes inactive; default 168h (7 days); 0 disables.
	AutoDeactivateAfter time.Duration
	CheckInterval       time.Duration // how often webhooks are checked; default 1h
}

// DeliveryLog is the delivery_log block.
type DeliveryLog struct {
	PresignTTL time.Duration // how long a pre-signed delivery-log URL works; default 15m
	// MaxBody is how much of each request and response body an attempt
	// record keeps, bytes; the full sizes are recorded beside them and the
	// event keeps the whole payload. Default 64 KiB (responses are cut to
	// 64 KiB by the sink already); 0 keeps sizes only.
	MaxBody int
}

// Sink is a sink block.
type Sink struct {
	Name     string            // block label
	Type     string            // built-in type: http | servicenow | salesforce; empty when Command is set
	Command  string            // custom sink binary
	SHA256   string            // optional pin of Command
	Settings map[string]string // config = { ... }
	// Companies may name the sink in their webhooks. Required unless Type
	// is "http": every other sink delivers with credentials of its own.
	// Empty on an http sink: every company may use it.
	Companies []int64
	// Limit bounds the attempts of every webhook delivering through this
	// sink together (one ServiceNow instance's API limit).
	Limit RateLimit
	// CPUs is the GOMAXPROCS of the sink's process (`cpus`); 0 leaves
	// DefaultSinkCPUs. See ProcessCPUs.
	CPUs  int
	Range hcl.Range
}

// Webhook is a webhook block.
type Webhook struct {
	Name              string // block label
	CompanyID         int64
	UserID            int64
	URL               string
	Method            string // post (default) | put
	Status            string // active (default) | inactive | archived
	Events            []string
	Secret            string // UUID; empty = generated once and kept in storage
	Headers           map[string]string
	PayloadTemplate   string
	Sink              string // default "http"
	NotificationEmail string
	ModelProperties   []string
	// SignatureFormat is "fn" (default: X-FN-Signature) or
	// "standard-webhooks" (also the webhook-* headers of that spec).
	SignatureFormat string
	// SecretGracePeriod overrides delivery.secret_grace_period for this
	// webhook's secret changes; nil keeps the default.
	SecretGracePeriod *time.Duration
	// Limit paces this webhook's attempts (gateway/delivery/throttle.go).
	Limit RateLimit
	// MaxInFlight overrides delivery.max_in_flight_per_webhook; 0 keeps it.
	MaxInFlight int
	// the block's definition range, for messages like `gateway.hcl:12 webhook "erp-sync"`
	// Ordering is "none" (default) or "work_order": one work order's
	// deliveries go one at a time, in the order accepted. OrderingOnDead
	// is "continue" (default) or "hold": whether a dead letter holds its
	// work order's lane until retried or released.
	Ordering, OrderingOnDead string
	Range                    hcl.Range // the block's definition range, for messages like `gateway.hcl:12 webhook "erp-sync"`
}
