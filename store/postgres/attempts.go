package postgres

import (
	"context"
	"encoding/json"
	"fmt"
	"strconv"
	"strings"
	"time"

	"github.com/jackc/pgx/v5"

	"github.com/hookgate/hookgate/store"
)

// RecordAttempt is RecordAttempts of one record.
func (s *Store) RecordAttempt(ctx context.Context, d *store.Delivery, a *store.Attempt) error {
	return store.RecordOne(ctx, s, d, a)
}

// RecordAttempts stores the attempt records and the deliveries' new states
// in one statement per batch (one round trip, one implicit transaction)
// and ends this process's lease on each delivery.
//
// Should a lease have expired and another replica claimed the delivery
// meanwhile (this one stalled past the lease), the attempt is still logged
// (it happened) but the delivery is left to its new owner, which will
// record its own outcome. A record whose delivery does not exist gets
// ErrNotFound in its Err.
func (s *Store) RecordAttempts(ctx context.Context, recs []store.AttemptRecord) error {
	if err := s.check(ctx); err != nil {
		return err
	}
	var cols attemptColumns
	var batch []*store.AttemptRecord
	var later []int
	seen := make(map[string]bool, len(recs))
	for i := range recs {
		r := &recs[i]
		if r.Err = store.CheckAttempt(r.Delivery, r.Attempt); r.Err != nil {
			continue
		}
		if seen[r.Delivery.ID] {
			// Two attempts of one delivery: the statement updates a row
			// once, so the later one goes in a statement after it.
			later = append(later, i)
			continue
		}
		seen[r.Delivery.ID] = true
		if err := cols.add(r.Delivery, r.Attempt, s.now()); err != nil {
			return err
		}
		batch = append(batch, r)
	}
	if len(batch) == 0 {
		return nil // (later is empty: it needs a first)
	}
	// Lock the deliveries (in id order, so concurrent batches cannot
	// deadlock), move each on unless another replica now holds it, and log
	// every attempt either way.
	rows, err := s.pool.Query(ctx, `WITH input AS (
			SELECT * FROM unnest($1::text[], $2::int[], $3::text[], $4::timestamptz[], $5::int[], $6::text[],
				$7::text[], $8::timestamptz[], $9::int[], $10::text[], $11::bigint[], $12::text[], $13::bigint[],
				$14::int[], $15::bool[], $16::timestamptz[], $17::bytea[], $18::bigint[], $19::bigint[], $21::bool[])
			AS t(id, attempts, state, due_at, last_status, last_error, dead_reason, updated_at, attempt, webhook_id,
				company_id, event_name, work_order_id, response_status, success, created_at, doc, req_size, resp_size,
				holds_lane)),
		cur AS (
			SELECT d.id, d.webhook_id, (d.state = 'inflight' AND d.lease_owner IS NOT NULL AND d.lease_owner <> $20) AS lost
			FROM deliveries d WHERE d.id IN (SELECT id FROM input) ORDER BY d.id FOR UPDATE),
		upd AS (
			UPDATE deliveries d SET attempts = i.attempts, state = i.state, due_at = i.due_at, last_status = i.last_status,
				last_error = i.last_error, dead_reason = i.dead_reason, updated_at = i.updated_at,
				holds_lane = i.holds_lane, lease_owner = NULL, lease_until = NULL
			FROM input i JOIN cur ON cur.id = i.id WHERE d.id = i.id AND NOT cur.lost RETURNING d.id),
		ins AS (
			INSERT INTO attempts (delivery_id, attempt, webhook_id, company_id, event_name, work_order_id,
				response_status, success, created_at, doc, request_body_size, response_body_size)
			SELECT i.id, i.attempt, coalesce(nullif(i.webhook_id, ''), cur.webhook_id), i.company_id, i.event_name,
				i.work_order_id, i.response_status, i.success, i.created_at, i.doc, i.req_size, i.resp_size
			FROM input i JOIN cur ON cur.id = i.id
			ON CONFLICT (delivery_id, attempt) DO UPDATE SET webhook_id = EXCLUDED.webhook_id,
				company_id = EXCLUDED.company_id, event_name = EXCLUDED.event_name,
				work_order_id = EXCLUDED.work_order_id, response_status = EXCLUDED.response_status,
				success = EXCLUDED.success, created_at = EXCLUDED.created_at, doc = EXCLUDED.doc,
				request_body_size = EXCLUDED.request_body_size, response_body_size = EXCLUDED.response_body_size
			RETURNING 1)
		SELECT cur.id, cur.lost FROM cur`, append(cols.args(), s.owner, cols.holdsLane)...)
	if err != nil {
		return fmt.Errorf("store: record %d attempts: %w", len(batch), err)
	}
	found := make(map[string]bool, len(batch))
	for rows.Next() {
		var id string
		var lost bool
		if err := rows.Scan(&id, &lost); err != nil {
			rows.Close()
			return fmt.Errorf("store: record %d attempts: %w", len(batch), err)
		}
		found[id] = true
		if lost {
			s.log.Warn("recorded an attempt after this replica's lease expired; the delivery's new owner decides its state",
				"delivery", id)
		}
	}
	if err := rows.Err(); err != nil {
		return fmt.Errorf("store: record %d attempts: %w", len(batch), err)
	}
	for _, r := range batch {
		if !found[r.Delivery.ID] {
			r.Err = fmt.Errorf("store: record attempt %s: %w", r.Delivery.ID, store.ErrNotFound)
		}
	}
	for _, i := range later {
		if err := s.RecordAttempts(ctx, recs[i:i+1]); err != nil {
			return err
		}
	}
	return nil
}

