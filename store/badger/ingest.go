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

// IngestEach writes the groups of a bulk publish. Consecutive groups share
// one operation (up to ingestOpBytes), not one each, and the operations are
// queued together, so a request's groups and those of concurrent bulk
// publishes commit in few groups and syncs. Each group still has its own
// outcome: when one fails inside a shared operation nothing of that
// operation was written, and its groups are written again one operation
// each, so only the failing one is refused. All are synced when it returns.
func (s *Store) IngestEach(ctx context.Context, groups []store.IngestGroup) []store.IngestResult {
	out := make([]store.IngestResult, len(groups))
	var chunks []*ingestChunk
	var cur *ingestChunk
	for i, g := range groups {
		size, logSize, err := s.prepareIngest(g.Items)
		if err != nil {
			out[i].Err = err
			continue
		}
		if cur == nil || cur.size+size > ingestOpBytes || cur.logSize+logSize > ingestOpLogBytes {
			cur = &ingestChunk{}
			chunks = append(chunks, cur)
		}
		cur.add(i, size, logSize)
	}
	ops := make([]*op, len(chunks))
	for k, c := range chunks {
		ops[k] = c.op(groups)
	}
	err := s.submitOps(ctx, ops...)
	var again []*ingestChunk // groups of failed shared operations, one each
	for k, c := range chunks {
		switch o := ops[k]; {
		case err == nil && o.err != nil && c.failed && len(c.at) > 1:
			for j, i := range c.at {
				again = append(again, &ingestChunk{at: []int{i}, sizes: c.sizes[j : j+1], size: c.sizes[j][0], logSize: c.sizes[j][1]})
			}
		default:
			c.results(out, err, o.err)
		}
	}
	if len(again) == 0 {
		return out
	}
	ops = ops[:0]
	for _, c := range again {
		ops = append(ops, c.op(groups))
	}
	err = s.submitOps(ctx, ops...)
	for k, c := range again {
		c.results(out, err, ops[k].err)
	}
	return out
}

const (
	// ingestOpBytes and ingestOpLogBytes bound the groups IngestEach puts
	// in one operation: a quarter of a commit group each, so that an
	// operation joins a group already started without taking it far past
	// its budget (nor past badger's transaction limit).
	ingestOpBytes    = maxGroupBytes / 4
	ingestOpLogBytes = maxGroupLogBytes / 4
)

// ingestChunk is consecutive groups of one IngestEach written by one op.
type ingestChunk struct {
	at            []int    // the groups' indexes
	sizes         [][2]int // each group's size and logSize
	priors        [][]byte // each group's stored response, when its key was known
	size, logSize int
	// failed: the op's own run failed (not the commit), so nothing of it
	// was written. Set by the committer, read after the op is done.
	failed bool
}

func (c *ingestChunk) add(i, size, logSize int) {
	c.at, c.sizes = append(c.at, i), append(c.sizes, [2]int{size, logSize})
	c.size += size
	c.logSize += logSize
}

func (c *ingestChunk) op(groups []store.IngestGroup) *op {
	c.priors = make([][]byte, len(c.at))
	o := newOp(c.size, func(w *wtx) error {
		c.failed = false
		for j, i := range c.at {
			if err := w.ingestGroup(groups[i].Idem, groups[i].Items, &c.priors[j]); err != nil {
				c.failed = true
				return err
			}
		}
		return nil
	})
	o.logSize = c.logSize
	return o
}

// results sets the outcome of c's groups: queueErr when the op was not
// queued, else its own error or each group's stored response.
func (c *ingestChunk) results(out []store.IngestResult, queueErr, opErr error) {
	for j, i := range c.at {
		switch {
		case queueErr != nil:
			out[i].Err = queueErr
		case opErr != nil:
			out[i].Err = opErr
		default:
			out[i] = store.IngestResult{Prior: c.priors[j]}
		}
	}
}

// ingestOp is the write of one publish, and where it leaves the response
// stored with its idempotency key when the key was known.
func (s *Store) ingestOp(idem *store.Idempotency, items []store.IngestItem) (*op, *[]byte, error) {
	size, logSize, err := s.prepareIngest(items)
	if err != nil {
		return nil, nil, err
	}
	prior := new([]byte)
	o := newOp(size, func(w *wtx) error { return w.ingestGroup(idem, items, prior) })
	o.logSize = logSize
	return o, prior, nil
}

// ingestGroup writes one publish: its events and deliveries and its
// idempotency record, or only *prior, the response stored with its key,
// when the key is known.
func (w *wtx) ingestGroup(idem *store.Idempotency, items []store.IngestItem, prior *[]byte) error {
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
		exp := w.s.now().Add(idem.TTL)
		e := badger.NewEntry(idemKey(idem.Key), encodeIdem(exp, idem.Response)).WithTTL(idem.TTL)
		w.writes++
		return w.txn.SetEntry(e)
	}
	return nil
}

// prepareIngest validates and completes the items before they are queued
// (so the committer never mutates caller memory) and estimates their size:
// toward the transaction limit, and in the value log (an event record of
// valueThreshold or more is stored there and counts only its pointer).
func (s *Store) prepareIngest(items []store.IngestItem) (size, logSize int, err error) {
	now := s.now()
	for _, it := range items {
		if it.Event == nil || it.Event.ID == "" {
			return 0, 0, errors.New("store: ingest: event without id")
		}
		if rec := 128 + len(it.Event.Payload); rec < valueThreshold {
			size += 2 * rec
		} else {
			size, logSize = size+64, logSize+rec
		}
		for _, d := range it.Deliveries {
			if d.ID == "" || d.WebhookID == "" {
				return 0, 0, fmt.Errorf("store: ingest: event %s: delivery without id or webhook id", it.Event.ID)
			}
			if !validPriority(d.Priority) {
				return 0, 0, fmt.Errorf("store: ingest: delivery %s: priority %d out of range 0..2", d.ID, d.Priority)
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
	return size, logSize, nil
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
