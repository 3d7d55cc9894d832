package badger

import (
	"bytes"
	"context"
	"encoding/binary"
	"errors"
	"fmt"
	"math"
	"sort"
	"time"

	badger "github.com/dgraph-io/badger/v4"

	"github.com/hookgate/hookgate/store"
)

// bulkChunk bounds how many deliveries one transaction of a bulk change
// (ReleaseInFlight, DeadLetterPending) moves, to stay under badger's
// transaction size limit; each chunk is atomic and durable.
const bulkChunk = 500

// ClaimDue hands out up to limit due deliveries of one priority, earliest
// due first, and remembers them as claimed (in memory: see claimSet). It
// never returns a claimed delivery again until its attempt is recorded.
func (s *Store) ClaimDue(ctx context.Context, priority int, now time.Time, limit int) ([]*store.Delivery, error) {
	return s.ClaimDueFunc(ctx, priority, now, limit, store.ClaimFilter{})
}

// maxSkipPerClaim bounds how many due deliveries one claim may read and
// pass over because the filter refused them, and maxMemoSkipPerClaim how
// many it may pass over by key alone (refused before, webhook still
// blocked), so a long run of deliveries of webhooks at their limit costs a
// bounded scan, not one proportional to the backlog.
const (
	maxSkipPerClaim     = 4096
	maxMemoSkipPerClaim = 65536
)

var _ store.FilteredClaimer = (*Store)(nil)

// ClaimDueFunc is ClaimDue that passes over (leaves queued, unclaimed)
// every delivery the filter refuses, remembering what refused it (its
// webhook or its company) so the next scans skip it by key while that stays
// blocked. The filter is called
// with the claim lock held and must not call the store.
func (s *Store) ClaimDueFunc(ctx context.Context, priority int, now time.Time, limit int, f store.ClaimFilter) ([]*store.Delivery, error) {
	if !validPriority(priority) {
		return nil, fmt.Errorf("store: priority %d out of range 0..2", priority)
	}
	if limit <= 0 {
		return nil, nil
	}
	if err := ctx.Err(); err != nil {
		return nil, err
	}
	s.mu.RLock() // as view: no snapshot after Close
	defer s.mu.RUnlock()
	if s.closed {
		return nil, store.ErrClosed
	}
	c := &s.claims
	// Before c.mu: the committer holds the gate while it takes c.mu.
	s.syncGate.RLock()
	// Held across the snapshot so a commit that enqueues an earlier key
	// lowers the hint only after this scan has moved it (see beginEnqueue).
	c.mu.Lock()
	defer c.mu.Unlock()
	// Read before the snapshot: a change committed after it moves the
	// epoch past this value (see claim.rec).
	epoch := s.epoch.Load()
	txn := s.db.NewTransaction(false)
	s.syncGate.RUnlock()
	defer txn.Discard()
	return s.claimIn(txn, priority, timeKey(now), limit, f, epoch)
}