// attemptColumns holds a batch of attempts as one array per column, the
// parameters of RecordAttempts' unnest.
type attemptColumns struct {
	id, state, lastError, deadReason, webhookID, eventName []string
	attempts, lastStatus, attempt, status                  []int
	dueAt, updatedAt, createdAt                            []time.Time
	companyID, workOrderID, reqSize, respSize              []int64
	success, holdsLane                                     []bool
	doc                                                    [][]byte
}

func (c *attemptColumns) add(d *store.Delivery, a *store.Attempt, now time.Time) error {
	ac := *a
	ac.DeliveryID = d.ID
	ac.FillBodySizes()
	if ac.CreatedAt.IsZero() {
		ac.CreatedAt = now
	}
	if ac.WebhookID == "" {
		ac.WebhookID = d.WebhookID
	}
	doc, err := json.Marshal(&ac)
	if err != nil {
		return err
	}
	c.id, c.attempts, c.state, c.dueAt = append(c.id, d.ID), append(c.attempts, d.Attempts), append(c.state, string(d.State)), append(c.dueAt, d.DueAt)
	c.lastStatus, c.lastError, c.deadReason = append(c.lastStatus, d.LastStatus), append(c.lastError, d.LastError), append(c.deadReason, d.DeadReason)
	c.updatedAt, c.attempt, c.webhookID = append(c.updatedAt, d.UpdatedAt), append(c.attempt, ac.Attempt), append(c.webhookID, ac.WebhookID)
	c.companyID, c.eventName, c.workOrderID = append(c.companyID, ac.CompanyID), append(c.eventName, ac.EventName), append(c.workOrderID, ac.WorkOrderID)
	c.status, c.success, c.createdAt = append(c.status, ac.ResponseStatus), append(c.success, ac.Outcome == store.OutcomeSuccess), append(c.createdAt, ac.CreatedAt)
	c.doc, c.reqSize, c.respSize = append(c.doc, doc), append(c.reqSize, ac.RequestBodySize), append(c.respSize, ac.ResponseBodySize)
	c.holdsLane = append(c.holdsLane, d.HoldsLane && d.State == store.DeliveryDead)
	return nil
}

// args lists the arrays in the statement's order ($1..$19).
func (c *attemptColumns) args() []any {
	return []any{c.id, c.attempts, c.state, c.dueAt, c.lastStatus, c.lastError, c.deadReason, c.updatedAt,
		c.attempt, c.webhookID, c.companyID, c.eventName, c.workOrderID, c.status, c.success, c.createdAt,
		c.doc, c.reqSize, c.respSize}
}

func scanAttempt(r pgx.CollectableRow) (*store.Attempt, error) {
	var doc []byte
	if err := r.Scan(&doc); err != nil {
		return nil, err
	}
	var a store.Attempt
	if err := json.Unmarshal(doc, &a); err != nil {
		return nil, err
	}
	a.FillBodySizes() // rows written before sizes were kept hold whole bodies
	return &a, nil
}

// GetAttempt returns one attempt record.
func (s *Store) GetAttempt(ctx context.Context, deliveryID string, attempt int) (*store.Attempt, error) {
	if err := s.check(ctx); err != nil {
		return nil, err
	}
	rows, err := s.pool.Query(ctx, `SELECT doc FROM attempts WHERE delivery_id = $1 AND attempt = $2`, deliveryID, attempt)
	if err != nil {
		return nil, err
	}
	a, err := pgx.CollectExactlyOneRow(rows, scanAttempt)
	return a, notFound(err)
}

// ListAttempts returns the matching records, newest first unless
// OldestFirst, and how many match before paging.
func (s *Store) ListAttempts(ctx context.Context, f store.AttemptFilter) ([]*store.Attempt, int, error) {
	if err := s.check(ctx); err != nil {
		return nil, 0, err
	}
	where, args, err := attemptWhere(f)
	if err != nil {
		return nil, 0, err
	}
	var total int64
	if err := s.pool.QueryRow(ctx, `SELECT count(*) FROM attempts WHERE `+where, args...).Scan(&total); err != nil {
		return nil, 0, err
	}
	q := attemptQuery(f, where)
	if f.Limit > 0 {
		q += " LIMIT " + strconv.Itoa(f.Limit)
	}
	if f.Offset > 0 {
		q += " OFFSET " + strconv.Itoa(f.Offset)
	}
	rows, err := s.pool.Query(ctx, q, args...)
	if err != nil {
		return nil, 0, err
	}
	out, err := pgx.CollectRows(rows, scanAttempt)
	return out, int(total), err
}

