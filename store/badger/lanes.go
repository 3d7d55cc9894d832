package badger

import (
	"bytes"
	"context"
	"encoding/binary"
	"errors"
	"slices"
	"time"

	badger "github.com/dgraph-io/badger/v4"

	"github.com/hookgate/hookgate/store"
)

// Lanes of ordered webhooks (store.Delivery.Sequence; docs/delivery.md,
// "Ordering"). A lane is one webhook and work order. Two key spaces keep
// it:
//
//   - l/<webhookID>\0<workOrder8> holds the lane's last sequence, read and
//     bumped by ingest inside the committer's transaction, so sequences
//     follow the order events were accepted and survive restarts.
//   - L/<webhookID>\0<workOrder8><seq8> → delivery id exists while the
//     delivery keeps its lane waiting (store.Delivery.InLane): written and
//     deleted by move with the delivery's state, in the same transaction.
//
// The first L/ key of a lane is its head. Only the head is in the due
// queue (format 4): a pending delivery behind it carries laneWaiting in
// its record and has no q/ key, so the claim scan never steps over the
// tail of a lane. The transaction that removes a lane's head (success,
// dead without hold, a release) queues the next one (promote), due at
// max(its due, now). A claim takes a sequenced delivery only when it is
// the head and nothing of its lane is claimed (claimSet.lanes), so a
// retry of the head keeps the lane waiting through its backoff, and after
// a crash the same head goes first again. A queued delivery can still be
// behind its head (a manual retry puts an earlier one back in front of a
// queued head): the claim's gate holds it.

var _ store.Lanes = (*Store)(nil)

// laneID names one lane in memory.
type laneID struct {
	webhook   string
	workOrder int64
}

func laneOf(d *store.Delivery) laneID { return laneID{d.WebhookID, d.WorkOrderID} }

func lanePrefix(webhookID string, workOrder int64) []byte {
	k := make([]byte, 0, len(pLane)+len(webhookID)+1+8+8)
	k = append(append(append(k, pLane...), webhookID...), 0)
	return binary.BigEndian.AppendUint64(k, uint64(workOrder))
}

func laneKey(d *store.Delivery) []byte {
	return binary.BigEndian.AppendUint64(lanePrefix(d.WebhookID, d.WorkOrderID), uint64(d.Sequence))
}

func laneSeqKey(webhookID string, workOrder int64) []byte {
	k := make([]byte, 0, len(pLaneSeq)+len(webhookID)+1+8)
	k = append(append(append(k, pLaneSeq...), webhookID...), 0)
	return binary.BigEndian.AppendUint64(k, uint64(workOrder))
}

// nextSequence bumps and returns the lane's last sequence.
func (w *wtx) nextSequence(webhookID string, workOrder int64) (int64, error) {
	k := laneSeqKey(webhookID, workOrder)
	v, err := getValue(w.txn, k)
	if err != nil && !errors.Is(err, store.ErrNotFound) {
		return 0, err
	}
	last, _ := binary.Uvarint(v)
	last++
	return int64(last), w.set(k, binary.AppendUvarint(nil, last))
}

// laneView returns the lane's sequences (its L/ keys, sorted) as this
// group sees them: the committed ones (claimSet.heads, which only the
// committer changes, so they are exact at the start of a group) with the
// group's own changes; commit publishes them.
func (w *wtx) laneView(lane laneID) []int64 {
	if seqs, ok := w.laneSeqs[lane]; ok {
		return seqs
	}
	c := &w.s.claims
	c.mu.Lock()
	seqs := slices.Clone(c.heads[lane])
	_, held := c.held[lane]
	c.mu.Unlock()
	if w.laneSeqs == nil {
		w.laneSeqs = make(map[laneID][]int64)
	}
	w.laneSeqs[lane] = seqs
	if held {
		w.setHeld(lane, true)
	}
	return seqs
}

// setHeld records whether the lane's head is a dead delivery holding it
// (its L/ key expires with the record: sweepHeldLanes).
func (w *wtx) setHeld(lane laneID, held bool) {
	if w.held == nil {
		w.held = make(map[laneID]bool)
	}
	w.held[lane] = held
}

// laneWaits reports whether the pending delivery d waits behind an earlier
// delivery of its lane (so it is not queued: laneWaiting).
func (w *wtx) laneWaits(d *store.Delivery) bool {
	if d.Sequence <= 0 || d.State != store.DeliveryPending {
		return false
	}
	seqs := w.laneView(laneOf(d))
	return len(seqs) > 0 && seqs[0] < d.Sequence
}

