package postgres

import (
	"context"
	"fmt"
	"sort"
	"time"

	"github.com/jackc/pgx/v5"

	"github.com/hookgate/hookgate/store"
)

// deliveryCols is what scanDelivery reads, in order.
const deliveryCols = `id, event_id, webhook_id, company_id, event_name, work_order_id, priority, attempts, state,
	due_at, last_status, last_error, dead_reason, created_at, updated_at, sequence, holds_lane`

// laneOpen is the lane gate of a claim over deliveries d (lanes.go): a
// sequenced delivery goes only when no earlier one of its lane is open or
// dead holding it, and none of its lane is in flight. The inner
// condition is deliveries_lane's predicate, so the index answers it.
const laneOpen = `(d.sequence = 0 OR NOT EXISTS (SELECT 1 FROM deliveries e
	WHERE e.webhook_id = d.webhook_id AND e.work_order_id = d.work_order_id AND e.id <> d.id
		AND e.sequence > 0 AND (e.state IN ('pending', 'inflight') OR e.holds_lane)
		AND (e.sequence < d.sequence OR e.state = 'inflight')))`

func scanDelivery(r pgx.CollectableRow) (*store.Delivery, error) {
	var d store.Delivery
	var prio int16
	err := r.Scan(&d.ID, &d.EventID, &d.WebhookID, &d.CompanyID, &d.EventName, &d.WorkOrderID, &prio, &d.Attempts,
		&d.State, &d.DueAt, &d.LastStatus, &d.LastError, &d.DeadReason, &d.CreatedAt, &d.UpdatedAt, &d.Sequence, &d.HoldsLane)
	d.Priority = int(prio)
	return &d, err
}

// ClaimDue leases up to limit due deliveries of one priority to this
// process, earliest due first. SKIP LOCKED lets replicas claim side by side
// without waiting on each other's rows, and a row is claimed by one
// transaction only: no delivery is handed to two replicas. The lease runs on
// the database's clock; a claim whose lease ran out (its replica died) is
// put back in the queue by reapExpired and claimed again here, with the
// same uuid and attempt count.
func (s *Store) ClaimDue(ctx context.Context, priority int, now time.Time, limit int) ([]*store.Delivery, error) {
	if ok, err := s.readyToClaim(ctx, priority, limit); !ok {
		return nil, err
	}
	rows, err := s.pool.Query(ctx, `WITH c AS (
			SELECT id FROM deliveries d WHERE state = 'pending' AND priority = $1 AND due_at <= $2 AND `+laneOpen+`
			ORDER BY due_at, id LIMIT $3 FOR UPDATE SKIP LOCKED)
		UPDATE deliveries d SET state = 'inflight', lease_owner = $4,
			lease_until = clock_timestamp() + make_interval(secs => $5)
		FROM c WHERE d.id = c.id RETURNING `+prefixed("d.", deliveryCols),
		priority, now, limit, s.owner, s.lease.Seconds())
	if err != nil {
		return nil, err
	}
	out, err := pgx.CollectRows(rows, scanDelivery)
	if err != nil {
		return nil, err
	}
	// RETURNING has no order; hand them out in claim order.
	sort.Slice(out, func(i, j int) bool {
		if c := out[i].DueAt.Compare(out[j].DueAt); c != 0 {
			return c < 0
		}
		return out[i].ID < out[j].ID
	})
	return out, nil
}

// reapInterval bounds how often ClaimDue looks for expired leases: a lease
// is far longer, so this adds at most a second to a dead replica's backlog.
const reapInterval = time.Second

// reapExpired returns deliveries whose lease ran out to the queue, keeping
// their due time (they go out first) and attempt count.
func (s *Store) reapExpired(ctx context.Context) error {
	last := s.lastReap.Load()
	now := time.Now().UnixNano()
	if now-last < int64(reapInterval) || !s.lastReap.CompareAndSwap(last, now) {
		return nil
	}
	tag, err := s.pool.Exec(ctx, `UPDATE deliveries SET state = 'pending', lease_owner = NULL, lease_until = NULL
		WHERE state = 'inflight' AND lease_until < clock_timestamp()`)
	if err == nil && tag.RowsAffected() > 0 {
		s.runs.forget() // the rows are pending again at their old due times, maybe inside a run
		s.log.Warn("re-queued deliveries whose lease expired (a replica stopped without recording them)", "count", tag.RowsAffected())
	}
	return err
}

// ReleaseInFlight re-queues, due at now, the deliveries this process has in
// flight and those whose lease has expired. Other replicas' live leases are
// left alone: they are delivering right now. (A replica that crashed is
// covered by its leases expiring; one that shut down released its own.)
func (s *Store) ReleaseInFlight(ctx context.Context, now time.Time) (int, error) {
	if err := s.check(ctx); err != nil {
		return 0, err
	}
	tag, err := s.pool.Exec(ctx, `UPDATE deliveries SET state = 'pending', due_at = $1, updated_at = $1,
			lease_owner = NULL, lease_until = NULL
		WHERE state = 'inflight' AND (lease_owner = $2 OR lease_until < clock_timestamp())`, now, s.owner)
	if err != nil {
		return 0, err
	}
	return int(tag.RowsAffected()), nil
}