// claimIn scans the queue of one priority from its hint and stops at the
// first key due after now: a bounded scan whatever the queue length.
// c.mu is held.
//
// The hint moves to the first key this scan leaves claimable, past the
// claimed keys before it: a claimed key never becomes claimable again in
// place. Its attempt is recorded in a group that deletes it (a retry is a
// new key, which the group's enqueue lowers the hint to) and releases the
// claim in the same step as that lowering (claimSet.committed), or
// ReleaseInFlight resets the hint. So a claim does not walk over every
// delivery in flight.
//
// With a filter, the scan also passes over remembered runs of refused keys
// whose blockers (webhooks, companies) are all still blocked in one seek,
// and remembers the runs it passes over (claimruns.go). A skipped
// run holds the hint at or below the first key of it the scan reached.
func (s *Store) claimIn(txn *badger.Txn, prio int, nowK uint64, limit int, f store.ClaimFilter, epoch uint64) ([]*store.Delivery, error) {
	c := &s.claims
	prefix := queuePrefix(prio)
	it := txn.NewIterator(badger.IteratorOptions{Prefix: prefix})
	defer it.Close()
	var rs *runScan // nil without Blocked*: runs cannot be skipped or built
	if f.Blocked != nil || f.BlockedCompany != nil {
		c.pruneRuns(prio)
		rs = &runScan{runs: c.runs[prio]}
	}
	gate := laneGate{txn: txn}
	defer gate.close()
	var out []*store.Delivery
	var scanErr error
	hint := uint64(math.MaxUint64) // due of the first key left claimable
	last := c.hint[prio]           // due of the last key passed
	skipped, memoSkipped := 0, 0
	var seekTo []byte // set to seek there instead of stepping to the next key
	advance := func() {
		if seekTo != nil {
			it.Seek(seekTo)
			seekTo = nil
		} else {
			it.Next()
		}
	}
	for it.Seek(key(prefix, u64(c.hint[prio]))); it.Valid() && len(out) < limit && skipped < maxSkipPerClaim && memoSkipped < maxMemoSkipPerClaim; advance() {
		c.iterated++
		k := it.Item().Key()
		due := binary.BigEndian.Uint64(k[len(prefix):])
		if due > nowK {
			hint = min(hint, due)
			break
		}
		if rs != nil {
			if r := rs.at(k); r != nil {
				if rs.blocked(r, f) {
					memoSkipped++ // one seek past every key of r
					hint = min(hint, due)
					last = max(last, r.lastDue)
					c.runClock++
					rs.skip(r, c.runClock)
					seekTo = afterKey(r.last)
					continue
				}
				rs.enter(r) // scanned key by key; it stays valid
			}
		}
		last = due
		if _, claimed := c.ids[string(k[len(prefix)+8:])]; claimed {
			if rs != nil {
				rs.claimed(k, due)
			}
			continue
		}
		id := string(k[len(prefix)+8:])
		if _, bad := c.corrupt[id]; bad {
			if rs != nil {
				rs.claimed(k, due) // never claimable, like a claimed key
			}
			continue
		}
		if b, ok := c.refused[id]; ok && b.lane != nil {
			if c.laneWaits(*b.lane, b.seq) {
				// Its lane still has an earlier or claimed delivery. It
				// holds the hint: nothing else would bring the scan back
				// to it (rare: only lanes' heads are queued, lanes.go).
				memoSkipped++
				hint = min(hint, due)
				if rs != nil {
					rs.end()
				}
				continue
			}
		} else if ok && b.blocked(f) {
			memoSkipped++ // still blocked: no need to read it again
			hint = min(hint, due)
			rs.refused(k, due, b)
			continue
		}
		d, flags, err := queuedDelivery(txn, it.Item(), id)
		if errors.Is(err, store.ErrNotFound) {
			hint = min(hint, due)
			if rs != nil {
				rs.end()
			}
			continue // expired under a stray queue key; nothing to send
		}
		if errors.Is(err, store.ErrCorrupt) {
			// It can never be sent, and it must not stop the claims of
			// every delivery queued behind it: passed over from now on,
			// left on disk for an operator.
			c.markCorrupt(id)
			s.log.Error("store: a queued delivery's record is corrupt: it is passed over and left on disk", "delivery", id, "err", err)
			if rs != nil {
				rs.claimed(k, due)
			}
			continue
		}
		if err != nil {
			// A read error: the deliveries claimed before it are handed
			// out (the filter has admitted them), this one is read again
			// by the next scan.
			scanErr = err
			hint = min(hint, due)
			break
		}
		if d.State != store.DeliveryPending {
			hint = min(hint, due)
			if rs != nil {
				rs.end()
			}
			continue
		}
		if d.Sequence > 0 && !gate.open(c, d) {
			skipped++ // an earlier delivery of its lane is unfinished: it waits in place (see above)
			hint = min(hint, due)
			lane := laneOf(d)
			c.refuse(id, blocker{lane: &lane, seq: d.Sequence})
			if rs != nil {
				rs.end()
			}
			continue
		}
		if f.Admit != nil && !f.Admit(d) {
			skipped++ // stays queued, and ahead of later keys, for the next claim
			hint = min(hint, due)
			b := blockerOf(d, f)
			c.refuse(id, b)
			if rs != nil {
				rs.refused(k, due, b)
			}
			continue
		}
		delete(c.refused, id)
		c.ids[id] = claim{prio: prio, attempts: d.Attempts, rec: *d, flags: flags, epoch: epoch}
		d.State = store.DeliveryInFlight
		c.byPrio[prio]++
		if d.Sequence > 0 {
			c.lanes[laneOf(d)] = struct{}{}
		}
		out = append(out, d)
		if rs != nil {
			rs.admits++
			rs.claimed(k, due)
		}
	}
	if rs != nil {
		rs.end()
		c.saveRuns(prio, rs.found)
	}
	if hint == math.MaxUint64 {
		// Everything passed is claimed. Exhausted: nothing is left up to
		// now in this snapshot (later enqueues lower the hint). Stopped
		// early: the next key is due at or after the last one passed.
		hint = last
		if !it.Valid() {
			hint = max(last, nowK)
		}
	}
	// Keys of the group being committed may not be in this snapshot.
	c.hint[prio] = min(hint, c.committing[prio])
	if scanErr != nil {
		if len(out) == 0 {
			return nil, scanErr
		}
		s.log.Error("store: a claim scan stopped at a read error; the deliveries it claimed before are handed out", "err", scanErr)
	}
	return out, nil
}

