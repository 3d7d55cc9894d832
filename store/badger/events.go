package badger

import (
	"context"
	"errors"
	"slices"

	"github.com/dgraph-io/badger/v4"

	"github.com/hookgate/hookgate/store"
)

// GetEvents reads many events in one read transaction, in key order: the
// dispatcher's batch of a claim pays one snapshot, not one per event.
func (s *Store) GetEvents(ctx context.Context, eventIDs []string) (map[string]*store.Event, error) {
	out := make(map[string]*store.Event, len(eventIDs))
	if len(eventIDs) == 0 {
		return out, ctx.Err()
	}
	ids := slices.Clone(eventIDs)
	slices.Sort(ids)
	ids = slices.Compact(ids)
	err := s.view(ctx, func(txn *badger.Txn) error {
		for _, id := range ids {
			ev, err := readEvent(txn, id)
			if errors.Is(err, store.ErrNotFound) {
				continue
			}
			if err != nil {
				return err
			}
			out[id] = ev
		}
		return nil
	})
	return out, err
}
