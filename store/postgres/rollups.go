package postgres

import (
	"cmp"
	"context"
	"encoding/json"
	"fmt"
	"slices"
	"time"

	"github.com/jackc/pgx/v5"

	"github.com/hookgate/hookgate/store"
)

// Per-minute rollups (store.Rollups; migration 0005). Every replica adds
// its own counts to the same rows in place (rollup_add_counts,
// rollup_add_buckets), so a minute is the sum of what each replica saw.

var _ store.Rollups = (*Store)(nil)

// AddRollups adds each rollup to its stored minute, in one transaction,
// and then deletes the rollups past the retention (by the store's clock).
func (s *Store) AddRollups(ctx context.Context, rs []store.Rollup) error {
	if err := s.check(ctx); err != nil {
		return err
	}
	rs = mergeRollups(rs)
	cutoff := store.RollupMinute(s.now().Add(-s.rollupRetention))
	err := pgx.BeginFunc(ctx, s.pool, func(tx pgx.Tx) error {
		b := &pgx.Batch{}
		for _, r := range rs {
			if r.Minute.Before(cutoff) {
				continue
			}
			attempts, err := json.Marshal(r.Attempts)
			if err != nil {
				return err
			}
			if r.Attempts == nil {
				attempts = []byte("{}")
			}
			latency := []int64(r.Latency.Trim())
			if latency == nil {
				latency = []int64{}
			}
			b.Queue(`INSERT INTO rollups AS r (company_id, webhook_id, minute, attempts, latency, depth_high, depth_norm, depth_low)
				VALUES ($1, $2, $3, $4, $5, $6, $7, $8)
				ON CONFLICT (company_id, webhook_id, minute) DO UPDATE SET
					attempts = rollup_add_counts(r.attempts, EXCLUDED.attempts),
					latency = rollup_add_buckets(r.latency, EXCLUDED.latency),
					depth_high = greatest(r.depth_high, EXCLUDED.depth_high),
					depth_norm = greatest(r.depth_norm, EXCLUDED.depth_norm),
					depth_low = greatest(r.depth_low, EXCLUDED.depth_low)`,
				r.CompanyID, r.WebhookID, r.Minute, attempts, latency, r.Depth[0], r.Depth[1], r.Depth[2])
		}
		return tx.SendBatch(ctx, b).Close()
	})
	if err != nil {
		return fmt.Errorf("postgres: adding rollups: %w", err)
	}
	// Retention: whatever passed the cutoff since the last write, in
	// batches (a writer adds every minute, so there is seldom more than
	// one minute's rows to go).
	for {
		n, err := s.sweepStep(ctx, `DELETE FROM rollups WHERE ctid = ANY(ARRAY(SELECT ctid FROM rollups WHERE minute < $1 LIMIT $2))`, cutoff)
		if err != nil {
			return fmt.Errorf("postgres: rollup retention: %w", err)
		}
		if n < sweepBatch {
			return nil
		}
	}
}

// mergeRollups sums rollups of the same scope and minute (one statement
// cannot change a row twice) and orders them by key, so that replicas
// writing the same minutes lock rows in the same order and never deadlock.
func mergeRollups(rs []store.Rollup) []store.Rollup {
	type k struct {
		company int64
		webhook string
		minute  time.Time
	}
	at := make(map[k]int, len(rs))
	out := make([]store.Rollup, 0, len(rs))
	for _, r := range rs {
		r.Minute = store.RollupMinute(r.Minute)
		key := k{r.CompanyID, r.WebhookID, r.Minute}
		if i, ok := at[key]; ok {
			out[i].Add(r)
			continue
		}
		at[key] = len(out)
		r.Attempts = cloneCounts(r.Attempts)
		r.Latency = append(store.Histogram(nil), r.Latency...)
		out = append(out, r)
	}
	slices.SortFunc(out, func(a, b store.Rollup) int {
		return cmp.Or(cmp.Compare(a.CompanyID, b.CompanyID), cmp.Compare(a.WebhookID, b.WebhookID), a.Minute.Compare(b.Minute))
	})
	return out
}

func cloneCounts(m map[store.Outcome]int64) map[store.Outcome]int64 {
	if m == nil {
		return nil
	}
	c := make(map[store.Outcome]int64, len(m))
	for o, n := range m {
		c[o] = n
	}
	return c
}

// ListRollups returns one scope's rollups over [From, To), oldest first.
func (s *Store) ListRollups(ctx context.Context, f store.RollupFilter) ([]store.Rollup, error) {
	if err := s.check(ctx); err != nil {
		return nil, err
	}
	to := f.To
	if to.IsZero() {
		to = time.Date(9999, 1, 1, 0, 0, 0, 0, time.UTC)
	}
	rows, err := s.pool.Query(ctx, `SELECT minute, attempts, latency, depth_high, depth_norm, depth_low FROM rollups
		WHERE company_id = $1 AND webhook_id = $2 AND minute >= $3 AND minute < $4 ORDER BY minute`,
		f.CompanyID, f.WebhookID, f.From, to)
	if err != nil {
		return nil, err
	}
	return pgx.CollectRows(rows, func(row pgx.CollectableRow) (store.Rollup, error) {
		r := store.Rollup{CompanyID: f.CompanyID, WebhookID: f.WebhookID}
		var attempts []byte
		var latency []int64
		if err := row.Scan(&r.Minute, &attempts, &latency, &r.Depth[0], &r.Depth[1], &r.Depth[2]); err != nil {
			return r, err
		}
		if err := json.Unmarshal(attempts, &r.Attempts); err != nil {
			return r, fmt.Errorf("postgres: rollup attempts: %w", err)
		}
		if len(r.Attempts) == 0 {
			r.Attempts = nil
		}
		r.Minute = r.Minute.UTC()
		r.Latency = store.Histogram(latency).Trim()
		if len(r.Latency) == 0 {
			r.Latency = nil
		}
		return r, nil
	})
}