// queuedDelivery decodes the delivery a queue key carries (enqueue), with
// its record's flags, or reads its record when the key is from a build that
// stored none. Both come from the same snapshot, written by the same
// transaction, so they agree.
func queuedDelivery(txn *badger.Txn, item *badger.Item, id string) (*store.Delivery, deliveryFlags, error) {
	var d *store.Delivery
	var flags deliveryFlags
	err := item.Value(func(v []byte) error {
		if len(v) == 0 {
			return nil
		}
		var err error
		d, flags, err = decodeDelivery(v)
		return err
	})
	if err != nil {
		return nil, 0, fmt.Errorf("store: queued delivery %s: %w", id, err)
	}
	if d == nil {
		return getDeliveryRec(txn, id)
	}
	if d.ID != id {
		return nil, 0, fmt.Errorf("store: queue key of delivery %s carries delivery %s: %w", id, d.ID, errCorrupt)
	}
	return d, flags, nil
}

// ReleaseInFlight forgets every claim (their deliveries are still pending
// on disk) and moves any in-flight marker left by older versions back to the
// queue, due at now, in chunks of bulkChunk.
func (s *Store) ReleaseInFlight(ctx context.Context, now time.Time) (int, error) {
	released := s.claims.releaseAll()
	n, err := s.inChunks(ctx, 256*bulkChunk, func(w *wtx) (int, error) {
		ids, err := w.keysAfter([]byte(pInFlight), nil, bulkChunk)
		for i, k := range ids {
			if err := w.moveToQueue(string(k[len(pInFlight):]), now); err != nil {
				return i, err
			}
		}
		return len(ids), err
	})
	return released + n, err
}

// inChunks runs step, one transaction (atomic and durable) at a time, until
// a step handles fewer than bulkChunk items, and returns how many all the
// committed steps handled. step may run again after a failed commit, so it
// must report only what it did in the transaction it is given.
func (s *Store) inChunks(ctx context.Context, size int, step func(w *wtx) (int, error)) (int, error) {
	total := 0
	for {
		n := 0
		err := s.submit(ctx, size, func(w *wtx) error {
			var err error
			n, err = step(w)
			return err
		})
		if err != nil {
			return total, err
		}
		total += n
		if n < bulkChunk {
			return total, nil
		}
	}
}

// moveToQueue makes an in-flight delivery pending again, due at now.
func (w *wtx) moveToQueue(id string, now time.Time) error {
	d, flags, err := getDeliveryRec(w.txn, id)
	if errors.Is(err, store.ErrNotFound) {
		return w.del(inFlightKey(id))
	}
	if err != nil {
		return err
	}
	next := *d
	next.State, next.DueAt, next.UpdatedAt = store.DeliveryPending, now, now
	return w.transition(d, &next, flags)
}

