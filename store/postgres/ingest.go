package postgres

import (
	"context"
	"errors"
	"fmt"
	"time"

	"github.com/jackc/pgx/v5"

	"github.com/hookgate/hookgate/store"
)

// Ingest writes the events, their deliveries and the idempotency record in
// one transaction, durable when it returns.
//
// Group commit is PostgreSQL's own: concurrent commits wait on one WAL
// flush (the flush of the latest commit record covers every earlier one),
// so many Ingest calls on the pool's connections share a sync the way the
// Badger committer's groups do, without a second queue in front of it.
//
// The idempotency row is written first: a second caller with the same key,
// on this replica or another, blocks on that row until the first commits
// and then reads its response.
func (s *Store) Ingest(ctx context.Context, idem *store.Idempotency, items []store.IngestItem) ([]byte, error) {
	res := s.IngestEach(ctx, []store.IngestGroup{{Idem: idem, Items: items}})
	return res[0].Prior, res[0].Err
}

// IngestEach writes every group in one transaction: a group whose key is
// known is replayed (nothing written for it), the others' rows go in one
// batch. A failure fails every group, since none was committed; a group
// that does not validate fails alone.
func (s *Store) IngestEach(ctx context.Context, groups []store.IngestGroup) []store.IngestResult {
	out := make([]store.IngestResult, len(groups))
	if err := s.check(ctx); err != nil {
		return failAll(out, err)
	}
	valid := make([]int, 0, len(groups))
	for i, g := range groups {
		if out[i].Err = s.prepareIngest(g.Items); out[i].Err == nil {
			valid = append(valid, i)
		}
	}
	if len(valid) == 0 {
		return out
	}
	err := pgx.BeginFunc(ctx, s.pool, func(tx pgx.Tx) error {
		b := &pgx.Batch{}
		var written []store.IngestItem
		for _, i := range valid {
			out[i].Prior = nil
			if idem := groups[i].Idem; idem != nil {
				p, found, err := s.claimIdem(ctx, tx, idem)
				if err != nil {
					return err
				}
				if found {
					out[i].Prior = p
					continue
				}
			}
			written = append(written, groups[i].Items...)
		}
		if len(written) == 0 {
			return nil
		}
		queueIngest(b, written)
		queueUsage(b, written) // last: its row locks are held only until the commit
		return tx.SendBatch(ctx, b).Close()
	})
	if err != nil {
		for _, i := range valid {
			out[i] = store.IngestResult{Err: err}
		}
	}
	return out
}

func failAll(out []store.IngestResult, err error) []store.IngestResult {
	for i := range out {
		out[i].Err = err
	}
	return out
}

// queueIngest adds the rows of items' events and deliveries to b: one
// statement for all the events and one for all the deliveries outside a
// lane (unnest of one array per column, not a statement per row: a bulk
// publish of 500 events was 1,000), and one per ordered delivery, which
// takes its lane's next sequence.
func queueIngest(b *pgx.Batch, items []store.IngestItem) {
	var ev eventColumns
	var ds deliveryColumns
	for _, it := range items {
		ev.add(it.Event)
		for _, d := range it.Deliveries {
			if d.Ordered {
				queueOrdered(b, d)
				continue
			}
			ds.add(d)
		}
	}
	b.Queue(`INSERT INTO events (id, trace_id, name, company_id, work_order_id, payload, received_at, traceparent)
		SELECT * FROM unnest($1::text[], $2::text[], $3::text[], $4::bigint[], $5::bigint[], $6::bytea[],
			$7::timestamptz[], $8::text[])`,
		ev.id, ev.traceID, ev.name, ev.companyID, ev.workOrderID, ev.payload, ev.receivedAt, ev.traceParent)
	if len(ds.id) > 0 {
		b.Queue(`INSERT INTO deliveries (id, event_id, webhook_id, company_id, event_name, work_order_id,
			priority, attempts, state, due_at, created_at, updated_at)
			SELECT id, event_id, webhook_id, company_id, event_name, work_order_id, priority, attempts, 'pending',
				due_at, created_at, updated_at
			FROM unnest($1::text[], $2::text[], $3::text[], $4::bigint[], $5::text[], $6::bigint[], $7::int[],
				$8::int[], $9::timestamptz[], $10::timestamptz[], $11::timestamptz[])
			AS t(id, event_id, webhook_id, company_id, event_name, work_order_id, priority, attempts, due_at,
				created_at, updated_at)`,
			ds.id, ds.eventID, ds.webhookID, ds.companyID, ds.eventName, ds.workOrderID, ds.priority, ds.attempts,
			ds.dueAt, ds.createdAt, ds.updatedAt)
	}
}

// eventColumns are events as one array per column, for unnest.
type eventColumns struct {
	id, traceID, name, traceParent []string
	companyID, workOrderID         []int64
	payload                        [][]byte
	receivedAt                     []time.Time
}

