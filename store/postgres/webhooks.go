package postgres

import (
	"context"
	"encoding/json"
	"errors"

	"github.com/jackc/pgx/v5"

	"github.com/hookgate/hookgate/store"
)

// PutWebhook creates or replaces a webhook, with one history entry.
func (s *Store) PutWebhook(ctx context.Context, w *store.Webhook, hist *store.HistoryEntry) error {
	var hs []*store.HistoryEntry
	if hist != nil {
		hs = []*store.HistoryEntry{hist}
	}
	return s.PutWebhookChanges(ctx, w, hs)
}

// PutWebhookChanges creates or replaces a webhook by WebhookID and appends
// the history entries, in one transaction. A new webhook gets the next id;
// a replaced one keeps its stored id. The ids are written back into w and
// the entries.
func (s *Store) PutWebhookChanges(ctx context.Context, w *store.Webhook, hist []*store.HistoryEntry) error {
	if err := s.check(ctx); err != nil {
		return err
	}
	if w == nil || w.WebhookID == "" {
		return errors.New("store: webhook without webhook id")
	}
	c := *w
	ids := make([]int64, len(hist))
	err := pgx.BeginFunc(ctx, s.pool, func(tx pgx.Tx) error {
		var old int64
		err := tx.QueryRow(ctx, `SELECT id FROM webhooks WHERE webhook_id = $1 FOR UPDATE`, c.WebhookID).Scan(&old)
		if err != nil && !errors.Is(err, pgx.ErrNoRows) {
			return err
		}
		if c.ID == 0 {
			c.ID = old
		}
		if c.ID == 0 {
			if err := tx.QueryRow(ctx, `SELECT nextval('webhook_ids')`).Scan(&c.ID); err != nil {
				return err
			}
		}
		doc, err := store.EncodeWebhook(s.sealer, &c)
		if err != nil {
			return err
		}
		if _, err := tx.Exec(ctx, `INSERT INTO webhooks (webhook_id, id, company_id, status, doc) VALUES ($1, $2, $3, $4, $5)
			ON CONFLICT (webhook_id) DO UPDATE SET id = EXCLUDED.id, company_id = EXCLUDED.company_id,
			status = EXCLUDED.status, doc = EXCLUDED.doc`, c.WebhookID, c.ID, c.CompanyID, c.Status, doc); err != nil {
			return err
		}
		for i, h := range hist {
			if h != nil {
				if ids[i], err = s.appendHistory(ctx, tx, h, c.WebhookID, c.CompanyID); err != nil {
					return err
				}
			}
		}
		return nil
	})
	if err != nil {
		return err
	}
	w.ID = c.ID
	for i, h := range hist {
		if h != nil {
			h.ID = ids[i]
		}
	}
	return nil
}

// appendHistory inserts one entry for the webhook and returns its id.
func (s *Store) appendHistory(ctx context.Context, tx pgx.Tx, h *store.HistoryEntry, webhookID string, company int64) (int64, error) {
	c := *h
	c.WebhookID, c.CompanyID = webhookID, company
	if c.CreatedAt.IsZero() {
		c.CreatedAt = s.now()
	}
	var id int64
	if err := tx.QueryRow(ctx, `SELECT nextval(pg_get_serial_sequence('history', 'id'))`).Scan(&id); err != nil {
		return 0, err
	}
	c.ID = id
	doc, err := json.Marshal(&c)
	if err != nil {
		return 0, err
	}
	_, err = tx.Exec(ctx, `INSERT INTO history (id, webhook_id, created_at, doc) VALUES ($1, $2, $3, $4)`, id, webhookID, c.CreatedAt, doc)
	return id, err
}

// DeleteWebhook removes the webhook; its deliveries, logs and history stay.
func (s *Store) DeleteWebhook(ctx context.Context, webhookID string, hist *store.HistoryEntry) error {
	if err := s.check(ctx); err != nil {
		return err
	}
	return pgx.BeginFunc(ctx, s.pool, func(tx pgx.Tx) error {
		var company int64
		err := tx.QueryRow(ctx, `DELETE FROM webhooks WHERE webhook_id = $1 RETURNING company_id`, webhookID).Scan(&company)
		if err != nil {
			return notFound(err)
		}
		if hist != nil {
			id, err := s.appendHistory(ctx, tx, hist, webhookID, company)
			if err != nil {
				return err
			}
			hist.ID = id
		}
		return nil
	})
}

// GetWebhook returns one webhook.
func (s *Store) GetWebhook(ctx context.Context, webhookID string) (*store.Webhook, error) {
	if err := s.check(ctx); err != nil {
		return nil, err
	}
	var doc []byte
	if err := s.pool.QueryRow(ctx, `SELECT doc FROM webhooks WHERE webhook_id = $1`, webhookID).Scan(&doc); err != nil {
		return nil, notFound(err)
	}
	w, _, err := store.DecodeWebhook(s.sealer, doc)
	return w, err
}

// ListWebhooks returns the matching webhooks by id.
func (s *Store) ListWebhooks(ctx context.Context, f store.WebhookFilter) ([]*store.Webhook, error) {
	if err := s.check(ctx); err != nil {
		return nil, err
	}
	rows, err := s.pool.Query(ctx, `SELECT doc FROM webhooks
		WHERE ($1 = 0 OR company_id = $1) AND ($2 = '' OR status = $2) AND ($3 = '' OR doc->'events' ? $3)
		ORDER BY id`, f.CompanyID, f.Status, f.Event)
	if err != nil {
		return nil, err
	}
	return pgx.CollectRows(rows, func(r pgx.CollectableRow) (*store.Webhook, error) {
		var doc []byte
		if err := r.Scan(&doc); err != nil {
			return nil, err
		}
		w, _, err := store.DecodeWebhook(s.sealer, doc)
		return w, err
	})
}

// ListHistory returns a webhook's changes, oldest first.
func (s *Store) ListHistory(ctx context.Context, webhookID string) ([]*store.HistoryEntry, error) {
	if err := s.check(ctx); err != nil {
		return nil, err
	}
	rows, err := s.pool.Query(ctx, `SELECT doc FROM history WHERE webhook_id = $1 ORDER BY id`, webhookID)
	if err != nil {
		return nil, err
	}
	return pgx.CollectRows(rows, func(r pgx.CollectableRow) (*store.HistoryEntry, error) {
		var doc []byte
		if err := r.Scan(&doc); err != nil {
			return nil, err
		}
		var h store.HistoryEntry
		return &h, json.Unmarshal(doc, &h)
	})
}