// keysAfter returns up to n keys with prefix, strictly after `after` when set.
func (w *wtx) keysAfter(prefix, after []byte, n int) ([][]byte, error) {
	it := w.txn.NewIterator(badger.IteratorOptions{Prefix: prefix})
	defer it.Close()
	seek := prefix
	if after != nil {
		seek = append(append([]byte(nil), after...), 0)
	}
	var out [][]byte
	for it.Seek(seek); it.Valid() && len(out) < n; it.Next() {
		out = append(out, it.Item().KeyCopy(nil))
	}
	return out, nil
}

// Requeue puts a finished (or pending) delivery back in the queue due at now,
// keeping its id and attempt count. An in-flight delivery is refused: its
// worker will record it.
func (s *Store) Requeue(ctx context.Context, deliveryID string, now time.Time) (*store.Delivery, error) {
	var out *store.Delivery
	err := s.submit(ctx, 1024, func(w *wtx) error {
		d, flags, err := getDeliveryRec(w.txn, deliveryID)
		if err != nil {
			return err
		}
		if d.State == store.DeliveryInFlight || s.claims.inFlight(d) {
			return fmt.Errorf("store: delivery %s is being delivered; try again later", deliveryID)
		}
		next := *d
		next.State, next.DueAt, next.UpdatedAt, next.DeadReason = store.DeliveryPending, now, now, ""
		next.HoldsLane = false // back in its lane as an open delivery
		if err := w.transition(d, &next, flags); err != nil {
			return err
		}
		out = &next
		return nil
	})
	return out, err
}

// DeadLetterPending dead-letters every pending delivery of a webhook, in
// chunks of bulkChunk queue keys. The queue is walked (its keys carry the
// records) since open deliveries have no index by webhook: a webhook
// stops being active rarely, a delivery finishes all the time. In-flight
// ones are left to their workers. Deliveries waiting in their lanes are
// not queued: they are found first, by the webhook's lane keys.
func (s *Store) DeadLetterPending(ctx context.Context, webhookID, reason string, now time.Time) (int, error) {
	kill := func(w *wtx, d *store.Delivery, flags deliveryFlags) error {
		next := *d
		next.State, next.DeadReason, next.UpdatedAt = store.DeliveryDead, reason, now
		return w.transition(d, &next, flags)
	}
	lanes := append(append([]byte(pLane), webhookID...), 0)
	waiting, err := s.inCursorChunks(ctx, func(w *wtx, after []byte) (n, scanned int, last []byte, err error) {
		keys, err := w.keysAfter(lanes, after, bulkChunk)
		for _, k := range keys {
			if err != nil {
				break
			}
			scanned, last = scanned+1, k
			var d *store.Delivery
			var flags deliveryFlags
			d, flags, err = laneDelivery(w.txn, k)
			if err != nil || d == nil || d.State != store.DeliveryPending || flags&laneWaiting == 0 {
				continue // queued (the queue walk takes it) or gone
			}
			n++
			err = kill(w, d, flags) // never its lane's head: it queues no other
		}
		return n, scanned, last, err
	})
	if err != nil {
		return waiting, err
	}
	queued, err := s.inCursorChunks(ctx, func(w *wtx, after []byte) (n, scanned int, last []byte, err error) {
		err = w.eachQueued([]byte(pQueue), after, bulkChunk, func(k []byte, d *store.Delivery, flags deliveryFlags) error {
			scanned, last = scanned+1, k
			if d.WebhookID != webhookID || d.State != store.DeliveryPending || s.claims.inFlight(d) {
				return nil // in flight: its worker records it
			}
			n++
			return kill(w, d, flags)
		})
		return n, scanned, last, err
	})
	return waiting + queued, err
}

// laneDelivery reads the delivery an L/ key names, nil when it is gone.
func laneDelivery(txn *badger.Txn, k []byte) (*store.Delivery, deliveryFlags, error) {
	id, err := getValue(txn, k)
	if err == nil {
		var d *store.Delivery
		var flags deliveryFlags
		d, flags, err = getDeliveryRec(txn, string(id))
		if err == nil {
			return d, flags, nil
		}
	}
	return nil, 0, ignoreNotFound(err)
}

