package store

import (
	"bytes"
	"encoding/binary"
	"errors"
	"fmt"

	badger "github.com/dgraph-io/badger/v4"
)

// Delivery state changes. Every change of a delivery goes through
// wtx.transition, which keeps its record and its three indexes consistent:
//
//	q/  queue key           present while pending
//	i/  in-flight marker    present while in flight
//	D/  per-webhook index   bucket open/succeeded/dead, by CreatedAt
//
// Open deliveries (and their events) never expire; finishing one gives its
// record and its D/ key the log-retention TTL, and finishing the last
// delivery of an event gives the event the TTL too. Requeueing a finished
// delivery clears those TTLs again.

func finished(state string) bool { return state == DeliverySucceeded || state == DeliveryDead }

func validState(state string) bool {
	switch state {
	case DeliveryPending, DeliveryInFlight, DeliverySucceeded, DeliveryDead:
		return true
	}
	return false
}

func validPriority(p int) bool { return p >= 0 && p < 3 }

// getDelivery reads a delivery inside any transaction; ErrNotFound when absent.
func getDelivery(txn *badger.Txn, id string) (*Delivery, error) {
	d, _, err := getDeliveryRec(txn, id)
	return d, err
}

// getDeliveryRec is getDelivery with the record's flags, for transition.
func getDeliveryRec(txn *badger.Txn, id string) (*Delivery, deliveryFlags, error) {
	it, err := txn.Get(deliveryKey(id))
	if errors.Is(err, badger.ErrKeyNotFound) {
		return nil, 0, ErrNotFound
	}
	if err != nil {
		return nil, 0, err
	}
	var d *Delivery
	var flags deliveryFlags
	err = it.Value(func(v []byte) error {
		d, flags, err = decodeDelivery(v)
		return err
	})
	return d, flags, err
}

// transition writes next (the delivery's new state) over old (as stored, or
// nil for a new delivery), moving its index keys. flags are the record's
// (as read with old), kept as they are.
func (w *wtx) transition(old, next *Delivery, flags deliveryFlags) error {
	if !validState(next.State) {
		return fmt.Errorf("store: delivery %s: unknown state %q", next.ID, next.State)
	}
	if !validPriority(next.Priority) {
		return fmt.Errorf("store: delivery %s: priority %d out of range 0..2", next.ID, next.Priority)
	}
	if err := w.leave(old); err != nil {
		return err
	}
	v := encodeDelivery(next, flags)
	done := finished(next.State)
	var err error
	idx := delByHookKey(next)
	var oldIdx []byte
	if old != nil {
		oldIdx = delByHookKey(old)
	}
	sameIdx := old != nil && bytes.Equal(oldIdx, idx)
	if old != nil && !sameIdx {
		if err := w.del(oldIdx); err != nil {
			return err
		}
	}
	switch {
	case done: // finished: record and index start their retention clock
		err = errors.Join(w.setExpiring(deliveryKey(next.ID), v), w.setExpiring(idx, nil))
	case sameIdx:
		err = w.set(deliveryKey(next.ID), v)
	default:
		err = errors.Join(w.set(deliveryKey(next.ID), v), w.set(idx, nil))
	}
	if err != nil {
		return err
	}
	switch next.State {
	case DeliveryPending:
		err = w.enqueue(next)
	case DeliveryInFlight:
		err = w.set(inFlightKey(next.ID), nil)
	}
	if err != nil {
		return err
	}
	switch {
	case old == nil:
		return nil
	case done && !finished(old.State):
		return w.maybeExpireEvent(next.EventID, flags&soleDelivery != 0)
	case !done && finished(old.State):
		return w.keepEvent(next.EventID, flags&soleDelivery != 0)
	}
	return nil
}

// leave removes the queue or in-flight key of old's state.
func (w *wtx) leave(old *Delivery) error {
	if old == nil {
		return nil
	}
	switch old.State {
	case DeliveryPending:
		if err := w.dequeue(old); err != nil {
			return err
		}
	case DeliveryInFlight:
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
// event has none (soleDelivery).
func (w *wtx) maybeExpireEvent(eventID string, sole bool) error {
	if sole {
		return w.expireEvent(eventID)
	}
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

// expireEvent starts the event's retention clock.
func (w *wtx) expireEvent(eventID string) error {
	v, expiring, err := w.getEventValue(eventID)
	if err != nil || expiring {
		return ignoreNotFound(err)
	}
	return w.setExpiring(eventKey(eventID), v)
}

// keepEvent counts a delivery of the event as open again and clears the
// event's TTL. ErrNotFound when the event has already expired: nothing could
// be delivered.
func (w *wtx) keepEvent(eventID string, sole bool) error {
	v, expiring, err := w.getEventValue(eventID)
	if err != nil {
		return fmt.Errorf("event %s: %w", eventID, err)
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
	if !expiring {
		return nil
	}
	return w.set(eventKey(eventID), v)
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

// getEventValue returns a copy of the event record as stored, and whether it
// already has a TTL. Changing the TTL rewrites these bytes unchanged: no
// decode and re-encode of the record (whatever its version) and payload.
func (w *wtx) getEventValue(id string) ([]byte, bool, error) {
	it, err := w.txn.Get(eventKey(id))
	if errors.Is(err, badger.ErrKeyNotFound) {
		return nil, false, ErrNotFound
	}
	if err != nil {
		return nil, false, err
	}
	v, err := it.ValueCopy(nil)
	return v, it.ExpiresAt() != 0, err
}

func ignoreNotFound(err error) error {
	if errors.Is(err, ErrNotFound) {
		return nil
	}
	return err
}
