package badger

import (
	"bytes"
	"context"
	"encoding/binary"
	"errors"
	"fmt"
	"slices"
	"time"

	badger "github.com/dgraph-io/badger/v4"

	"github.com/hookgate/hookgate/store"
)

// Delivery state changes. Every change of a delivery goes through
// wtx.transition, which keeps its record and its indexes consistent:
//
//	q/  queue key           present while pending, unless waiting in its lane (laneWaiting)
//	L/  lane key            present while the delivery keeps its lane waiting (lanes.go)
//	i/  in-flight marker    present while in flight (older versions only)
//	D/  dead letters        per webhook, by CreatedAt, while dead
//
// Open deliveries (and their events) never expire; finishing one gives its
// record (and a dead one's D/ key) the log-retention TTL, and finishing the last
// delivery of an event starts the event's retention clock (expireEvent;
// sweepEvents deletes it when the clock runs out). Requeueing a finished
// delivery clears those again.

func finished(state store.DeliveryState) bool {
	return state == store.DeliverySucceeded || state == store.DeliveryDead
}

func validState(state store.DeliveryState) bool {
	switch state {
	case store.DeliveryPending, store.DeliveryInFlight, store.DeliverySucceeded, store.DeliveryDead:
		return true
	}
	return false
}

func validPriority(p int) bool { return p >= 0 && p < 3 }

// getDelivery reads a delivery inside any transaction; ErrNotFound when absent.
func getDelivery(txn *badger.Txn, id string) (*store.Delivery, error) {
	d, _, err := getDeliveryRec(txn, id)
	return d, err
}

// getDeliveryRec is getDelivery with the record's flags, for transition.
func getDeliveryRec(txn *badger.Txn, id string) (*store.Delivery, deliveryFlags, error) {
	var d *store.Delivery
	var flags deliveryFlags
	err := viewValue(txn, deliveryKey(id), func(v []byte) error {
		rec, err := deliveryRecord(txn, id, v, false)
		if err == nil {
			d, flags, err = decodeDelivery(rec)
		}
		return err
	})
	if errors.Is(err, store.ErrNotFound) {
		if ref, ok := carriedRef(id); ok { // format 7: not moved since ingest
			var rec []byte
			if rec, err = deliveryRecord(txn, id, ref, true); err == nil {
				d, flags, err = decodeDelivery(rec)
			}
		}
	}
	return d, flags, err
}

// carriedRef is the d/ reference a delivery id made by
// store.NewDeliveryID carries: where ingest queued it. Such a delivery
// has no d/ key until it first moves (format 7, transition).
func carriedRef(id string) ([]byte, bool) {
	prio, due, ok := store.QueuedAt(id)
	if !ok {
		return nil, false
	}
	return binary.BigEndian.AppendUint64([]byte{recordQueued, byte(prio)}, due), true
}

// idCarries reports that d, to be queued, is where its id says
// (carriedRef), so it needs no d/ key.
func idCarries(d *store.Delivery) bool {
	prio, due, ok := store.QueuedAt(d.ID)
	return ok && prio == d.Priority && due == timeKey(d.DueAt)
}

// transition writes next (the delivery's new state) over old (as stored, or
// nil for a new delivery), moving its index keys. flags are the record's
// (as read with old), kept as they are. Changing a stored delivery moves the
// store's epoch when the group commits, so claims stop trusting their copies
// (claim.rec); RecordAttempt moving from such a copy calls move instead.
func (w *wtx) transition(old, next *store.Delivery, flags deliveryFlags) error {
	if old != nil {
		w.changed = true
	}
	return w.move(old, next, flags)
}