// inCursorChunks runs step, one transaction (atomic and durable) at a
// time, each after the last key the step before scanned, until a step
// scans fewer than bulkChunk keys; it returns how many items the committed
// steps changed. step may run again after a failed commit, so it must
// report only what it did in the transaction it is given.
func (s *Store) inCursorChunks(ctx context.Context, step func(w *wtx, after []byte) (changed, scanned int, last []byte, err error)) (int, error) {
	total := 0
	var cursor []byte
	for {
		var n, scanned int
		var last []byte
		err := s.submit(ctx, 256*bulkChunk, func(w *wtx) error {
			var err error
			n, scanned, last, err = step(w, cursor)
			return err
		})
		if err != nil {
			return total, err
		}
		total += n
		if scanned < bulkChunk {
			return total, nil
		}
		cursor = last
	}
}

// eachQueued calls fn with up to n queue keys after `after` (all when
// nil) and their deliveries, read from the copy the key carries (from the
// record when an older version wrote none). The keys are collected first,
// so fn may change the queue.
func (w *wtx) eachQueued(prefix, after []byte, n int, fn func(k []byte, d *store.Delivery, flags deliveryFlags) error) error {
	type queued struct {
		k, v []byte
	}
	var items []queued
	it := w.txn.NewIterator(badger.IteratorOptions{Prefix: prefix, PrefetchValues: true, PrefetchSize: 64})
	seek := prefix
	if after != nil {
		seek = append(append([]byte(nil), after...), 0)
	}
	for it.Seek(seek); it.Valid() && len(items) < n; it.Next() {
		v, err := it.Item().ValueCopy(nil)
		if err != nil {
			it.Close()
			return err
		}
		items = append(items, queued{it.Item().KeyCopy(nil), v})
	}
	it.Close()
	for _, q := range items {
		var d *store.Delivery
		var flags deliveryFlags
		var err error
		if len(q.v) > 0 {
			d, flags, err = decodeDelivery(q.v)
		} else {
			d, flags, err = getDeliveryRec(w.txn, string(q.k[len(pQueue)+1+8:]))
		}
		if errors.Is(err, store.ErrNotFound) {
			continue
		}
		if err != nil {
			return err
		}
		if err := fn(q.k, d, flags); err != nil {
			return err
		}
	}
	return nil
}

// GetDelivery returns one delivery.
func (s *Store) GetDelivery(ctx context.Context, deliveryID string) (*store.Delivery, error) {
	var d *store.Delivery
	held := s.claims.claimsNow(deliveryID) // before the snapshot: see claimsNow
	err := s.view(ctx, func(txn *badger.Txn) error {
		var err error
		d, err = getDelivery(txn, deliveryID)
		return err
	})
	return held.overlay(d), err
}

// GetEvent returns one event with its payload.
func (s *Store) GetEvent(ctx context.Context, eventID string) (*store.Event, error) {
	var ev *store.Event
	err := s.view(ctx, func(txn *badger.Txn) error {
		var err error
		ev, err = readEvent(txn, eventID)
		return err
	})
	return ev, err
}

// readEvent reads one event in txn; store.ErrNotFound when there is none.
func readEvent(txn *badger.Txn, eventID string) (*store.Event, error) {
	var ev *store.Event
	// Decoded in badger's buffer: the payload is copied once, by decodeEvent.
	err := viewValue(txn, eventKey(eventID), func(v []byte) error {
		r, err := decodeEvent(v)
		if err == nil {
			ev = &r.Event
		}
		return err
	})
	return ev, err
}

