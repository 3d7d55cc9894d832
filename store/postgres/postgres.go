// Package postgres is the store.Store that several gateway replicas share:
// webhooks, the delivery queue, logs and history in one PostgreSQL database
// (docs/postgres.md). The queue is claimed with FOR UPDATE SKIP LOCKED under
// a lease on the database's clock, so a replica that dies loses its claims
// and another sends them again, with the same delivery uuid.
package postgres

import (
	"context"
	"errors"
	"fmt"
	"log/slog"
	"os"
	"strconv"
	"sync"
	"sync/atomic"
	"time"

	"github.com/jackc/pgx/v5"
	"github.com/jackc/pgx/v5/pgxpool"

	"github.com/hookgate/hookgate/secretbox"
	"github.com/hookgate/hookgate/store"
)

// Options configures Open. Zero values take the documented defaults.
type Options struct {
	// DSN is the connection string (postgres://user:pass@host:port/db?...). Required.
	DSN string
	// Migrate applies pending migrations at open (under an advisory lock).
	// Without it, Open fails when the schema is behind: run `hookgate migrate`.
	Migrate bool
	// Lease is how long a claim holds a delivery. It must exceed the
	// delivery timeout plus a grace for recording; a replica that dies
	// keeps its claims this long. Default 90s (30s timeout + 60s grace).
	Lease time.Duration
	// LogRetention is how long attempt records, finished deliveries, their
	// events and history live. Default 30 days.
	LogRetention time.Duration
	// RollupRetention is how long per-minute rollups are kept (rollups.go).
	// Default store.DefaultRollupRetention (7 days).
	RollupRetention time.Duration
	// SweepInterval is how often expired rows are deleted, in batches.
	// Default 10m.
	SweepInterval time.Duration
	// MaxConns bounds the connection pool. Default 16.
	MaxConns int32
	// Owner names this process in leases; default host:pid (unique per
	// process, so a restarted replica never mistakes old claims for its own).
	Owner string
	// Logger for the store's own warnings. Default slog.Default().
	Logger *slog.Logger
	// Keys seals each webhook's secret, previous secret and custom header
	// values at rest (store.SealWebhook, as the Badger store does); every
	// replica must have the same keyring. Nil stores them as written, and
	// Open refuses a database that holds sealed secrets (store.ErrNoKey).
	Keys *secretbox.Keyring
	// Clock is the gateway's clock (CreatedAt defaults, idempotency expiry,
	// retention cutoffs). Leases use the database's clock instead. Default time.Now.
	Clock func() time.Time
}

// Defaults for Options.
const (
	DefaultLease         = 90 * time.Second
	DefaultLogRetention  = 30 * 24 * time.Hour
	DefaultSweepInterval = 10 * time.Minute
	DefaultMaxConns      = 16
)

// Store is the PostgreSQL store.
type Store struct {
	pool      *pgxpool.Pool
	log       *slog.Logger
	now       func() time.Time
	lease     time.Duration
	retention time.Duration
	owner     string
	keys      *secretbox.Keyring // nil: webhook secrets stored as written (secrets.go)
	sealer    store.Sealer       // keys, or nil without them (a nil *Keyring is not a nil Sealer)

	rollupRetention time.Duration // rollups.go

	closed   atomic.Bool
	lastReap atomic.Int64 // unix nanos of the last expired-lease sweep (reap.go)
	runs     claimRuns    // backlogs of blocked companies claims pass over (claimruns.go)

	stopSweep context.CancelFunc
	sweepWG   sync.WaitGroup
	closeOnce sync.Once
}

var _ store.Store = (*Store)(nil)

// Open connects, checks (or applies) the schema and starts the retention
// sweeper; Close stops it.
func Open(ctx context.Context, opts Options) (*Store, error) {
	if opts.DSN == "" {
		return nil, errors.New("postgres: dsn is required")
	}
	opts = withDefaults(opts)
	pc, err := pgxpool.ParseConfig(opts.DSN)
	if err != nil {
		return nil, fmt.Errorf("postgres: dsn: %w", err)
	}
	pc.MaxConns = opts.MaxConns
	pool, err := pgxpool.NewWithConfig(ctx, pc)
	if err != nil {
		return nil, fmt.Errorf("postgres: connect: %w", err)
	}
	if err := prepareSchema(ctx, pool, opts.Migrate); err != nil {
		pool.Close()
		return nil, err
	}
	s := &Store{pool: pool, log: opts.Logger, now: opts.Clock, lease: opts.Lease, retention: opts.LogRetention, owner: opts.Owner, keys: opts.Keys}
	if opts.Keys != nil {
		s.sealer = opts.Keys
	}
	s.rollupRetention = opts.RollupRetention
	if err := s.checkKeys(ctx); err != nil {
		pool.Close()
		return nil, err
	}
	sctx, cancel := context.WithCancel(context.Background())
	s.stopSweep = cancel
	s.sweepWG.Add(1)
	go s.sweepLoop(sctx, opts.SweepInterval)
	return s, nil
}

