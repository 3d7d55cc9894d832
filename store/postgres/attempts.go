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

// RecordAttempt stores the attempt record and the delivery's new state in
// one transaction and ends this process's lease on it.
//
// Should the lease have expired and another replica claimed the delivery
// meanwhile (this one stalled past the lease), the attempt is still logged
// (it happened) but the delivery is left to its new owner, which will
// record its own outcome.
func (s *Store) RecordAttempt(ctx context.Context, d *store.Delivery, a *store.Attempt) error {
	if err := store.CheckAttempt(d, a); err != nil {
		return err
	}
	if err := s.check(ctx); err != nil {
		return err
	}
	ac := *a
	ac.DeliveryID = d.ID
	ac.FillBodySizes()
	if ac.CreatedAt.IsZero() {
		ac.CreatedAt = s.now()
	}
	if ac.WebhookID == "" {
		ac.WebhookID = d.WebhookID
	}
	doc, err := json.Marshal(&ac)
	if err != nil {
		return err
	}
	// One statement, so one round trip and one implicit transaction: lock
	// the delivery, move it on unless another replica now holds it, and
	// log the attempt either way.
	var lost bool
	err = s.pool.QueryRow(ctx, `WITH cur AS (
			SELECT webhook_id, (state = 'inflight' AND lease_owner IS NOT NULL AND lease_owner <> $9) AS lost
			FROM deliveries WHERE id = $1 FOR UPDATE),
		upd AS (
			UPDATE deliveries d SET attempts = $2, state = $3, due_at = $4, last_status = $5, last_error = $6,
				dead_reason = $7, updated_at = $8, lease_owner = NULL, lease_until = NULL
			FROM cur WHERE d.id = $1 AND NOT cur.lost RETURNING d.id),
		ins AS (
			INSERT INTO attempts (delivery_id, attempt, webhook_id, company_id, event_name, work_order_id,
				response_status, success, created_at, doc, request_body_size, response_body_size)
			SELECT $1, $10, coalesce(nullif($11, ''), cur.webhook_id), $12, $13, $14, $15, $16, $17, $18, $19, $20 FROM cur
			ON CONFLICT (delivery_id, attempt) DO UPDATE SET webhook_id = EXCLUDED.webhook_id,
				company_id = EXCLUDED.company_id, event_name = EXCLUDED.event_name,
				work_order_id = EXCLUDED.work_order_id, response_status = EXCLUDED.response_status,
				success = EXCLUDED.success, created_at = EXCLUDED.created_at, doc = EXCLUDED.doc,
				request_body_size = EXCLUDED.request_body_size, response_body_size = EXCLUDED.response_body_size
			RETURNING 1)
		SELECT cur.lost FROM cur`,
		d.ID, d.Attempts, d.State, d.DueAt, d.LastStatus, d.LastError, d.DeadReason, d.UpdatedAt, s.owner,
		ac.Attempt, ac.WebhookID, ac.CompanyID, ac.EventName, ac.WorkOrderID, ac.ResponseStatus,
		ac.Outcome == store.OutcomeSuccess, ac.CreatedAt, doc, ac.RequestBodySize, ac.ResponseBodySize).Scan(&lost)
	if err != nil {
		return fmt.Errorf("store: record attempt %s: %w", d.ID, notFound(err))
	}
	if lost {
		s.log.Warn("recorded an attempt after this replica's lease expired; the delivery's new owner decides its state",
			"delivery", d.ID, "attempt", ac.Attempt)
	}
	return nil
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
