package postgres

import (
	"context"
	"time"

	"github.com/jackc/pgx/v5"

	"github.com/hookgate/hookgate/store"
)

var _ store.FilteredClaimer = (*Store)(nil)

// claimPages bounds how far past refused deliveries ClaimDueFunc looks in
// one call: pages of max(4×limit, 128) rows. A backlog of refused ones
// longer than that waits for the next call (the dispatcher polls).
const claimPages = 4

// ClaimDueFunc is ClaimDue that leaves queued, unclaimed and in order every
// due delivery the filter refuses (the dispatcher's per-webhook in-flight limit,
// gateway/fairness.go). The candidate rows are locked FOR UPDATE SKIP
// LOCKED in one transaction while the filter decides, so no other replica can
// claim them meanwhile; the refused ones are unlocked at commit.
//
// The filter sees this replica's view only: with several replicas each keeps its
// own per-webhook limit, so a webhook may have up to replicas × the limit
// in flight.
func (s *Store) ClaimDueFunc(ctx context.Context, priority int, now time.Time, limit int, f store.ClaimFilter) ([]*store.Delivery, error) {
	if f.Admit == nil {
		return s.ClaimDue(ctx, priority, now, limit)
	}
	if ok, err := s.readyToClaim(ctx, priority, limit); !ok {
		return nil, err
	}
	admit := func(d *store.Delivery) bool {
		// Blocked is the cheap answer for a webhook at its limit.
		return (f.Blocked == nil || !f.Blocked(d.WebhookID)) && f.Admit(d)
	}
	page := max(4*limit, 128)
	var out []*store.Delivery
	err := pgx.BeginFunc(ctx, s.pool, func(tx pgx.Tx) error {
		out = out[:0]
		var ids []string
		afterDue, afterID := time.Time{}, ""
		for range claimPages {
			rows, err := tx.Query(ctx, `SELECT `+deliveryCols+` FROM deliveries
				WHERE state = 'pending' AND priority = $1 AND due_at <= $2 AND (due_at, id) > ($3, $4)
				ORDER BY due_at, id LIMIT $5 FOR UPDATE SKIP LOCKED`, priority, now, afterDue, afterID, page)
			if err != nil {
				return err
			}
			cands, err := pgx.CollectRows(rows, scanDelivery)
			if err != nil {
				return err
			}
			for _, d := range cands {
				if len(out) < limit && admit(d) {
					d.State = store.DeliveryInFlight
					out = append(out, d)
					ids = append(ids, d.ID)
				}
			}
			if len(out) >= limit || len(cands) < page {
				break
			}
			last := cands[len(cands)-1]
			afterDue, afterID = last.DueAt, last.ID
		}
		if len(ids) == 0 {
			return nil
		}
		_, err := tx.Exec(ctx, `UPDATE deliveries SET state = 'inflight', lease_owner = $2,
			lease_until = clock_timestamp() + make_interval(secs => $3) WHERE id = ANY($1)`, ids, s.owner, s.lease.Seconds())
		return err
	})
	if err != nil {
		return nil, err
	}
	return out, nil
}
