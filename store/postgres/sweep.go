package postgres

import (
	"context"
	"time"
)

// sweepBatch bounds the rows one statement of a bulk change touches, so a
// sweep never holds long locks or writes one giant transaction.
const sweepBatch = 1000

// sweepLoop deletes expired rows every interval until ctx ends. Retention
// is batched deletes on a timer (not partitions): every table that grows
// with traffic — attempts, finished deliveries, their events, history,
// idempotency keys and idle rate buckets — has an age index the sweep walks.
func (s *Store) sweepLoop(ctx context.Context, every time.Duration) {
	defer s.sweepWG.Done()
	t := time.NewTicker(every)
	defer t.Stop()
	for {
		select {
		case <-ctx.Done():
			return
		case <-t.C:
			if _, err := s.Sweep(ctx); err != nil && ctx.Err() == nil {
				s.log.Warn("postgres: retention sweep", "err", err)
			}
		}
	}
}

// Sweep deletes what is older than the retention (as of the store's clock)
// and returns how many rows went. One replica sweeps at a time; the others
// skip the round.
func (s *Store) Sweep(ctx context.Context) (int64, error) {
	if err := s.check(ctx); err != nil {
		return 0, err
	}
	now := s.now()
	cutoff := now.Add(-s.retention)
	var total int64
	_, err := s.tryLock(ctx, "sweep", func(ctx context.Context) error {
		steps := []struct {
			sql string
			at  time.Time
		}{
			{`DELETE FROM attempts WHERE ctid = ANY(ARRAY(SELECT ctid FROM attempts WHERE created_at < $1 LIMIT $2))`, cutoff},
			{`DELETE FROM deliveries WHERE ctid = ANY(ARRAY(SELECT ctid FROM deliveries
				WHERE state IN ('succeeded', 'dead') AND updated_at < $1 LIMIT $2))`, cutoff},
			// An event goes once none of its deliveries is left: they were
			// swept above, or it fanned out to none.
			{`DELETE FROM events WHERE ctid = ANY(ARRAY(SELECT e.ctid FROM events e WHERE e.received_at < $1
				AND NOT EXISTS (SELECT 1 FROM deliveries d WHERE d.event_id = e.id) LIMIT $2))`, cutoff},
			{`DELETE FROM history WHERE ctid = ANY(ARRAY(SELECT h.ctid FROM history h WHERE h.created_at < $1
				AND NOT EXISTS (SELECT 1 FROM webhooks w WHERE w.webhook_id = h.webhook_id) LIMIT $2))`, cutoff},
			{`DELETE FROM idempotency WHERE ctid = ANY(ARRAY(SELECT ctid FROM idempotency WHERE expires_at <= $1 LIMIT $2))`, now},
			// A bucket idle for an hour is full again: the same as none.
			{`DELETE FROM rate_buckets WHERE ctid = ANY(ARRAY(SELECT ctid FROM rate_buckets WHERE at < $1 LIMIT $2))`, now.Add(-time.Hour)},
		}
		for _, st := range steps {
			for {
				tag, err := s.pool.Exec(ctx, st.sql, st.at, sweepBatch)
				if err != nil {
					return err
				}
				total += tag.RowsAffected()
				if tag.RowsAffected() < sweepBatch {
					break
				}
			}
		}
		return nil
	})
	return total, err
}
