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
// The first L/ key of a lane is its head. A claim takes a sequenced
// delivery only when it is the head and nothing of its lane is claimed
// (claimSet.lanes), so a retry of the head keeps the lane waiting through
// its backoff, and after a crash the same head goes first again.

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

// laneChange is one L/ key a group adds or removes, applied to the
// in-memory lane heads (claimSet.heads) once the group has committed.
type laneChange struct {
	lane laneID
	seq  int64
	add  bool
}

// moveLane keeps d's L/ key in step with its state (see InLane).
func (w *wtx) moveLane(old, next *store.Delivery) error {
	was, is := old != nil && old.InLane(), next.InLane()
	if was != is {
		d := next
		if was {
			d = old
		}
		w.lanes = append(w.lanes, laneChange{laneOf(d), d.Sequence, is})
	}
	switch {
	case is && (!was || (old.State == store.DeliveryDead) != (next.State == store.DeliveryDead)):
		if next.State == store.DeliveryDead {
			// A held lane lasts as long as its dead record, no longer:
			// a head that expired would hold it forever.
			return w.setExpiring(laneKey(next), []byte(next.ID))
		}
		return w.set(laneKey(next), []byte(next.ID))
	case was && !is:
		return w.del(laneKey(old))
	}
	return nil
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
// The lane's sequences in memory (claimSet.heads) answer when they hold
// d's own: they lag the snapshot by at most the groups committed and not
// yet applied, so an earlier sequence they still hold is at worst one just
// finished (d waits for the next claim), never one they miss. When d is
// not there yet (its group's change is not applied), the snapshot's L/
// keys answer: one seek, which passes over the lane's deleted keys.
func (g *laneGate) open(c *claimSet, d *store.Delivery) bool {
	lane := laneOf(d)
	if _, busy := c.lanes[lane]; busy {
		return false
	}
	if seqs := c.heads[lane]; len(seqs) > 0 {
		if _, found := slices.BinarySearch(seqs, d.Sequence); found {
			return seqs[0] == d.Sequence
		}
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

// applyLanes applies a committed group's lane changes to the in-memory
// heads. c.mu is held.
func (c *claimSet) applyLanes(changes []laneChange) {
	for _, ch := range changes {
		seqs := c.heads[ch.lane]
		i, found := slices.BinarySearch(seqs, ch.seq)
		switch {
		case ch.add && !found:
			c.heads[ch.lane] = slices.Insert(seqs, i, ch.seq)
		case !ch.add && found:
			if seqs = slices.Delete(seqs, i, i+1); len(seqs) == 0 {
				delete(c.heads, ch.lane)
			} else {
				c.heads[ch.lane] = seqs
				if i == 0 {
					c.readyLane(ch.lane)
				}
			}
		}
	}
}

// loadLanes reads every L/ key into the in-memory heads, at open.
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
		}
		return nil
	})
}

// laneWaits reports, from memory alone, that the delivery of lane with
// sequence seq must still wait: a delivery of its lane is claimed, or an
// earlier sequence is open (the heads lag commits, so this errs towards
// waiting, and the commit that ends the wait wakes the claimer). c.mu is
// held.
func (c *claimSet) laneWaits(lane laneID, seq int64) bool {
	if _, busy := c.lanes[lane]; busy {
		return true
	}
	seqs := c.heads[lane]
	return len(seqs) > 0 && seqs[0] < seq
}

// maxReadyLanes bounds claimSet.ready.
const maxReadyLanes = 65536

// readyLane marks lane as having a new head. Claim scans pass over the
// keys waiting in lanes without holding their hint below them, so a lane
// that cannot be marked (the set is full) makes the scans start over from
// the queue's first key instead. c.mu is held.
func (c *claimSet) readyLane(lane laneID) {
	if len(c.ready) >= maxReadyLanes {
		c.hint = [3]uint64{}
		return
	}
	c.ready[lane] = struct{}{}
}

// claimReady claims, up to limit, the heads of the lanes that got a new
// head (claimSet.ready) that are of priority prio, pending, due by nowK,
// open at the gate and admitted by f. A head it cannot take now stays
// queued for the scan. c.mu is held.
func (s *Store) claimReady(txn *badger.Txn, gate *laneGate, prio int, nowK uint64, limit int, f store.ClaimFilter, epoch uint64) ([]*store.Delivery, error) {
	c := &s.claims
	var out []*store.Delivery
	for lane := range c.ready {
		if len(out) >= limit {
			break
		}
		seqs := c.heads[lane]
		if len(seqs) == 0 {
			delete(c.ready, lane)
			continue
		}
		item, err := txn.Get(binary.BigEndian.AppendUint64(lanePrefix(lane.webhook, lane.workOrder), uint64(seqs[0])))
		if errors.Is(err, badger.ErrKeyNotFound) {
			continue // its commit is not in this snapshot yet: next time
		}
		if err != nil {
			return out, err
		}
		id, err := item.ValueCopy(nil)
		if err != nil {
			return out, err
		}
		if _, claimed := c.ids[string(id)]; claimed {
			delete(c.ready, lane)
			continue
		}
		d, flags, err := getDeliveryRec(txn, string(id))
		if errors.Is(err, store.ErrNotFound) {
			delete(c.ready, lane)
			continue
		}
		if err != nil {
			return out, err
		}
		if d.Priority != prio {
			continue // its priority's claim takes it
		}
		if d.State != store.DeliveryPending {
			delete(c.ready, lane)
			continue
		}
		if timeKey(d.DueAt) > nowK {
			// Not yet due: the scan finds it, from a hint no later than its key.
			delete(c.ready, lane)
			c.hint[prio] = min(c.hint[prio], timeKey(d.DueAt))
			continue
		}
		// Admit last: it reserves room for the delivery it admits.
		if !gate.open(c, d) || (f.Blocked != nil && f.Blocked(d.WebhookID)) || (f.Admit != nil && !f.Admit(d)) {
			// Its lane's previous delivery is still claimed (its record
			// committed, its claim not yet released), an earlier one is
			// open again, or its webhook or company is at its share of the
			// workers: it stays ready for the next claim, as the scans
			// pass over it.
			continue
		}
		delete(c.ready, lane)
		delete(c.refused, d.ID)
		c.ids[d.ID] = claim{prio: prio, attempts: d.Attempts, rec: *d, flags: flags, epoch: epoch}
		d.State = store.DeliveryInFlight
		c.byPrio[prio]++
		c.lanes[lane] = struct{}{}
		out = append(out, d)
	}
	return out, nil
}