// move is transition without moving the epoch.
func (w *wtx) move(old, next *store.Delivery, flags deliveryFlags) error {
	if !validState(next.State) {
		return fmt.Errorf("store: delivery %s: unknown state %q", next.ID, next.State)
	}
	if !validPriority(next.Priority) {
		return fmt.Errorf("store: delivery %s: priority %d out of range 0..2", next.ID, next.Priority)
	}
	if old != nil && len(next.Attempted.At) == 0 {
		// Every change keeps the times its attempt records are found by;
		// only recordAttempt adds one.
		next.Attempted = old.Attempted
	}
	if err := w.leave(old, flags); err != nil {
		return err
	}
	headLeft, err := w.moveLane(old, next)
	if err != nil {
		return err
	}
	flags &^= laneWaiting
	if w.laneWaits(next) {
		flags |= laneWaiting
	}
	done, wasDone := finished(next.State), old != nil && finished(old.State)
	sole := flags&soleDelivery != 0
	// A sole delivery's record carries its event's retention clock (format
	// 5): finishing it writes no x/ marker. A finished one keeps its clock
	// through other changes (a dead delivery releasing its lane) and hands
	// it to keepEvent when it reopens.
	var clock []byte
	switch {
	case sole && wasDone:
		if clock, err = w.recordClock(next.ID); err != nil {
			return err
		}
	case sole && done && old != nil:
		clock = w.startRecordClock(next.EventID)
	}
	var v []byte
	if done {
		v = encodeDeliveryClock(next, flags, clock)
	} else {
		v = encodeDelivery(next, flags)
	}
	queued := next.State == store.DeliveryPending && flags&laneWaiting == 0
	switch {
	case done: // finished: the record starts its retention clock
		err = w.setExpiring(deliveryKey(next.ID), v)
	case queued && old == nil && idCarries(next):
		// Format 7: the id says where it is queued, so a first enqueue
		// writes no d/ key (a third of what a publish wrote to the LSM).
	case queued: // the record goes on the queue key (enqueue, below)
		err = w.set(deliveryKey(next.ID), queueRef(next))
	default:
		err = w.set(deliveryKey(next.ID), v)
	}
	if err != nil {
		return err
	}
	// Only dead deliveries are indexed by webhook (D/, for the replay of a
	// webhook's dead letters): the index of every state cost two keys when
	// a delivery finished and one at ingest (format 3, migrate.go).
	wasDead, isDead := old != nil && old.State == store.DeliveryDead, next.State == store.DeliveryDead
	switch {
	case isDead:
		err = w.setExpiring(deadKey(next), nil)
	case wasDead:
		err = w.del(deadKey(old))
	}
	if err != nil {
		return err
	}
	switch {
	case queued:
		err = w.enqueue(next, v)
	case next.State == store.DeliveryPending: // waiting in its lane
		w.countWaiting(next)
	case next.State == store.DeliveryInFlight:
		err = w.set(inFlightKey(next.ID), nil)
	}
	if err != nil {
		return err
	}
	if headLeft {
		// In the same transaction: the lane's next delivery is queued
		// exactly when the one before it is done.
		if err := w.promote(laneOf(old)); err != nil {
			return err
		}
	}
	switch {
	case old == nil, done && wasDone:
		return nil
	case done && sole:
		return nil // its clock started above, in its record
	case done:
		return w.maybeExpireEvent(next.EventID)
	case wasDone:
		return w.keepEvent(next.EventID, sole, clock)
	}
	return nil
}

// recordClock returns the retention clock the delivery's stored record
// carries (nil when none: not finished, or finished by a format-3 build,
// which wrote the event's x/ marker instead). Only a finished delivery
// changing again reads it, which is rare: finishing one reads nothing.
func (w *wtx) recordClock(id string) ([]byte, error) {
	v, err := getValue(w.txn, deliveryKey(id))
	if err == nil {
		v, err = deliveryRecord(w.txn, id, v, false)
	}
	if err != nil {
		return nil, err
	}
	_, _, clock, err := decodeDeliveryClock(v)
	return clock, err
}

// leave removes the queue or in-flight key of old's state (flags as read
// with old).
func (w *wtx) leave(old *store.Delivery, flags deliveryFlags) error {
	if old == nil {
		return nil
	}
	switch old.State {
	case store.DeliveryPending:
		if err := w.dequeue(old, flags); err != nil {
			return err
		}
	case store.DeliveryInFlight:
		if err := w.del(inFlightKey(old.ID)); err != nil {
			return err
		}
	}
	return nil
}

