package postgres

import (
	"context"

	"github.com/jackc/pgx/v5"

	"github.com/hookgate/hookgate/store"
)

// GetEvents reads many events with one query.
func (s *Store) GetEvents(ctx context.Context, eventIDs []string) (map[string]*store.Event, error) {
	out := make(map[string]*store.Event, len(eventIDs))
	if err := s.check(ctx); err != nil || len(eventIDs) == 0 {
		return out, err
	}
	rows, err := s.pool.Query(ctx, `SELECT `+eventRowColumns+` FROM events WHERE id = ANY($1)`, eventIDs)
	if err != nil {
		return nil, err
	}
	defer rows.Close()
	for rows.Next() {
		e, err := scanEvent(rows)
		if err != nil {
			return nil, err
		}
		out[e.ID] = e
	}
	return out, rows.Err()
}

// eventRowColumns are the columns scanEvent reads, in its order.
const eventRowColumns = `id, trace_id, name, company_id, work_order_id, payload, received_at, traceparent`

// scanEvent reads one row of eventRowColumns.
func scanEvent(row pgx.Row) (*store.Event, error) {
	e := new(store.Event)
	if err := row.Scan(&e.ID, &e.TraceID, &e.Name, &e.CompanyID, &e.WorkOrderID, &e.Payload, &e.ReceivedAt, &e.TraceParent); err != nil {
		return nil, err
	}
	return e, nil
}
