package postgres

import (
	"context"
	"fmt"

	"github.com/hookgate/hookgate/store"
)

var _ store.Locker = (*Store)(nil)

// WithLock runs fn while holding the named PostgreSQL advisory lock, so that
// among all replicas sharing the database one at a time runs it (HCL
// reconcile, the auto-deactivation check). It waits for the lock until ctx
// ends. The lock lives on one pooled connection for the duration of fn; if
// that connection breaks, the server releases the lock, which is why fn
// must stay safe to run twice (both users re-read state before writing).
func (s *Store) WithLock(ctx context.Context, name string, fn func(context.Context) error) error {
	if err := s.check(ctx); err != nil {
		return err
	}
	conn, err := s.pool.Acquire(ctx)
	if err != nil {
		return err
	}
	defer conn.Release()
	if _, err := conn.Exec(ctx, `SELECT pg_advisory_lock(hashtextextended($1, 0))`, "hookgate:"+name); err != nil {
		return fmt.Errorf("postgres: lock %s: %w", name, err)
	}
	defer func() {
		// A fresh context: the lock must be released even if ctx ended,
		// or the pooled connection would keep it.
		if _, err := conn.Exec(context.WithoutCancel(ctx), `SELECT pg_advisory_unlock(hashtextextended($1, 0))`, "hookgate:"+name); err != nil {
			conn.Conn().Close(context.Background()) // closing the session drops the lock
		}
	}()
	return fn(ctx)
}

// tryLock takes the named advisory lock for the current transaction-less
// session only if free, runs fn and releases it; false when another
// replica holds it (used by the sweeper: one sweep at a time is enough).
func (s *Store) tryLock(ctx context.Context, name string, fn func(context.Context) error) (bool, error) {
	conn, err := s.pool.Acquire(ctx)
	if err != nil {
		return false, err
	}
	defer conn.Release()
	var ok bool
	if err := conn.QueryRow(ctx, `SELECT pg_try_advisory_lock(hashtextextended($1, 0))`, "hookgate:"+name).Scan(&ok); err != nil || !ok {
		return false, err
	}
	defer conn.Exec(context.WithoutCancel(ctx), `SELECT pg_advisory_unlock(hashtextextended($1, 0))`, "hookgate:"+name) //nolint:errcheck
	return true, fn(ctx)
}