// Requeue puts a finished or pending delivery back in the queue due at now,
// keeping its id and attempt count; an in-flight one is refused.
func (s *Store) Requeue(ctx context.Context, deliveryID string, now time.Time) (*store.Delivery, error) {
	if err := s.check(ctx); err != nil {
		return nil, err
	}
	var out *store.Delivery
	err := pgx.BeginFunc(ctx, s.pool, func(tx pgx.Tx) error {
		var state store.DeliveryState
		if err := tx.QueryRow(ctx, `SELECT state FROM deliveries WHERE id = $1 FOR UPDATE`, deliveryID).Scan(&state); err != nil {
			return notFound(err)
		}
		if state == store.DeliveryInFlight {
			return fmt.Errorf("store: delivery %s is being delivered; try again later", deliveryID)
		}
		rows, err := tx.Query(ctx, `UPDATE deliveries SET state = 'pending', due_at = $2, updated_at = $2, dead_reason = '', holds_lane = false
			WHERE id = $1 RETURNING `+deliveryCols, deliveryID, now)
		if err != nil {
			return err
		}
		out, err = pgx.CollectExactlyOneRow(rows, scanDelivery)
		return err
	})
	return out, err
}

// DeadLetterPending dead-letters every pending delivery of a webhook, in
// batches so one huge backlog is not one huge transaction. In-flight ones
// are left to their workers.
func (s *Store) DeadLetterPending(ctx context.Context, webhookID, reason string, now time.Time) (int, error) {
	if err := s.check(ctx); err != nil {
		return 0, err
	}
	total := 0
	for {
		tag, err := s.pool.Exec(ctx, `UPDATE deliveries SET state = 'dead', dead_reason = $2, updated_at = $3
			WHERE id IN (SELECT id FROM deliveries WHERE webhook_id = $1 AND state = 'pending' LIMIT $4 FOR UPDATE SKIP LOCKED)`,
			webhookID, reason, now, sweepBatch)
		if err != nil {
			return total, err
		}
		total += int(tag.RowsAffected())
		if tag.RowsAffected() < sweepBatch {
			return total, nil
		}
	}
}

// GetDelivery returns one delivery.
func (s *Store) GetDelivery(ctx context.Context, deliveryID string) (*store.Delivery, error) {
	if err := s.check(ctx); err != nil {
		return nil, err
	}
	rows, err := s.pool.Query(ctx, `SELECT `+deliveryCols+` FROM deliveries WHERE id = $1`, deliveryID)
	if err != nil {
		return nil, err
	}
	d, err := pgx.CollectExactlyOneRow(rows, scanDelivery)
	return d, notFound(err)
}

// ListDeliveries returns a webhook's (or, without one, every) delivery in
// a state ("" for all) created in [from, to] (zero bounds are open), oldest first.
func (s *Store) ListDeliveries(ctx context.Context, webhookID string, state store.DeliveryState, from, to time.Time) ([]*store.Delivery, error) {
	if err := s.check(ctx); err != nil {
		return nil, err
	}
	switch state {
	case "", store.DeliveryPending, store.DeliveryInFlight, store.DeliverySucceeded, store.DeliveryDead:
	default:
		return nil, fmt.Errorf("store: unknown delivery state %q", state)
	}
	rows, err := s.pool.Query(ctx, `SELECT `+deliveryCols+` FROM deliveries
		WHERE ($1 = '' OR webhook_id = $1) AND ($2 = '' OR state = $2)
		AND ($3::timestamptz IS NULL OR created_at >= $3) AND ($4::timestamptz IS NULL OR created_at <= $4)
		ORDER BY created_at, id`, webhookID, state, nullTime(from), nullTime(to))
	if err != nil {
		return nil, err
	}
	return pgx.CollectRows(rows, scanDelivery)
}

// GetEvent returns one event with its payload.
func (s *Store) GetEvent(ctx context.Context, eventID string) (*store.Event, error) {
	if err := s.check(ctx); err != nil {
		return nil, err
	}
	e, err := scanEvent(s.pool.QueryRow(ctx, `SELECT `+eventRowColumns+` FROM events WHERE id = $1`, eventID))
	if err != nil {
		return nil, notFound(err)
	}
	return e, nil
}

// QueueDepth counts pending deliveries per priority (from the queue index).
func (s *Store) QueueDepth(ctx context.Context) ([3]int, error) {
	var out [3]int
	if err := s.check(ctx); err != nil {
		return out, err
	}
	rows, err := s.pool.Query(ctx, `SELECT priority, count(*) FROM deliveries WHERE state = 'pending' GROUP BY priority`)
	if err != nil {
		return out, err
	}
	defer rows.Close()
	for rows.Next() {
		var p int16
		var n int64
		if err := rows.Scan(&p, &n); err != nil {
			return out, err
		}
		if p >= 0 && p < 3 {
			out[p] = int(n)
		}
	}
	return out, rows.Err()
}

// nullTime is nil for the zero time (an open bound).
func nullTime(t time.Time) any {
	if t.IsZero() {
		return nil
	}
	return t
}

// prefixed qualifies every column of a list with p.
func prefixed(p, cols string) string {
	out := []byte(p)
	for i := 0; i < len(cols); i++ {
		out = append(out, cols[i])
		if cols[i] == ',' {
			for i+1 < len(cols) && (cols[i+1] == ' ' || cols[i+1] == '\n' || cols[i+1] == '\t') {
				i++
				out = append(out, cols[i])
			}
			out = append(out, p...)
		}
	}
	return string(out)
}

// readyToClaim checks a claim's arguments and the store, then puts expired
// leases back in the queue; false (with a nil error) when there is nothing
// to claim for.
func (s *Store) readyToClaim(ctx context.Context, priority, limit int) (bool, error) {
	if priority < 0 || priority > 2 {
		return false, fmt.Errorf("store: priority %d out of range 0..2", priority)
	}
	if err := s.check(ctx); err != nil {
		return false, err
	}
	if limit <= 0 {
		return false, nil
	}
	if err := s.reapExpired(ctx); err != nil {
		return false, err
	}
	return true, nil
}