func withDefaults(o Options) Options {
	if o.Lease <= 0 {
		o.Lease = DefaultLease
	}
	if o.LogRetention <= 0 {
		o.LogRetention = DefaultLogRetention
	}
	if o.RollupRetention <= 0 {
		o.RollupRetention = store.DefaultRollupRetention
	}
	if o.SweepInterval <= 0 {
		o.SweepInterval = DefaultSweepInterval
	}
	if o.MaxConns <= 0 {
		o.MaxConns = DefaultMaxConns
	}
	if o.Owner == "" {
		host, _ := os.Hostname()
		o.Owner = host + ":" + strconv.Itoa(os.Getpid()) + ":" + strconv.FormatInt(time.Now().UnixNano(), 36)
	}
	if o.Logger == nil {
		o.Logger = slog.Default()
	}
	if o.Clock == nil {
		o.Clock = time.Now
	}
	return o
}

// prepareSchema migrates, or checks that nothing is left to migrate.
func prepareSchema(ctx context.Context, pool *pgxpool.Pool, migrate bool) error {
	if migrate {
		_, err := Migrate(ctx, pool)
		return err
	}
	ms, err := Migrations()
	if err != nil {
		return err
	}
	v, err := SchemaVersion(ctx, pool)
	if err != nil || v < ms[len(ms)-1].Version {
		return fmt.Errorf("postgres: schema at version %d, want %d (run `hookgate migrate`): %v", v, ms[len(ms)-1].Version, err)
	}
	return nil
}

// Owner is the name this store writes in its leases.
func (s *Store) Owner() string { return s.owner }

// Pool exposes the connection pool to tools and tests.
func (s *Store) Pool() *pgxpool.Pool { return s.pool }

// Close stops the sweeper, hands this process's unrecorded claims back to
// the queue (so other replicas send them now rather than when the lease
// ends) and closes the pool. Calls after the first return nil.
func (s *Store) Close() error {
	var err error
	s.closeOnce.Do(func() {
		s.closed.Store(true)
		s.stopSweep()
		s.sweepWG.Wait()
		ctx, cancel := context.WithTimeout(context.Background(), 10*time.Second)
		defer cancel()
		_, err = s.pool.Exec(ctx, `UPDATE deliveries SET state = 'pending', lease_owner = NULL, lease_until = NULL
			WHERE state = 'inflight' AND lease_owner = $1`, s.owner)
		s.pool.Close()
	})
	return err
}

// check refuses work after Close and on a done context.
func (s *Store) check(ctx context.Context) error {
	if s.closed.Load() {
		return store.ErrClosed
	}
	return ctx.Err()
}

// notFound maps pgx's no-rows to store.ErrNotFound.
func notFound(err error) error {
	if errors.Is(err, pgx.ErrNoRows) {
		return store.ErrNotFound
	}
	return err
}

// Meta returns the value under name, creating it with gen() the first time.
// Two replicas racing insert once: the loser reads the winner's value.
func (s *Store) Meta(ctx context.Context, name string, gen func() ([]byte, error)) ([]byte, error) {
	if err := s.check(ctx); err != nil {
		return nil, err
	}
	var v []byte
	err := s.pool.QueryRow(ctx, `SELECT value FROM meta WHERE name = $1`, name).Scan(&v)
	if err == nil {
		return v, nil
	}
	if !errors.Is(err, pgx.ErrNoRows) {
		return nil, err
	}
	nv, err := gen()
	if err != nil {
		return nil, err
	}
	if _, err := s.pool.Exec(ctx, `INSERT INTO meta (name, value) VALUES ($1, $2) ON CONFLICT (name) DO NOTHING`, name, nv); err != nil {
		return nil, err
	}
	err = s.pool.QueryRow(ctx, `SELECT value FROM meta WHERE name = $1`, name).Scan(&v)
	return v, err
}
