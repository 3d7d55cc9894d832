package badger

import (
	"context"
	"encoding/binary"
	"errors"
	"fmt"

	badger "github.com/dgraph-io/badger/v4"

	"github.com/hookgate/hookgate/store"
)

// Stored bytes per company (the stored-bytes quota, docs/storage.md).
//
// The store counts, per company, the payload bytes of the events it holds:
// ingest adds an event's payload, the sweep that deletes the event takes it
// off. The counters live in memory and are written under u/<company8> by
// the same transaction as the change, the way the queue depth is, so
// reading one is a map lookup. A data folder from an older build has none:
// its events are counted once at open (those still carrying a TTL from an
// older build expire by themselves and are left out).

var _ store.UsageCounter = (*Store)(nil)

// keyUsageCounted is present once the u/ counters cover every event.
var keyUsageCounted = []byte("c\x00usage")

func usageKey(company int64) []byte { return key([]byte(pUsage), u64(uint64(company))) }

// StoredBytes returns the bytes of event payloads the store holds for the
// company.
func (s *Store) StoredBytes(ctx context.Context, companyID int64) (int64, error) {
	if err := ctx.Err(); err != nil {
		return 0, err
	}
	s.usageMu.Lock()
	defer s.usageMu.Unlock()
	return s.usage[companyID], nil
}

// countEvent counts n more bytes (fewer when negative) for company in this
// group's transaction.
func (w *wtx) countEvent(company, n int64) {
	if w.usage == nil {
		w.usage = map[int64]int64{}
	}
	w.usage[company] += n
}

// uncountEvent takes the event stored under k off its company's bytes,
// before the group deletes it.
func (w *wtx) uncountEvent(k []byte) error {
	v, err := getValue(w.txn, k)
	if errors.Is(err, store.ErrNotFound) {
		return nil
	}
	if err != nil {
		return err
	}
	company, n, err := eventUsage(v)
	if err != nil {
		return fmt.Errorf("store: event %s: %w", k[len(pEvent):], err)
	}
	w.countEvent(company, -n)
	return nil
}

// writeUsage writes the counters this group changed, and returns them for
// publishUsage once the transaction has committed. Only the committer
// changes s.usage, so the values read here are current.
func (w *wtx) writeUsage() (map[int64]int64, error) {
	if len(w.usage) == 0 {
		return nil, nil
	}
	next := make(map[int64]int64, len(w.usage))
	w.s.usageMu.Lock()
	for co, n := range w.usage {
		next[co] = max(0, w.s.usage[co]+n)
	}
	w.s.usageMu.Unlock()
	for co, n := range next {
		var err error
		if n == 0 {
			err = w.del(usageKey(co))
		} else {
			err = w.set(usageKey(co), binary.AppendUvarint(nil, uint64(n)))
		}
		if err != nil {
			return nil, err
		}
	}
	return next, nil
}

func (s *Store) publishUsage(next map[int64]int64) {
	if len(next) == 0 {
		return
	}
	s.usageMu.Lock()
	defer s.usageMu.Unlock()
	for co, n := range next {
		if n == 0 {
			delete(s.usage, co)
		} else {
			s.usage[co] = n
		}
	}
}

// loadUsage reads the counters, counting every event once when the data
// folder predates them. It runs at open, before the committer starts.
func (s *Store) loadUsage() error {
	s.usage = map[int64]int64{}
	counted := false
	err := s.db.View(func(txn *badger.Txn) error {
		if _, err := txn.Get(keyUsageCounted); err == nil {
			counted = true
		} else if !errors.Is(err, badger.ErrKeyNotFound) {
			return err
		}
		prefix := []byte(pUsage)
		if !counted {
			prefix = []byte(pEvent)
		}
		it := txn.NewIterator(badger.IteratorOptions{Prefix: prefix, PrefetchValues: false})
		defer it.Close()
		for it.Rewind(); it.Valid(); it.Next() {
			item := it.Item()
			if counted {
				n, err := item.ValueCopy(nil)
				if err != nil {
					return err
				}
				v, k := binary.Uvarint(n)
				if k <= 0 {
					return fmt.Errorf("store: stored-bytes counter %x: %w", item.Key(), errCorrupt)
				}
				s.usage[int64(binary.BigEndian.Uint64(item.Key()[len(pUsage):]))] = int64(v)
				continue
			}
			if item.ExpiresAt() != 0 {
				continue // an older build's TTL deletes it, uncounted
			}
			if err := item.Value(func(v []byte) error {
				company, n, err := eventUsage(v)
				s.usage[company] += n
				return err
			}); err != nil {
				return fmt.Errorf("store: counting stored bytes of event %s: %w", item.Key()[len(pEvent):], err)
			}
		}
		return nil
	})
	if err != nil || counted {
		return err
	}
	return s.db.Update(func(txn *badger.Txn) error {
		for co, n := range s.usage {
			if err := txn.Set(usageKey(co), binary.AppendUvarint(nil, uint64(n))); err != nil {
				return err
			}
		}
		return txn.Set(keyUsageCounted, nil)
	})
}
