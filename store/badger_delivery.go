package store

import (
	"bytes"
	"encoding/binary"
	"encoding/json"
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

// getDelivery reads a delivery inside any transaction.
func getDelivery(txn *badger.Txn, id string) (*Delivery, error) {
	var d Delivery
	if err := getJSON(txn, deliveryKey(id), &d); err != nil {
		return nil, err
	}
	return &d, nil
}

// transition writes next (the delivery's new state) over old (as stored, or
// nil for a new delivery), moving its index keys.
func (w *wtx) transition(old, next *Delivery) error {
	if !validState(next.State) {
		return fmt.Errorf("store: delivery %s: unknown state %q", next.ID, next.State)
	}
	if !validPriority(next.Priority) {
		return fmt.Errorf("store: delivery %s: priority %d out of range 0..2", next.ID, next.Priority)
	}
	if err := w.leave(old); err != nil {
		return err
	}
	v, err := json.Marshal(next)
	if err != nil {
		return err
	}
	done := finished(next.State)
	idx := delByHookKey(next)
	sameIdx := old != nil && bytes.Equal(delByHookKey(old), idx)
	if old != nil && !sameIdx {
		if err := w.del(delByHookKey(old)); err != nil {
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
		return w.maybeExpireEvent(next.EventID)
	case !done && finished(old.State):
		return w.keepEvent(next.EventID)
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
// for an event that fans out to many webhooks.
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
	ev, expiring, err := w.getEventRecord(eventID)
	if err != nil || expiring {
		return ignoreNotFound(err)
	}
	v, err := encodeEvent(&ev.Event, ev.Deliveries)
	if err != nil {
		return err
	}
	return w.setExpiring(eventKey(eventID), v)
}

// keepEvent counts a delivery of the event as open again and clears the
// event's TTL. ErrNotFound when the event has already expired: nothing could
// be delivered.
func (w *wtx) keepEvent(eventID string) error {
	ev, expiring, err := w.getEventRecord(eventID)
	if err != nil {
		return fmt.Errorf("event %s: %w", eventID, err)
	}
	open, err := w.getOpen(eventID)
	if err != nil {
		return err
	}
	if err := w.setOpen(eventID, open+1); err != nil {
		return err
	}
	if !expiring {
		return nil
	}
	v, err := encodeEvent(&ev.Event, ev.Deliveries)
	if err != nil {
		return err
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

func (w *wtx) getEventRecord(id string) (*eventRecord, bool, error) {
	it, err := w.txn.Get(eventKey(id))
	if errors.Is(err, badger.ErrKeyNotFound) {
		return nil, false, ErrNotFound
	}
	if err != nil {
		return nil, false, err
	}
	var ev *eventRecord
	err = it.Value(func(v []byte) error {
		ev, err = decodeEvent(v)
		return err
	})
	return ev, it.ExpiresAt() != 0, err
}

func ignoreNotFound(err error) error {
	if errors.Is(err, ErrNotFound) {
		return nil
	}
	return err
}