// moveLane keeps d's L/ key in step with its state (see InLane). headLeft
// reports that it removed its lane's head: the new head may wait to be
// queued (promote).
func (w *wtx) moveLane(old, next *store.Delivery) (headLeft bool, err error) {
	was, is := old != nil && old.InLane(), next.InLane()
	switch {
	case is && (!was || (old.State == store.DeliveryDead) != (next.State == store.DeliveryDead)):
		lane := laneOf(next)
		if !was {
			seqs := w.laneView(lane)
			if i, found := slices.BinarySearch(seqs, next.Sequence); !found {
				w.laneSeqs[lane] = slices.Insert(seqs, i, next.Sequence)
			}
		}
		if next.State == store.DeliveryDead {
			// A held lane lasts as long as its dead record, no longer:
			// a head that expired would hold it forever.
			w.setHeld(lane, true)
			return false, w.setExpiring(laneKey(next), []byte(next.ID))
		}
		if was {
			w.setHeld(lane, false) // a held head retried
		}
		return false, w.set(laneKey(next), []byte(next.ID))
	case was && !is:
		lane := laneOf(old)
		seqs := w.laneView(lane)
		if i, found := slices.BinarySearch(seqs, old.Sequence); found {
			headLeft = i == 0
			w.laneSeqs[lane] = slices.Delete(seqs, i, i+1)
		}
		if old.State == store.DeliveryDead {
			w.setHeld(lane, false) // released
		}
		return headLeft, w.del(laneKey(old))
	}
	return false, nil
}

// promote queues the lane's head when it waits (laneWaiting), due at
// max(its due, now): called in the transaction that removed the head
// before it. A head whose L/ key expired (a dead delivery that held the
// lane past retention) is dropped and the next one considered.
//
// It moves the record without moving the epoch: a waiting delivery has no
// queue key, so no claim holds a copy of it.
func (w *wtx) promote(lane laneID) error {
	for {
		seqs := w.laneView(lane)
		if len(seqs) == 0 {
			return nil
		}
		k := binary.BigEndian.AppendUint64(lanePrefix(lane.webhook, lane.workOrder), uint64(seqs[0]))
		id, err := getValue(w.txn, k)
		if errors.Is(err, store.ErrNotFound) {
			w.laneSeqs[lane] = seqs[1:]
			w.setHeld(lane, false)
			continue
		}
		if err != nil {
			return err
		}
		d, flags, err := getDeliveryRec(w.txn, string(id))
		if errors.Is(err, store.ErrNotFound) {
			return nil
		}
		if err != nil {
			return err
		}
		if d.State != store.DeliveryPending || flags&laneWaiting == 0 {
			return nil // in flight, held, or queued already
		}
		next := *d
		if now := w.s.now(); next.DueAt.Before(now) {
			next.DueAt = now
		}
		return w.move(d, &next, flags)
	}
}

// laneGate answers, within one claim's snapshot, whether a sequenced
// delivery may go now. Its iterator is opened on first use.
type laneGate struct {
	txn *badger.Txn
	it  *badger.Iterator
}

func (g *laneGate) close() {
	if g.it != nil {
		g.it.Close()
	}
}

// open reports whether d heads its lane (no earlier L/ key) and nothing of
// its lane is claimed. c.mu is held.
//
// The lane's sequences in memory (claimSet.heads) answer when they say d
// heads its lane: they lag the snapshot by at most the groups committed
// and not yet published, and a later group can only add sequences after
// d's or put back an earlier one by a manual retry, whose delivery waits
// in turn. Otherwise the snapshot's L/ keys answer: one seek. With only
// heads queued that is rare: a promoted head seen before its group's
// sequences are published, or a delivery put back behind another.
func (g *laneGate) open(c *claimSet, d *store.Delivery) bool {
	lane := laneOf(d)
	if _, busy := c.lanes[lane]; busy {
		return false
	}
	if seqs := c.heads[lane]; len(seqs) > 0 && seqs[0] == d.Sequence {
		return true
	}
	if g.it == nil {
		g.it = g.txn.NewIterator(badger.IteratorOptions{})
	}
	p := lanePrefix(d.WebhookID, d.WorkOrderID)
	g.it.Seek(p)
	if !g.it.Valid() || !bytes.HasPrefix(g.it.Item().Key(), p) {
		return true // not indexed (written before the webhook was ordered?): let it go
	}
	head := g.it.Item().Key()[len(p):]
	return int64(binary.BigEndian.Uint64(head)) >= d.Sequence
}

// HeldLanes returns the webhook's lanes whose head is dead and holds them.
func (s *Store) HeldLanes(ctx context.Context, webhookID string) ([]store.HeldLane, error) {
	var out []store.HeldLane
	err := s.view(ctx, func(txn *badger.Txn) error {
		p := append(append([]byte(pLane), webhookID...), 0)
		it := txn.NewIterator(badger.IteratorOptions{Prefix: p, PrefetchValues: true})
		defer it.Close()
		var cur *store.HeldLane
		curWO, haveWO := int64(0), false
		for it.Rewind(); it.Valid(); it.Next() {
			k := it.Item().Key()
			if len(k) != len(p)+16 {
				continue
			}
			wo := int64(binary.BigEndian.Uint64(k[len(p):]))
			if haveWO && wo == curWO {
				if cur != nil {
					cur.Waiting++
				}
				continue
			}
			curWO, haveWO, cur = wo, true, nil
			id, err := it.Item().ValueCopy(nil)
			if err != nil {
				return err
			}
			d, err := getDelivery(txn, string(id))
			if errors.Is(err, store.ErrNotFound) {
				continue
			}
			if err != nil {
				return err
			}
			if d.State == store.DeliveryDead && d.HoldsLane {
				out = append(out, store.HeldLane{WorkOrderID: wo, DeliveryID: d.ID, Sequence: d.Sequence,
					DeadReason: d.DeadReason, DeadAt: d.UpdatedAt})
				cur = &out[len(out)-1]
			}
		}
		return nil
	})
	return out, err
}

