package postgres

import (
	"context"
	"time"

	"github.com/jackc/pgx/v5"

	"github.com/hookgate/hookgate/store"
)

// Lanes of ordered webhooks: the gate is laneOpen in the claim queries
// (queue.go), so it holds whichever replica claims, and a dead replica's
// lanes move on when reapExpired returns its leased heads to the queue.

var _ store.Lanes = (*Store)(nil)

// HeldLanes returns the webhook's lanes whose first open-or-holding
// delivery is dead and holds them, with how many of the lane wait behind.
func (s *Store) HeldLanes(ctx context.Context, webhookID string) ([]store.HeldLane, error) {
	if err := s.check(ctx); err != nil {
		return nil, err
	}
	rows, err := s.pool.Query(ctx, `SELECT h.work_order_id, h.id, h.sequence, h.dead_reason, h.updated_at,
			(SELECT count(*) FROM deliveries w WHERE w.webhook_id = h.webhook_id AND w.work_order_id = h.work_order_id
				AND w.sequence > h.sequence AND w.state IN ('pending', 'inflight'))
		FROM deliveries h
		WHERE h.webhook_id = $1 AND h.sequence > 0 AND h.holds_lane AND h.state = 'dead'
			AND NOT EXISTS (SELECT 1 FROM deliveries e WHERE e.webhook_id = h.webhook_id
				AND e.work_order_id = h.work_order_id AND e.sequence > 0
				AND (e.state IN ('pending', 'inflight') OR e.holds_lane) AND e.sequence < h.sequence)
		ORDER BY h.work_order_id`, webhookID)
	if err != nil {
		return nil, err
	}
	return pgx.CollectRows(rows, func(r pgx.CollectableRow) (store.HeldLane, error) {
		var l store.HeldLane
		err := r.Scan(&l.WorkOrderID, &l.DeliveryID, &l.Sequence, &l.DeadReason, &l.DeadAt, &l.Waiting)
		return l, err
	})
}

// ReleaseLane lets a held lane go on past its dead head.
func (s *Store) ReleaseLane(ctx context.Context, webhookID string, workOrderID int64, now time.Time) (*store.Delivery, error) {
	if err := s.check(ctx); err != nil {
		return nil, err
	}
	rows, err := s.pool.Query(ctx, `UPDATE deliveries SET holds_lane = false, updated_at = $3
		WHERE id = (SELECT id FROM deliveries WHERE webhook_id = $1 AND work_order_id = $2 AND sequence > 0
			AND holds_lane AND state = 'dead' ORDER BY sequence LIMIT 1)
		RETURNING `+deliveryCols, webhookID, workOrderID, now)
	if err != nil {
		return nil, err
	}
	d, err := pgx.CollectExactlyOneRow(rows, scanDelivery)
	return d, notFound(err)
}
