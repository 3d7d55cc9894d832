package badger

import (
	"context"
	"errors"
	"fmt"

	badger "github.com/dgraph-io/badger/v4"

	"github.com/hookgate/hookgate/store"
)

// Ingest durably writes the events, their pending deliveries and the
// idempotency record in one transaction of the current commit group.
// It sets State (pending) and, when zero, CreatedAt and UpdatedAt on the
// given deliveries.
func (s *Store) Ingest(ctx context.Context, idem *store.Idempotency, items []store.IngestItem) ([]byte, error) {
	o, prior, err := s.ingestOp(idem, items)
	if err != nil {
		return nil, err
	}
	if err := s.submitOps(ctx, o); err != nil {
		return nil, err
	}
	return *prior, o.err
}

// IngestEach queues one operation per group together, so they join the same
// commit group (or consecutive ones, past its size limit): each commits or
// fails on its own, and all are synced when it returns.
func (s *Store) IngestEach(ctx context.Context, groups []store.IngestGroup) []store.IngestResult {
	out := make([]store.IngestResult, len(groups))
	ops := make([]*op, 0, len(groups))
	priors := make([]*[]byte, len(groups))
	at := make([]int, 0, len(groups)) // at[k]: the group of ops[k]
	for i, g := range groups {
		o, prior, err := s.ingestOp(g.Idem, g.Items)
		if err != nil {
			out[i].Err = err
			continue
		}
		ops, priors[i], at = append(ops, o), prior, append(at, i)
	}
	err := s.submitOps(ctx, ops...)
	for k, o := range ops {
		i := at[k]
		if err != nil {
			out[i].Err = err
			continue
		}
		out[i] = store.IngestResult{Prior: *priors[i], Err: o.err}
	}
	return out
}

// ingestOp is the write of one publish, and where it leaves the response
// stored with its idempotency key when the key was known.
func (s *Store) ingestOp(idem *store.Idempotency, items []store.IngestItem) (*op, *[]byte, error) {
	size, err := s.prepareIngest(items)
	if err != nil {
		return nil, nil, err
	}
	prior := new([]byte)
	return newOp(size, func(w *wtx) error {
		*prior = nil
		if idem != nil {
			p, found, err := w.checkIdem(idem.Key)
			if err != nil || found {
				*prior = p
				return err
			}
		}
		for _, it := range items {
			if err := w.ingestOne(it); err != nil {
				return err
			}
		}
		if idem != nil {
			exp := s.now().Add(idem.TTL)
			e := badger.NewEntry(idemKey(idem.Key), encodeIdem(exp, idem.Response)).WithTTL(idem.TTL)
			w.writes++
			return w.txn.SetEntry(e)
		}
		return nil
	}), prior, nil
}

// prepareIngest validates and completes the items before they are queued
// (so the committer never mutates caller memory) and estimates their size.
func (s *Store) prepareIngest(items []store.IngestItem) (int, error) {
	now := s.now()
	size := 0
	for _, it := range items {
		if it.Event == nil || it.Event.ID == "" {
			return 0, errors.New("store: ingest: event without id")
		}
		size += 256 + len(it.Event.Payload)
		for _, d := range it.Deliveries {
			if d.ID == "" || d.WebhookID == "" {
				return 0, fmt.Errorf("store: ingest: event %s: delivery without id or webhook id", it.Event.ID)
			}
			if !validPriority(d.Priority) {
				return 0, fmt.Errorf("store: ingest: delivery %s: priority %d out of range 0..2", d.ID, d.Priority)
			}
			d.State = store.DeliveryPending
			d.EventID = it.Event.ID
			if d.CreatedAt.IsZero() {
				d.CreatedAt = now
			}
			if d.UpdatedAt.IsZero() {
				d.UpdatedAt = d.CreatedAt
			}
			size += 600
		}
	}
	return size, nil
}

// checkIdem returns the stored response when key is known and unexpired by
// the store's clock (badger's own TTL runs on wall time and only reclaims space).
func (w *wtx) checkIdem(k string) ([]byte, bool, error) {
	v, err := getValue(w.txn, idemKey(k))
	if errors.Is(err, store.ErrNotFound) {
		return nil, false, nil
	}
	if err != nil {
		return nil, false, err
	}
	exp, resp, ok := decodeIdem(v)
	if !ok || !w.s.now().Before(exp) {
		return nil, false, nil
	}
	return resp, true, nil
}

// ingestOne writes one event and its deliveries.
func (w *wtx) ingestOne(it store.IngestItem) error {
	ids := make([]string, len(it.Deliveries))
	for i, d := range it.Deliveries {
		ids[i] = d.ID
	}
	v := encodeEvent(it.Event, ids)
	w.countEvent(it.Event.CompanyID, int64(len(it.Event.Payload)))
	var err error
	var flags deliveryFlags
	switch len(ids) {
	case 0: // nothing will ever need it: retention starts now, swept (and uncounted) like the others
		err = errors.Join(w.set(eventKey(it.Event.ID), v), w.startEventClock(it.Event.ID))
	case 1: // no counter: the delivery's state says whether the event is open
		err, flags = w.set(eventKey(it.Event.ID), v), soleDelivery
	default:
		err = errors.Join(w.set(eventKey(it.Event.ID), v), w.setOpen(it.Event.ID, uint64(len(ids))))
	}
	if err != nil {
		return err
	}
	for _, d := range it.Deliveries {
		c := *d // the committer never keeps caller memory
		if c.Ordered {
			var err error
			if c.Sequence, err = w.nextSequence(c.WebhookID, c.WorkOrderID); err != nil {
				return err
			}
		}
		if err := w.transition(nil, &c, flags); err != nil {
			return err
		}
	}
	return nil
}
