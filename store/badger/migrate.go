package badger

import (
	"bytes"
	"encoding/binary"
	"errors"
	"fmt"

	badger "github.com/dgraph-io/badger/v4"

	"github.com/hookgate/hookgate/store"
)

// The on-disk format. Records carry their own versions (codec.go); this
// number covers the key layout, and Open brings an older one up to date
// before anything else reads or writes.
//
//	2 (no marker): deliveries indexed by webhook in every state (D/ buckets
//	  o, s, x); attempts indexed by company (A/) and by webhook (B/).
//	3: only dead deliveries are indexed by webhook; attempts by company
//	  only (webhook queries filter it); one expiry block per commit group
//	  (X/<expires8><seq8>, named by the events' x/ markers). Open deletes
//	  the o and s index keys: open ones never expire. B/ and s keys expire
//	  by their TTL; format-2 expiry keys are swept and stopped as before.
//	4: only a lane's head is queued: a pending delivery behind it has no
//	  q/ key and carries laneWaiting (lanes.go). Open takes the q/ keys of
//	  the tails a format-3 store queued. A format-3 build would never send
//	  a waiting delivery, hence the number.
//	5: a finished sole delivery's record holds its event's retention clock
//	  (codec.go, eventClock) instead of the event's x/ marker. Nothing to
//	  rewrite: x/ markers of format 3 and 4 are still read and stopped; the
//	  number keeps builds that read up to 4 from misreading such a record.
//	6: a queued delivery's d/ value is a reference to its q/ key (codec.go,
//	  recordQueued), whose value is the record, instead of a second copy of
//	  it: a bulk publish writes a third fewer bytes to the LSM. Nothing to
//	  rewrite: a d/ record of format 5 is still read as it is, and becomes
//	  a reference the next time its delivery is queued; the number keeps
//	  builds that read up to 5 from misreading a reference.
//	7: a delivery queued by ingest under an id that says where
//	  (store.NewDeliveryID: its priority and due time) has no d/ key until
//	  it first moves; a lookup by id that finds none reads the q/ key the
//	  id names (carriedRef), and a scan of the d/ keys also walks the
//	  queue for them (scanCarried). Nothing to rewrite; the number keeps
//	  builds that read up to 6 from taking such a delivery for missing.
//	8: an attempt's record is under its company key (A/, with the fields
//	  listings filter on after the ref) instead of an a/ key plus an index
//	  value under A/: one key per attempt. The delivery's record holds the
//	  times of its attempts (attemptTimes), from which a read by id builds
//	  the key. Nothing to rewrite: an A/ key ending at the ref is an index
//	  value whose record is under a/, read as before until both expire;
//	  the number keeps builds that read up to 7 from missing every attempt
//	  logged since.
const currentFormat = 8

var keyFormat = []byte("c\x00format")

// migrateChunk is how many keys one migration step deletes.
const migrateChunk = 10000

// migrate brings the store's format up to currentFormat. Each step is
// safe to run again should the process stop half way: the version is
// written last.
func (s *Store) migrate() error {
	format, err := s.readFormat()
	if err != nil {
		return err
	}
	switch {
	case format == currentFormat:
		return nil
	case format > currentFormat:
		return fmt.Errorf("store: the data folder has format %d, written by a newer hookgate (this one reads up to %d)", format, currentFormat)
	}
	if format < 3 {
		n, err := s.deleteKeys([]byte(pDelByHook), func(k []byte) bool {
			i := bytes.IndexByte(k[len(pDelByHook):], 0)
			if i < 0 || len(pDelByHook)+i+1 >= len(k) {
				return false
			}
			b := k[len(pDelByHook)+i+1]
			return b == bucketOpen || b == bucketSucceeded
		})
		if err != nil {
			return fmt.Errorf("store: migrating to format 3: %w", err)
		}
		if n > 0 {
			s.log.Info("store: data folder migrated", "format", 3, "index keys deleted", n)
		}
	}
	if format >= 4 {
		return s.writeFormat()
	}
	n, err := s.unqueueLaneTails()
	if err != nil {
		return fmt.Errorf("store: migrating to format 4: %w", err)
	}
	if n > 0 {
		s.log.Info("store: data folder migrated", "format", 4, "lane tails taken from the queue", n)
	}
	return s.writeFormat()
}