// ListDeliveries returns a webhook's deliveries in a state ("" for all)
// created in [from, to] (zero bounds are open), oldest first. A webhook's
// dead letters (the replay API) are read from their index; any other
// listing, which only operators and tests ask for, scans every delivery.
func (s *Store) ListDeliveries(ctx context.Context, webhookID string, state store.DeliveryState, from, to time.Time) ([]*store.Delivery, error) {
	if state != "" && !validState(state) {
		return nil, fmt.Errorf("store: unknown delivery state %q", state)
	}
	held := s.claims.claimsNow() // before the snapshot: see claimsNow
	match := func(d *store.Delivery) bool {
		held.overlay(d) // first: a claimed delivery is in flight, not pending
		return (state == "" || d.State == state) &&
			(from.IsZero() || !d.CreatedAt.Before(from)) && (to.IsZero() || !d.CreatedAt.After(to))
	}
	var out []*store.Delivery
	err := s.view(ctx, func(txn *badger.Txn) error {
		if webhookID != "" && state == store.DeliveryDead {
			return listBucket(txn, delByHookPrefix(webhookID, bucketDead), from, to, match, &out)
		}
		return scanDeliveries(txn, func(d *store.Delivery) bool {
			return (webhookID == "" || d.WebhookID == webhookID) && match(d)
		}, &out)
	})
	sort.SliceStable(out, func(i, j int) bool { return out[i].CreatedAt.Before(out[j].CreatedAt) })
	return out, err
}

func listBucket(txn *badger.Txn, prefix []byte, from, to time.Time, match func(*store.Delivery) bool, out *[]*store.Delivery) error {
	it := txn.NewIterator(badger.IteratorOptions{Prefix: prefix})
	defer it.Close()
	toK := timeKey(to)
	for it.Seek(key(prefix, u64(timeKey(from)))); it.Valid(); it.Next() {
		k := it.Item().Key()
		if !to.IsZero() && binary.BigEndian.Uint64(k[len(prefix):]) > toK {
			break
		}
		d, err := getDelivery(txn, string(k[len(prefix)+8:]))
		if errors.Is(err, store.ErrNotFound) {
			continue
		}
		if err != nil {
			return err
		}
		if match(d) {
			*out = append(*out, d)
		}
	}
	return nil
}

func scanDeliveries(txn *badger.Txn, match func(*store.Delivery) bool, out *[]*store.Delivery) error {
	opts := badger.DefaultIteratorOptions
	opts.Prefix = []byte(pDelivery)
	opts.PrefetchSize = 16
	it := txn.NewIterator(opts)
	defer it.Close()
	for it.Rewind(); it.Valid(); it.Next() {
		var d *store.Delivery
		id := string(it.Item().Key()[len(pDelivery):])
		if err := it.Item().Value(func(v []byte) error {
			rec, err := deliveryRecord(txn, id, v, false)
			if err == nil {
				d, _, err = decodeDelivery(rec)
			}
			return err
		}); err != nil {
			return err
		}
		if match(d) {
			*out = append(*out, d)
		}
	}
	return scanCarried(txn, match, out)
}

// scanCarried adds the queued deliveries that have no d/ key (format 7:
// not moved since ingest, their id says where they are queued), which
// scanDeliveries' walk of the d/ keys does not meet.
func scanCarried(txn *badger.Txn, match func(*store.Delivery) bool, out *[]*store.Delivery) error {
	it := txn.NewIterator(badger.IteratorOptions{Prefix: []byte(pQueue), PrefetchValues: false})
	defer it.Close()
	for it.Rewind(); it.Valid(); it.Next() {
		k := it.Item().Key()
		if len(k) < len(pQueue)+1+8 {
			continue
		}
		id := string(k[len(pQueue)+1+8:])
		ref, ok := carriedRef(id)
		if !ok || !bytes.Equal(ref[1:], k[len(pQueue):len(pQueue)+1+8]) {
			continue // queued elsewhere than its id says: it has a d/ key
		}
		if _, err := txn.Get(deliveryKey(id)); err == nil {
			continue // moved and queued back there: met by the d/ walk
		} else if !errors.Is(err, badger.ErrKeyNotFound) {
			return err
		}
		var d *store.Delivery
		if err := it.Item().Value(func(v []byte) error {
			var err error
			d, _, err = decodeDelivery(v)
			return err
		}); err != nil {
			return err
		}
		if match(d) {
			*out = append(*out, d)
		}
	}
	return nil
}
