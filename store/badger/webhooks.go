package badger

import (
	"cmp"
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"slices"

	badger "github.com/dgraph-io/badger/v4"

	"github.com/hookgate/hookgate/store"
)

// PutWebhook creates or replaces a webhook by WebhookID and appends hist.
// When w.ID is zero it keeps the stored webhook's ID or takes the next
// sequence number, and sets w.ID. Version is the caller's business.
func (s *Store) PutWebhook(ctx context.Context, w *store.Webhook, hist *store.HistoryEntry) error {
	return s.PutWebhookChanges(ctx, w, []*store.HistoryEntry{hist})
}

// DeleteWebhook removes the webhook, its company index and its stats. Its
// deliveries, attempt logs and history stay. ErrNotFound when unknown.
func (s *Store) DeleteWebhook(ctx context.Context, webhookID string, hist *store.HistoryEntry) error {
	var h *store.HistoryEntry
	err := s.submit(ctx, 1024, func(t *wtx) error {
		old, err := s.getWebhook(t.txn, webhookID)
		if err != nil {
			return err
		}
		h = copyHistory(hist, old.WebhookID, old.CompanyID)
		if err := errors.Join(t.del(webhookKey(webhookID)), t.del(webhookCoKey(old.CompanyID, webhookID)),
			t.del(statsKey(webhookID))); err != nil {
			return err
		}
		return t.appendHistory(h)
	})
	if err == nil && hist != nil {
		hist.ID = h.ID
	}
	return err
}

// copyHistory returns a copy of hist with the webhook's ids filled in, so the
// committer never writes to caller memory.
func copyHistory(hist *store.HistoryEntry, webhookID string, company int64) *store.HistoryEntry {
	if hist == nil {
		return nil
	}
	h := *hist
	if h.WebhookID == "" {
		h.WebhookID = webhookID
	}
	if h.CompanyID == 0 {
		h.CompanyID = company
	}
	return &h
}

// appendHistory writes h with the next history id (kept across re-runs of
// the group: an id once taken is reused, so ids only increase).
func (t *wtx) appendHistory(h *store.HistoryEntry) error {
	if h == nil {
		return nil
	}
	if h.CreatedAt.IsZero() {
		h.CreatedAt = t.s.now()
	}
	if h.ID == 0 {
		id, err := t.s.nextID(t.s.historySeq)
		if err != nil {
			return err
		}
		h.ID = id
	}
	v, err := json.Marshal(h)
	if err != nil {
		return err
	}
	return t.set(historyKey(h.WebhookID, h.ID), v)
}

// nextID returns the next value of seq, skipping badger's initial 0.
func (s *Store) nextID(seq *badger.Sequence) (int64, error) {
	for {
		n, err := seq.Next()
		if err == nil && s.syncDelay > 0 {
			// A lease badger wrote outside the committer must be durable
			// before any id from it is: an id handed out again after a
			// power loss would overwrite a record (commit.go, "Outcomes").
			err = s.syncAll()
		}
		if err != nil {
			return 0, fmt.Errorf("store: sequence: %w", err)
		}
		if n > 0 {
			return int64(n), nil
		}
	}
}

// GetWebhook returns one webhook.
func (s *Store) GetWebhook(ctx context.Context, webhookID string) (*store.Webhook, error) {
	var w *store.Webhook
	err := s.view(ctx, func(txn *badger.Txn) error {
		var err error
		w, err = s.getWebhook(txn, webhookID)
		return err
	})
	if err != nil {
		return nil, err
	}
	return w, nil
}

// ListWebhooks returns the matching webhooks ordered by ID. With a company
// it reads only that company's index.
func (s *Store) ListWebhooks(ctx context.Context, f store.WebhookFilter) ([]*store.Webhook, error) {
	var out []*store.Webhook
	keep := func(w *store.Webhook) {
		if (f.Status == "" || w.Status == f.Status) && (f.Event == "" || slices.Contains(w.Events, f.Event)) {
			out = append(out, w)
		}
	}
	err := s.view(ctx, func(txn *badger.Txn) error {
		if f.CompanyID != 0 {
			prefix := webhookCoPrefix(f.CompanyID)
			it := txn.NewIterator(badger.IteratorOptions{Prefix: prefix})
			defer it.Close()
			for it.Rewind(); it.Valid(); it.Next() {
				w, err := s.getWebhook(txn, string(it.Item().Key()[len(prefix):]))
				if errors.Is(err, store.ErrNotFound) {
					continue
				}
				if err != nil {
					return err
				}
				keep(w)
			}
			return nil
		}
		return s.eachWebhook(txn, func(_ []byte, w *store.Webhook, _ string) error {
			keep(w)
			return nil
		})
	})
	slices.SortFunc(out, func(a, b *store.Webhook) int { return cmp.Compare(a.ID, b.ID) })
	return out, err
}

// eachWebhook calls fn with every stored webhook, its key (valid during
// the call only) and the id of the key it is sealed with.
func (s *Store) eachWebhook(txn *badger.Txn, fn func(key []byte, w *store.Webhook, keyID string) error) error {
	opts := badger.DefaultIteratorOptions
	opts.Prefix = []byte(pWebhook)
	it := txn.NewIterator(opts)
	defer it.Close()
	for it.Rewind(); it.Valid(); it.Next() {
		var w *store.Webhook
		var keyID string
		if err := it.Item().Value(func(v []byte) error {
			var err error
			w, keyID, err = store.DecodeWebhook(s.sealer, v)
			return err
		}); err != nil {
			return err
		}
		if err := fn(it.Item().Key(), w, keyID); err != nil {
			return err
		}
	}
	return nil
}

// ListHistory returns a webhook's history, oldest first (ids increase).
// It outlives the webhook.
func (s *Store) ListHistory(ctx context.Context, webhookID string) ([]*store.HistoryEntry, error) {
	var out []*store.HistoryEntry
	err := s.view(ctx, func(txn *badger.Txn) error {
		opts := badger.DefaultIteratorOptions
		opts.Prefix = historyPrefix(webhookID)
		it := txn.NewIterator(opts)
		defer it.Close()
		for it.Rewind(); it.Valid(); it.Next() {
			var h store.HistoryEntry
			if err := it.Item().Value(func(v []byte) error { return json.Unmarshal(v, &h) }); err != nil {
				return err
			}
			out = append(out, &h)
		}
		return nil
	})
	return out, err
}

// Meta returns the value stored under name, creating it with gen() the first
// time. gen runs outside the commit group; if two callers race, the first
// value committed wins and both return it.
func (s *Store) Meta(ctx context.Context, name string, gen func() ([]byte, error)) ([]byte, error) {
	var v []byte
	err := s.view(ctx, func(txn *badger.Txn) error {
		var err error
		v, err = getValue(txn, metaKey(name))
		return err
	})
	if err == nil {
		return s.openMeta(name, v) // secrets.go: meta values are keys, sealed at rest
	}
	if !errors.Is(err, store.ErrNotFound) {
		return nil, err
	}
	fresh, err := gen()
	if err != nil {
		return nil, err
	}
	fresh = append([]byte(nil), fresh...)
	stored, err := s.sealMeta(name, fresh)
	if err != nil {
		return nil, err
	}
	err = s.submit(ctx, len(stored)+64, func(t *wtx) error {
		old, err := getValue(t.txn, metaKey(name))
		if err == nil {
			v, err = s.openMeta(name, old)
			return err
		}
		if !errors.Is(err, store.ErrNotFound) {
			return err
		}
		v = fresh
		return t.set(metaKey(name), stored)
	})
	return v, err
}