// maybeExpireEvent counts one of the event's deliveries as finished and,
// when none is left open, starts the event's retention clock. A counter
// (o/<eventID>) instead of reading every sibling delivery keeps this O(1)
// for an event that fans out to many webhooks; the sole delivery of an
// event has none, and starts the clock in its own record
// (startRecordClock).
func (w *wtx) maybeExpireEvent(eventID string) error {
	open, err := w.getOpen(eventID)
	if err != nil {
		return err
	}
	if open > 1 {
		return w.setOpen(eventID, open-1)
	}
	if err := w.del(eventOpenKey(eventID)); err != nil {
		return err
	}
	return w.expireEvent(eventID)
}

// expireEvent starts the event's retention clock unless it already runs.
// The clock is two small marker keys (x/ and X/, see sweepEvents) instead
// of rewriting the event with a TTL: that meant reading and writing the
// whole envelope again for every event, a third of the gateway's CPU per
// delivery when draining a backlog. Events of older versions may still
// carry a TTL; they expire by it as before.
func (w *wtx) expireEvent(eventID string) error {
	_, err := w.txn.Get(eventExpKey(eventID))
	switch {
	case err == nil:
		return nil // already running
	case !errors.Is(err, badger.ErrKeyNotFound):
		return err
	}
	return w.startEventClock(eventID)
}

// startEventClock starts the event's retention clock, due a log retention
// from now: its x/ marker names the group's expiry block, which commit
// writes once with every event whose clock the group started (format 3;
// one X/ key per event before).
func (w *wtx) startEventClock(eventID string) error {
	return w.set(eventExpKey(eventID), w.startRecordClock(eventID))
}

// startRecordClock starts the retention clock of the event of a sole
// delivery that just finished, and returns the reference its record keeps
// instead of an x/ marker (format 5: one key less per delivery). Its only
// delivery was open until now, so the clock is not running (keepEvent stops
// it whenever the delivery reopens), and nothing needs reading.
func (w *wtx) startRecordClock(eventID string) []byte {
	if w.expiring == nil {
		w.expiryAt = timeKey(w.s.now().Add(w.s.retention))
	}
	w.expiring = append(w.expiring, eventID)
	return w.expiryRef()
}

// expiryRef is the x/ value of the events whose clocks this group starts:
// expires8 and the group's sequence (its transaction's read timestamp,
// which grows with every commit), the two parts of its block's key.
func (w *wtx) expiryRef() []byte {
	return binary.BigEndian.AppendUint64(binary.BigEndian.AppendUint64(make([]byte, 0, 16), w.expiryAt), w.txn.ReadTs())
}

// writeExpiring writes the group's expiry block: X/<expires8><seq8> → the
// ids of the events whose clocks it started, uvarint-length prefixed.
func (w *wtx) writeExpiring() error {
	if len(w.expiring) == 0 {
		return nil
	}
	return w.set(expiryBlockKey(w.expiryRef()), encodeIDs(w.expiring))
}

// keepEvent counts a delivery of the event as open again and stops the
// event's retention clock. ErrNotFound when the event is already gone:
// nothing could be delivered.
func (w *wtx) keepEvent(eventID string, sole bool, clock []byte) error {
	it, err := w.txn.Get(eventKey(eventID))
	if errors.Is(err, badger.ErrKeyNotFound) {
		return fmt.Errorf("event %s: %w", eventID, store.ErrNotFound)
	}
	if err != nil {
		return err
	}
	if it.ExpiresAt() != 0 {
		// Written by an older version with a TTL: rewrite the stored bytes
		// unchanged, without it; it is counted from now on, as it will be
		// swept.
		v, err := it.ValueCopy(nil)
		if err != nil {
			return err
		}
		company, n, err := eventUsage(v)
		if err != nil {
			return err
		}
		w.countEvent(company, n)
		if err := w.set(eventKey(eventID), v); err != nil {
			return err
		}
	}
	if !sole {
		open, err := w.getOpen(eventID)
		if err != nil {
			return err
		}
		if err := w.setOpen(eventID, open+1); err != nil {
			return err
		}
	}
	if clock != nil { // the delivery's record held it (format 5)
		return w.leaveExpiryBlock(eventID, clock)
	}
	return w.stopEventClock(eventID)
}