// writeFormat records currentFormat: the last step of a migration.
func (s *Store) writeFormat() error {
	if err := s.db.Update(func(txn *badger.Txn) error {
		return txn.Set(keyFormat, binary.AppendUvarint(nil, currentFormat))
	}); err != nil {
		return fmt.Errorf("store: migrating to format %d: %w", currentFormat, err)
	}
	return nil
}

// unqueueLaneTails takes every pending delivery that is not its lane's
// head out of the queue (format 3 queued them all): its q/ key goes, its
// record gets laneWaiting. The queue depth is unchanged (it counts every
// pending delivery). Safe to run again: a waiting record is left alone.
func (s *Store) unqueueLaneTails() (int, error) {
	var tails []string
	err := s.db.View(func(txn *badger.Txn) error {
		it := txn.NewIterator(badger.IteratorOptions{Prefix: []byte(pLane), PrefetchValues: true})
		defer it.Close()
		var lane []byte
		for it.Rewind(); it.Valid(); it.Next() {
			k := it.Item().Key()
			if len(k) < len(pLane)+16 {
				continue
			}
			if lk := k[:len(k)-8]; bytes.Equal(lk, lane) {
				id, err := it.Item().ValueCopy(nil)
				if err != nil {
					return err
				}
				tails = append(tails, string(id))
			} else {
				lane = append(lane[:0], lk...) // its head: stays queued
			}
		}
		return nil
	})
	if err != nil {
		return 0, err
	}
	n := 0
	for len(tails) > 0 {
		part := tails[:min(len(tails), bulkChunk)]
		tails = tails[len(part):]
		err := s.db.Update(func(txn *badger.Txn) error {
			for _, id := range part {
				d, flags, err := getDeliveryRec(txn, id)
				if errors.Is(err, store.ErrNotFound) {
					continue
				}
				if err != nil {
					return err
				}
				if d.State != store.DeliveryPending || flags&laneWaiting != 0 {
					continue
				}
				if err := errors.Join(txn.Delete(queueKey(d.Priority, d.DueAt, d.ID)),
					txn.Set(deliveryKey(d.ID), encodeDelivery(d, flags|laneWaiting))); err != nil {
					return err
				}
				n++
			}
			return nil
		})
		if err != nil {
			return n, err
		}
	}
	return n, nil
}

// readFormat returns the stored format, 2 when there is no marker.
func (s *Store) readFormat() (uint64, error) {
	var format uint64 = 2
	err := s.db.View(func(txn *badger.Txn) error {
		v, err := getValue(txn, keyFormat)
		if err != nil {
			return ignoreNotFound(err)
		}
		f, k := binary.Uvarint(v)
		if k <= 0 {
			return errors.New("store: corrupt format marker")
		}
		format = f
		return nil
	})
	return format, err
}

// deleteKeys deletes every key with prefix that drop selects, a chunk at a
// time, and returns how many it deleted.
func (s *Store) deleteKeys(prefix []byte, drop func(k []byte) bool) (int, error) {
	total := 0
	seek := prefix
	for {
		var keys [][]byte
		scanned := 0
		err := s.db.View(func(txn *badger.Txn) error {
			it := txn.NewIterator(badger.IteratorOptions{Prefix: prefix})
			defer it.Close()
			for it.Seek(seek); it.Valid() && scanned < migrateChunk; it.Next() {
				k := it.Item().Key()
				scanned++
				seek = append(append(seek[:0:0], k...), 0)
				if drop(k) {
					keys = append(keys, it.Item().KeyCopy(nil))
				}
			}
			return nil
		})
		if err != nil {
			return total, err
		}
		if len(keys) > 0 {
			wb := s.db.NewWriteBatch()
			for _, k := range keys {
				if err := wb.Delete(k); err != nil {
					wb.Cancel()
					return total, err
				}
			}
			if err := wb.Flush(); err != nil {
				return total, err
			}
			total += len(keys)
		}
		if scanned < migrateChunk {
			return total, nil
		}
	}
}