func (c *eventColumns) add(ev *store.Event) {
	c.id, c.traceID, c.name, c.traceParent = append(c.id, ev.ID), append(c.traceID, ev.TraceID),
		append(c.name, ev.Name), append(c.traceParent, ev.TraceParent)
	c.companyID, c.workOrderID = append(c.companyID, ev.CompanyID), append(c.workOrderID, ev.WorkOrderID)
	c.payload, c.receivedAt = append(c.payload, ev.Payload), append(c.receivedAt, ev.ReceivedAt)
}

// deliveryColumns are new deliveries as one array per column, for unnest.
type deliveryColumns struct {
	id, eventID, webhookID, eventName []string
	companyID, workOrderID            []int64
	priority, attempts                []int32
	dueAt, createdAt, updatedAt       []time.Time
}

func (c *deliveryColumns) add(d *store.Delivery) {
	c.id, c.eventID, c.webhookID, c.eventName = append(c.id, d.ID), append(c.eventID, d.EventID),
		append(c.webhookID, d.WebhookID), append(c.eventName, d.EventName)
	c.companyID, c.workOrderID = append(c.companyID, d.CompanyID), append(c.workOrderID, d.WorkOrderID)
	c.priority, c.attempts = append(c.priority, int32(d.Priority)), append(c.attempts, int32(d.Attempts))
	c.dueAt, c.createdAt, c.updatedAt = append(c.dueAt, d.DueAt), append(c.createdAt, d.CreatedAt), append(c.updatedAt, d.UpdatedAt)
}

// queueOrdered adds an ordered delivery's row with the next sequence of
// its lane. The lane_sequences row stays locked until the commit, so the
// sequences of one work order follow the commits that accepted them.
func queueOrdered(b *pgx.Batch, d *store.Delivery) {
	b.Queue(`WITH s AS (
			INSERT INTO lane_sequences (webhook_id, work_order_id, last) VALUES ($3, $6, 1)
			ON CONFLICT (webhook_id, work_order_id) DO UPDATE SET last = lane_sequences.last + 1 RETURNING last)
		INSERT INTO deliveries (id, event_id, webhook_id, company_id, event_name, work_order_id,
			priority, attempts, state, due_at, created_at, updated_at, sequence)
		SELECT $1, $2, $3, $4, $5, $6, $7, $8, 'pending', $9, $10, $11, s.last FROM s`,
		d.ID, d.EventID, d.WebhookID, d.CompanyID, d.EventName, d.WorkOrderID, d.Priority, d.Attempts,
		d.DueAt, d.CreatedAt, d.UpdatedAt)
}

// claimIdem records the key, or returns the stored response when the key is
// known and unexpired. An expired key is taken over by this call.
func (s *Store) claimIdem(ctx context.Context, tx pgx.Tx, idem *store.Idempotency) ([]byte, bool, error) {
	now := s.now()
	tag, err := tx.Exec(ctx, `INSERT INTO idempotency (key, response, expires_at) VALUES ($1, $2, $3)
		ON CONFLICT (key) DO UPDATE SET response = EXCLUDED.response, expires_at = EXCLUDED.expires_at
		WHERE idempotency.expires_at <= $4`, []byte(idem.Key), idem.Response, now.Add(idem.TTL), now)
	if err != nil {
		return nil, false, err
	}
	if tag.RowsAffected() == 1 {
		return nil, false, nil
	}
	var resp []byte
	err = tx.QueryRow(ctx, `SELECT response FROM idempotency WHERE key = $1`, []byte(idem.Key)).Scan(&resp)
	return resp, err == nil, err
}

// prepareIngest checks the items and fills the fields Ingest owns, as the
// Badger store does.
func (s *Store) prepareIngest(items []store.IngestItem) error {
	now := s.now()
	for _, it := range items {
		if it.Event == nil || it.Event.ID == "" {
			return errors.New("store: ingest: event without id")
		}
		if it.Event.ReceivedAt.IsZero() {
			it.Event.ReceivedAt = now
		}
		for _, d := range it.Deliveries {
			if d.ID == "" || d.WebhookID == "" {
				return fmt.Errorf("store: ingest: event %s: delivery without id or webhook id", it.Event.ID)
			}
			if d.Priority < 0 || d.Priority > 2 {
				return fmt.Errorf("store: ingest: delivery %s: priority %d out of range 0..2", d.ID, d.Priority)
			}
			d.State, d.EventID = store.DeliveryPending, it.Event.ID
			if d.CreatedAt.IsZero() {
				d.CreatedAt = now
			}
			if d.UpdatedAt.IsZero() {
				d.UpdatedAt = d.CreatedAt
			}
		}
	}
	return nil
}