// stopEventClock removes the event's expiry markers, if any: its x/ key and
// its entry in its expiry block (its own X/ key when an older version
// started the clock). A sole delivery's record holds the clock instead
// since format 5 (keepEvent).
func (w *wtx) stopEventClock(eventID string) error {
	v, err := getValue(w.txn, eventExpKey(eventID))
	if errors.Is(err, store.ErrNotFound) {
		return nil
	}
	if err != nil {
		return err
	}
	switch len(v) {
	case 8: // format 2
		return errors.Join(w.del(eventExpKey(eventID)), w.del(expiryKey(binary.BigEndian.Uint64(v), eventID)))
	case 16:
	default:
		return fmt.Errorf("store: event %s: corrupt expiry marker", eventID)
	}
	if err := w.del(eventExpKey(eventID)); err != nil {
		return err
	}
	return w.leaveExpiryBlock(eventID, v)
}

// leaveExpiryBlock takes the event out of the expiry block ref names (an
// x/ value, or the clock a sole delivery's record holds).
func (w *wtx) leaveExpiryBlock(eventID string, v []byte) error {
	if w.expiring != nil && bytes.Equal(v, w.expiryRef()) { // started in this group: not written yet
		w.expiring = slices.DeleteFunc(w.expiring, func(id string) bool { return id == eventID })
		return nil
	}
	k := expiryBlockKey(v)
	block, err := getValue(w.txn, k)
	if errors.Is(err, store.ErrNotFound) {
		return nil
	}
	if err != nil {
		return err
	}
	ids, err := decodeIDs(block)
	if err != nil {
		return err
	}
	ids = slices.DeleteFunc(ids, func(id string) bool { return id == eventID })
	if len(ids) == 0 {
		return w.del(k)
	}
	return w.set(k, encodeIDs(ids))
}

// sweepEvents deletes every event whose retention clock ran out by now,
// with its markers, a chunk of bulkChunk expiry keys at a time, and returns
// how many it deleted. A requeue in between removes the event's markers
// first (keepEvent), and every op of a group sees the ones before it, so a
// kept event is never swept.
func (s *Store) sweepEvents(ctx context.Context, now time.Time) (int, error) {
	total := 0
	for {
		// Set by the run that commits (an op may run more than once).
		scanned, events := 0, 0
		err := s.submit(ctx, 128*bulkChunk, func(w *wtx) error {
			scanned, events = 0, 0
			keys, err := w.keysAfter([]byte(pExpiry), nil, bulkChunk)
			if err != nil {
				return err
			}
			for _, k := range keys {
				if binary.BigEndian.Uint64(k[len(pExpiry):]) > timeKey(now) {
					return nil
				}
				ids, err := expiryEntries(w.txn, k)
				if err != nil {
					return err
				}
				for _, id := range ids {
					if err := errors.Join(w.uncountEvent(eventKey(id)), w.del(eventKey(id)), w.del(eventExpKey(id))); err != nil {
						return err
					}
				}
				if err := w.del(k); err != nil {
					return err
				}
				scanned, events = scanned+1, events+len(ids)
			}
			return nil
		})
		total += events
		if err != nil || scanned < bulkChunk {
			return total, err
		}
	}
}

// expiryEntries returns the events of an expiry key: the ids of a block, or
// the one its key names (format 2, empty value).
func expiryEntries(txn *badger.Txn, k []byte) ([]string, error) {
	v, err := getValue(txn, k)
	if err != nil {
		return nil, err
	}
	if len(v) == 0 {
		return []string{string(k[len(pExpiry)+8:])}, nil
	}
	return decodeIDs(v)
}

// getOpen reads the event's count of open deliveries (0 when absent).
func (w *wtx) getOpen(eventID string) (uint64, error) {
	it, err := w.txn.Get(eventOpenKey(eventID))
	if errors.Is(err, badger.ErrKeyNotFound) {
		return 0, nil
	}
	if err != nil {
		return 0, err
	}
	var n uint64
	err = it.Value(func(v []byte) error {
		var k int
		n, k = binary.Uvarint(v)
		if k <= 0 {
			return fmt.Errorf("store: event %s: corrupt open-delivery count", eventID)
		}
		return nil
	})
	return n, err
}

func (w *wtx) setOpen(eventID string, n uint64) error {
	return w.set(eventOpenKey(eventID), binary.AppendUvarint(nil, n))
}

func ignoreNotFound(err error) error {
	if errors.Is(err, store.ErrNotFound) {
		return nil
	}
	return err
}
