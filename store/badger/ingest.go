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
		p, err := s.prepareIngest(g.Items)
		if err != nil {
			out[i].Err = err
			continue
		}
		if cur == nil || cur.size+p.size > ingestOpBytes || cur.logSize+p.logSize > ingestOpLogBytes {
			cur = &ingestChunk{}
			chunks = append(chunks, cur)
		}
		cur.add(i, p)
	}
	ops := make([]*op, len(chunks))
	for k, c := range chunks {
		ops[k] = c.op(groups)
	}
	err := s.submitOps(ctx, ops...)
	var again []*ingestChunk // groups of failed shared operations, one each
	for k, c := range chunks {
		if err != nil || ops[k].err == nil || !c.failed || len(c.at) == 1 {
			c.results(out, err, ops[k].err)
			continue
		}
		for j, i := range c.at {
			one := &ingestChunk{}
			one.add(i, c.preps[j])
			again = append(again, one)
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
	at            []int             // the groups' indexes
	preps         []*preparedIngest // each group's records and sizes
	priors        [][]byte          // each group's stored response, when its key was known
	size, logSize int
	// failed: the op's own run failed (not the commit), so nothing of it
	// was written. Set by the committer, read after the op is done.
	failed bool
}

func (c *ingestChunk) add(i int, p *preparedIngest) {
	c.at, c.preps = append(c.at, i), append(c.preps, p)
	c.size += p.size
	c.logSize += p.logSize
}

func (c *ingestChunk) op(groups []store.IngestGroup) *op {
	c.priors = make([][]byte, len(c.at))
	o := newOp(c.size, func(w *wtx) error {
		c.failed = false
		for j, i := range c.at {
			if err := w.ingestGroup(groups[i].Idem, groups[i].Items, c.preps[j].recs, &c.priors[j]); err != nil {
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
	p, err := s.prepareIngest(items)
	if err != nil {
		return nil, nil, err
	}
	prior := new([]byte)
	o := newOp(p.size, func(w *wtx) error { return w.ingestGroup(idem, items, p.recs, prior) })
	o.logSize = p.logSize
	return o, prior, nil
}

// ingestGroup writes one publish: its events and deliveries and its
// idempotency record, or only *prior, the response stored with its key,
// when the key is known. recs are the items' event records (prepareIngest).
func (w *wtx) ingestGroup(idem *store.Idempotency, items []store.IngestItem, recs [][]byte, prior *[]byte) error {
	*prior = nil
	if idem != nil {
		p, found, err := w.checkIdem(idem.Key)
		if err != nil || found {
			*prior = p
			return err
		}
	}
	for k, it := range items {
		if err := w.ingestOne(it, recs[k]); err != nil {
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

// preparedIngest is one publish made ready for the committer.
type preparedIngest struct {
	// recs are the items' event records, encoded on the caller's goroutine
	// (half of an ingest's time in the committer was encoding them).
	recs [][]byte
	// size and logSize estimate what the publish adds toward badger's
	// transaction limit and to the value log (op.size, op.logSize).
	size, logSize int
	one           [1][]byte // recs of a publish of one event (all of them)
}

// prepareIngest validates and completes the items before they are queued
// (so the committer never mutates caller memory), encodes their events and
// estimates their size. An event record of valueThreshold or more goes to
// the value log and counts only its key and pointer toward the transaction.
func (s *Store) prepareIngest(items []store.IngestItem) (*preparedIngest, error) {
	now := s.now()
	p := &preparedIngest{}
	if p.recs = p.one[:]; len(items) != 1 {
		p.recs = make([][]byte, len(items))
	}
	for k, it := range items {
		if it.Event == nil || it.Event.ID == "" {
			return nil, errors.New("store: ingest: event without id")
		}
		ids := make([]string, len(it.Deliveries))
		for i, d := range it.Deliveries {
			if d.ID == "" || d.WebhookID == "" {
				return nil, fmt.Errorf("store: ingest: event %s: delivery without id or webhook id", it.Event.ID)
			}
			if !validPriority(d.Priority) {
				return nil, fmt.Errorf("store: ingest: delivery %s: priority %d out of range 0..2", d.ID, d.Priority)
			}
			d.State = store.DeliveryPending
			d.EventID = it.Event.ID
			if d.CreatedAt.IsZero() {
				d.CreatedAt = now
			}
			if d.UpdatedAt.IsZero() {
				d.UpdatedAt = d.CreatedAt
			}
			ids[i] = d.ID
			p.size += 400 // its record on the queue key and the d/ reference (none when its id carries it: format 7), in the LSM
		}
		rec := encodeEvent(it.Event, ids)
		p.recs[k] = rec
		if len(rec) < valueThreshold {
			p.size += 64 + len(rec)
		} else {
			p.size, p.logSize = p.size+64, p.logSize+len(rec)
		}
	}
	return p, nil
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

// ingestOne writes one event, v its record, and its deliveries.
func (w *wtx) ingestOne(it store.IngestItem, v []byte) error {
	w.countEvent(it.Event.CompanyID, int64(len(it.Event.Payload)))
	var err error
	var flags deliveryFlags
	switch n := len(it.Deliveries); n {
	case 0: // nothing will ever need it: retention starts now, swept (and uncounted) like the others
		err = errors.Join(w.set(eventKey(it.Event.ID), v), w.startEventClock(it.Event.ID))
	case 1: // no counter: the delivery's state says whether the event is open
		err, flags = w.set(eventKey(it.Event.ID), v), soleDelivery
	default:
		err = errors.Join(w.set(eventKey(it.Event.ID), v), w.setOpen(it.Event.ID, uint64(n)))
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
