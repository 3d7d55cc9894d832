package gateway

import (
	"context"
	"fmt"
	"time"

	"github.com/hookgate/hookgate/config"
	"github.com/hookgate/hookgate/secretbox"
	"github.com/hookgate/hookgate/store"
	"github.com/hookgate/hookgate/store/postgres"
)

// openPostgres opens the PostgreSQL store at storage.dsn, migrating it on
// start under an advisory lock, so replicas starting together apply each
// migration once. (Badger is opened in New.) Webhook secrets are sealed
// with the same keys as Badger's (storage.encryption_key or the key file,
// storage_keys.go), except that no key is generated: every replica needs
// the same key, so a missing key file leaves the secrets unsealed.
func openPostgres(ctx context.Context, cfg *config.Config, g *Gateway) (store.Store, error) {
	keys, err := readStorageKeys(cfg.Storage, false)
	if err != nil {
		return nil, err
	}
	var ring *secretbox.Keyring
	if keys != nil {
		ring = keys.ring
	} else {
		g.log.Warn("storage: no encryption key (storage.encryption_key or the key file " + cfg.Storage.KeyFile() +
			"): webhook secrets are stored unencrypted in PostgreSQL; see docs/postgres.md")
	}
	s, err := postgres.Open(ctx, postgres.Options{
		DSN: cfg.Storage.DSN, Migrate: true, Lease: cfg.EffectiveLease(),
		LogRetention: cfg.Storage.LogRetention, SweepInterval: cfg.Storage.SweepInterval,
		RollupRetention: cfg.Storage.RollupRetention,
		MaxConns:        int32(cfg.Storage.MaxConns), Logger: g.log, Clock: g.clock.Now, Keys: ring,
	})
	if err != nil {
		return nil, fmt.Errorf("opening postgres storage: %w", err)
	}
	return s, nil
}

// Names of the cross-replica locks.
const (
	lockReconcile = "reconcile" // applying the HCL webhooks
	lockLifecycle = "lifecycle" // the auto-deactivation check
)

// exclusive runs fn while no other replica runs fn under the same name. A
// store of one node (Badger) needs no lock: the process's own mutexes do.
// The wait is bounded by storage.lock_timeout; fn itself is not.
func (g *Gateway) exclusive(ctx context.Context, name string, fn func(context.Context) error) error {
	l, ok := g.store.(store.Locker)
	if !ok {
		return fn(ctx)
	}
	wait := g.cfg.Storage.LockTimeout
	if wait <= 0 {
		wait = 2 * time.Minute
	}
	lctx, cancel := context.WithTimeout(ctx, wait)
	defer cancel()
	acquired := false
	err := l.WithLock(lctx, name, func(context.Context) error {
		acquired = true
		return fn(ctx)
	})
	if !acquired && err != nil {
		return fmt.Errorf("waiting for the %s lock (another replica holds it; storage.lock_timeout %s): %w", name, wait, err)
	}
	return err
}

// sharedStore reports whether other replicas may change the store behind
// this process's back (so in-memory views must be refreshed from it).
func (g *Gateway) sharedStore() bool {
	_, ok := g.store.(store.Locker)
	return ok
}

// indexRefreshInterval is how stale a replica's webhook index may get:
// a webhook created, changed or auto-deactivated on another replica takes
// effect for this replica's fan-out within this time.
const indexRefreshInterval = 2 * time.Second

// refreshIndex reloads the index under the lock every local webhook change
// holds (webhooks.Service), so a reload that read the store just before a
// local change cannot overwrite that change in the index afterwards.
func refreshIndex(ctx context.Context, g *Gateway) error {
	return g.hooks.Locked(func() error { return g.index.Load(ctx, g.store) })
}
