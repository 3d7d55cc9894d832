package badger

import (
	"context"
	"errors"

	"github.com/hookgate/hookgate/store"
)

// PutWebhookChanges creates or replaces a webhook and appends every entry of
// hist, in one transaction of the commit group: an update that changes the
// URL and the events records url_changed and events_updated together or not
// at all. IDs are assigned as PutWebhook does; each entry's ID is set.
func (s *Store) PutWebhookChanges(ctx context.Context, w *store.Webhook, hist []*store.HistoryEntry) error {
	if w == nil || w.WebhookID == "" {
		return errors.New("store: webhook without webhook id")
	}
	c := *w
	hs := make([]*store.HistoryEntry, 0, len(hist))
	size := 2048
	for _, h := range hist {
		if h != nil {
			hs = append(hs, copyHistory(h, c.WebhookID, c.CompanyID))
			size += 512
		}
	}
	err := s.submit(ctx, size, func(t *wtx) error {
		old, err := s.getWebhook(t.txn, c.WebhookID)
		found := err == nil
		if err != nil && !errors.Is(err, store.ErrNotFound) {
			return err
		}
		if c.ID == 0 && found {
			c.ID = old.ID
		}
		if c.ID == 0 {
			if c.ID, err = s.nextID(s.webhookSeq); err != nil {
				return err
			}
		}
		if found && old.CompanyID != c.CompanyID {
			if err := t.del(webhookCoKey(old.CompanyID, old.WebhookID)); err != nil {
				return err
			}
		}
		v, err := store.EncodeWebhook(s.sealer, &c)
		if err != nil {
			return err
		}
		if err := errors.Join(t.set(webhookKey(c.WebhookID), v), t.set(webhookCoKey(c.CompanyID, c.WebhookID), nil)); err != nil {
			return err
		}
		for _, h := range hs {
			if err := t.appendHistory(h); err != nil {
				return err
			}
		}
		return nil
	})
	if err != nil {
		return err
	}
	w.ID = c.ID
	i := 0
	for _, h := range hist {
		if h != nil {
			h.ID = hs[i].ID
			i++
		}
	}
	return nil
}
