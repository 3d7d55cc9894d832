package postgres

import (
	"context"
	"strings"
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
			// swept above, or it fanned out to none. Its payload bytes come
			// off its company's stored bytes (usage.go) in the same statement.
			{`WITH gone AS (DELETE FROM events WHERE ctid = ANY(ARRAY(SELECT e.ctid FROM events e WHERE e.received_at < $1
					AND NOT EXISTS (SELECT 1 FROM deliveries d WHERE d.event_id = e.id) LIMIT $2))
					RETURNING company_id, octet_length(payload) AS n),
				per AS (SELECT company_id, sum(n)::bigint AS n, count(*) AS c FROM gone GROUP BY company_id),
				counted AS (INSERT INTO company_usage (company_id, shard, bytes) SELECT company_id, 0, -n FROM per
					ON CONFLICT (company_id, shard) DO UPDATE SET bytes = company_usage.bytes + EXCLUDED.bytes)
				SELECT coalesce(sum(c), 0)::bigint FROM per`, cutoff},
			{`DELETE FROM history WHERE ctid = ANY(ARRAY(SELECT h.ctid FROM history h WHERE h.created_at < $1
				AND NOT EXISTS (SELECT 1 FROM webhooks w WHERE w.webhook_id = h.webhook_id) LIMIT $2))`, cutoff},
			{`DELETE FROM idempotency WHERE ctid = ANY(ARRAY(SELECT ctid FROM idempotency WHERE expires_at <= $1 LIMIT $2))`, now},
			// A bucket idle for an hour is full again: the same as none,
			// unless it is still held (a 429's pause may be longer).
			{`DELETE FROM rate_buckets WHERE ctid = ANY(ARRAY(SELECT ctid FROM rate_buckets WHERE at < $1
				AND (held_until IS NULL OR held_until < $1) LIMIT $2))`, now.Add(-time.Hour)},
		}
		for _, st := range steps {
			for {
				n, err := s.sweepStep(ctx, st.sql, st.at)
				if err != nil {
					return err
				}
				total += n
				if n < sweepBatch {
					break
				}
			}
		}
		return nil
	})
	return total, err
}

// sweepStep runs one batch of a step and returns how many rows it deleted:
// a DELETE's row count, or what a WITH ... DELETE statement selects.
func (s *Store) sweepStep(ctx context.Context, sql string, at time.Time) (int64, error) {
	if strings.HasPrefix(sql, "WITH") {
		var n int64
		err := s.pool.QueryRow(ctx, sql, at, sweepBatch).Scan(&n)
		return n, err
	}
	tag, err := s.pool.Exec(ctx, sql, at, sweepBatch)
	return tag.RowsAffected(), err
}