// ReleaseLane lets a held lane go on: its dead head stops holding it.
func (s *Store) ReleaseLane(ctx context.Context, webhookID string, workOrder int64, now time.Time) (*store.Delivery, error) {
	var out *store.Delivery
	err := s.submit(ctx, 1024, func(w *wtx) error {
		p := lanePrefix(webhookID, workOrder)
		var ids [][]byte
		it := w.txn.NewIterator(badger.IteratorOptions{Prefix: p, PrefetchValues: true})
		for it.Rewind(); it.Valid(); it.Next() {
			id, err := it.Item().ValueCopy(nil)
			if err != nil {
				it.Close()
				return err
			}
			ids = append(ids, id)
		}
		it.Close()
		for _, id := range ids { // the first that holds the lane
			d, flags, err := getDeliveryRec(w.txn, string(id))
			if errors.Is(err, store.ErrNotFound) {
				continue
			}
			if err != nil {
				return err
			}
			if d.State != store.DeliveryDead || !d.HoldsLane {
				continue
			}
			next := *d
			next.HoldsLane, next.UpdatedAt = false, now
			out = &next
			return w.transition(d, &next, flags)
		}
		return store.ErrNotFound
	})
	return out, err
}

// publishLanes installs a committed group's view of the lanes it touched.
// c.mu is held.
func (c *claimSet) publishLanes(seqs map[laneID][]int64, held map[laneID]bool) {
	for lane, s := range seqs {
		if len(s) == 0 {
			delete(c.heads, lane)
		} else {
			c.heads[lane] = s
		}
	}
	for lane, h := range held {
		if h {
			c.held[lane] = struct{}{}
		} else {
			delete(c.held, lane)
		}
	}
}

// loadLanes reads every L/ key into the in-memory heads, at open, and
// notes the lanes a dead delivery holds (its key expires).
func (s *Store) loadLanes() error {
	return s.db.View(func(txn *badger.Txn) error {
		it := txn.NewIterator(badger.IteratorOptions{Prefix: []byte(pLane)})
		defer it.Close()
		c := &s.claims
		c.mu.Lock()
		defer c.mu.Unlock()
		for it.Rewind(); it.Valid(); it.Next() {
			k := it.Item().Key()[len(pLane):]
			i := bytes.IndexByte(k, 0)
			if i < 0 || len(k) != i+1+16 {
				continue
			}
			lane := laneID{string(k[:i]), int64(binary.BigEndian.Uint64(k[i+1:]))}
			// Keys come in order, so each lane's sequences are sorted.
			c.heads[lane] = append(c.heads[lane], int64(binary.BigEndian.Uint64(k[i+9:])))
			if it.Item().ExpiresAt() != 0 {
				c.held[lane] = struct{}{}
			}
		}
		return nil
	})
}

// laneWaits reports, from memory alone, that the delivery of lane with
// sequence seq must still wait: a delivery of its lane is claimed, or an
// earlier sequence is open (the heads lag commits, so this errs towards
// waiting; the scan keeps its hint at or below such a key, so the next
// claim looks again). c.mu is held.
func (c *claimSet) laneWaits(lane laneID, seq int64) bool {
	if _, busy := c.lanes[lane]; busy {
		return true
	}
	seqs := c.heads[lane]
	return len(seqs) > 0 && seqs[0] < seq
}

// heldLaneChunk is how many held lanes one transaction of sweepHeldLanes
// looks at.
const heldLaneChunk = 500

// sweepHeldLanes ends the lanes whose holding dead delivery left retention
// (its L/ key expired with its record): their next delivery is queued.
// Nothing else would, as no transaction removes an expired key.
func (s *Store) sweepHeldLanes(ctx context.Context) error {
	c := &s.claims
	c.mu.Lock()
	lanes := make([]laneID, 0, len(c.held))
	for lane := range c.held {
		lanes = append(lanes, lane)
	}
	c.mu.Unlock()
	for len(lanes) > 0 {
		part := lanes[:min(len(lanes), heldLaneChunk)]
		lanes = lanes[len(part):]
		if err := s.submit(ctx, 1024*len(part), func(w *wtx) error {
			for _, lane := range part {
				seqs := w.laneView(lane)
				if len(seqs) == 0 {
					w.setHeld(lane, false)
					continue
				}
				_, err := getValue(w.txn, binary.BigEndian.AppendUint64(lanePrefix(lane.webhook, lane.workOrder), uint64(seqs[0])))
				if errors.Is(err, store.ErrNotFound) {
					if err := w.promote(lane); err != nil {
						return err
					}
				} else if err != nil {
					return err
				}
			}
			return nil
		}); err != nil {
			return err
		}
	}
	return nil
}