// attemptQuery selects the records (summaries when f.Summaries) matching
// where, in ListAttempts' order.
func attemptQuery(f store.AttemptFilter, where string) string {
	order := "DESC"
	if f.OldestFirst {
		order = "ASC"
	}
	doc := "doc"
	if f.Summaries {
		doc = summaryDoc
	}
	return `SELECT ` + doc + ` FROM attempts WHERE ` + where +
		` ORDER BY created_at ` + order + `, delivery_id ` + order + `, attempt ` + order
}

// summaryDoc builds a record's JSON without its headers and bodies
// (store.AttemptDetail) on the server, so they never cross the wire. doc
// is parsed once, as json rather than jsonb, which refuses the \u0000 an
// error text may hold.
var summaryDoc = `(SELECT json_object_agg(e.key, e.value) FROM json_each(convert_from(doc, 'UTF8')::json) e
	WHERE e.key <> ALL ('{` + strings.Join(store.AttemptDetail, ",") + `}'::text[]))::text`

// WalkAttempts streams the matching summaries in ListAttempts' order: rows
// are read from the connection as fn takes them, never all at once.
func (s *Store) WalkAttempts(ctx context.Context, f store.AttemptFilter, fn func(*store.Attempt) bool) error {
	if err := s.check(ctx); err != nil {
		return err
	}
	where, args, err := attemptWhere(f)
	if err != nil {
		return err
	}
	f.Summaries = true
	rows, err := s.pool.Query(ctx, attemptQuery(f, where), args...)
	if err != nil {
		return err
	}
	defer rows.Close()
	for rows.Next() {
		a, err := scanAttempt(rows)
		if err != nil {
			return err
		}
		if !fn(a) {
			return nil
		}
	}
	return rows.Err()
}

// attemptWhere turns a filter into a WHERE clause with numbered arguments.
func attemptWhere(f store.AttemptFilter) (string, []any, error) {
	var conds []string
	var args []any
	add := func(cond string, v any) {
		args = append(args, v)
		conds = append(conds, strings.ReplaceAll(cond, "?", "$"+strconv.Itoa(len(args))))
	}
	if f.CompanyID != 0 {
		add("company_id = ?", f.CompanyID)
	}
	if f.WebhookID != "" {
		add("webhook_id = ?", f.WebhookID)
	}
	if f.DeliveryID != "" {
		id, n, err := store.ParseLogID(f.DeliveryID)
		if err != nil {
			return "", nil, err
		}
		add("delivery_id = ?", id)
		if n > 0 {
			add("attempt = ?", n)
		}
	}
	if f.EventName != "" {
		add("event_name = ?", f.EventName)
	}
	if f.WorkOrderID != 0 {
		add("work_order_id = ?", f.WorkOrderID)
	}
	if f.Status == -1 {
		conds = append(conds, "response_status = 0")
	} else if f.Status > 0 {
		add("response_status = ?", f.Status)
	}
	if !f.CreatedFrom.IsZero() {
		add("created_at >= ?", f.CreatedFrom)
	}
	if !f.CreatedTo.IsZero() {
		add("created_at <= ?", f.CreatedTo)
	}
	if len(conds) == 0 {
		return "true", nil, nil
	}
	return strings.Join(conds, " AND "), args, nil
}

// GetWebhookStats derives the rolling stats from the attempt rows: the last
// StatsWindow outcomes, the last success and the first attempt after it.
// Nothing is kept per webhook, so replicas recording attempts of one
// webhook never contend on a shared stats row.
func (s *Store) GetWebhookStats(ctx context.Context, webhookID string) (store.WebhookStats, error) {
	var st store.WebhookStats
	if err := s.check(ctx); err != nil {
		return st, err
	}
	rows, err := s.pool.Query(ctx, `SELECT success FROM attempts WHERE webhook_id = $1
		ORDER BY created_at DESC, delivery_id DESC, attempt DESC LIMIT $2`, webhookID, store.StatsWindow)
	if err != nil {
		return st, err
	}
	recent, err := pgx.CollectRows(rows, pgx.RowTo[bool])
	if err != nil || len(recent) == 0 {
		return st, err
	}
	for i, j := 0, len(recent)-1; i < j; i, j = i+1, j-1 {
		recent[i], recent[j] = recent[j], recent[i]
	}
	st.Recent = recent
	var last, first *time.Time
	err = s.pool.QueryRow(ctx, `SELECT (SELECT max(created_at) FROM attempts WHERE webhook_id = $1 AND success)`, webhookID).Scan(&last)
	if err != nil {
		return st, err
	}
	if last != nil {
		st.LastSuccessAt = *last
	}
	if recent[len(recent)-1] { // the last attempt succeeded: not failing
		return st, nil
	}
	err = s.pool.QueryRow(ctx, `SELECT min(created_at) FROM attempts WHERE webhook_id = $1 AND created_at > $2`,
		webhookID, st.LastSuccessAt).Scan(&first)
	if err == nil && first != nil {
		st.FailingSince = *first
	}
	return st, err
}
