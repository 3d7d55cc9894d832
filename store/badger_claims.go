package store

import (
	"sync"
)

// claimSet is the in-memory record of deliveries handed to workers.
//
// A claim is not written to disk: the delivery stays pending with its queue
// key until RecordAttempt moves it on. So claiming costs one read snapshot
// instead of a synced write, and after a crash every unrecorded claim is
// simply pending again, with the same uuid and attempt count — exactly what
// at-least-once delivery needs, with nothing to undo at start.
//
// Lock order: claimSet.mu may be taken inside the committer (after a commit,
// or to read the set while applying an op); ClaimDue holds it while reading a
// snapshot but never waits for the committer. So no cycle.
type claimSet struct {
	mu     sync.Mutex
	ids    map[string]claim // delivery id -> what was claimed
	byPrio [3]int
	// hint is, per priority, where the claim scan seeks: at or below the due
	// time of every queued key not yet seen by a scan, so scans skip the
	// tombstones that recorded deliveries leave at the head of the queue.
	hint [3]uint64
	// refused remembers the webhook of each due delivery a claim filter
	// refused, so the next scans pass over it by key while that webhook is
	// still blocked. Bounded by maxRefusedMemo; losing it only costs reads.
	refused map[string]string
}

// claim is one delivery handed to a worker.
type claim struct {
	prio     int
	attempts int // the delivery's attempt count when claimed
}

// maxRefusedMemo bounds claimSet.refused (about 100 bytes an entry).
const maxRefusedMemo = 200_000

// refuse remembers a refused delivery's webhook. c.mu is held.
func (c *claimSet) refuse(id, webhookID string) {
	if c.refused == nil || len(c.refused) >= maxRefusedMemo {
		c.refused = make(map[string]string)
	}
	c.refused[id] = webhookID
}

// inFlight reports whether the stored delivery d is claimed and its attempt
// not yet recorded. Once RecordAttempt has committed, the stored attempt
// count has moved past the claimed one and the stored state is the truth,
// even in the instant before the claim is released.
func (c *claimSet) inFlight(d *Delivery) bool {
	c.mu.Lock()
	defer c.mu.Unlock()
	cl, ok := c.ids[d.ID]
	return ok && cl.attempts == d.Attempts
}

// release forgets a claim once its attempt is recorded.
func (c *claimSet) release(id string) {
	c.mu.Lock()
	defer c.mu.Unlock()
	if cl, ok := c.ids[id]; ok {
		delete(c.ids, id)
		c.byPrio[cl.prio]--
	}
}

// releaseAll forgets every claim and returns how many there were.
func (c *claimSet) releaseAll() int {
	c.mu.Lock()
	defer c.mu.Unlock()
	n := len(c.ids)
	c.ids = map[string]claim{}
	c.refused = nil
	c.byPrio = [3]int{}
	c.hint = [3]uint64{}
	return n
}

func (c *claimSet) counts() [3]int {
	c.mu.Lock()
	defer c.mu.Unlock()
	return c.byPrio
}

// lowerHint is called after a commit that enqueued keys due at `due`.
func (c *claimSet) lowerHint(due [3]uint64) {
	c.mu.Lock()
	defer c.mu.Unlock()
	for p, d := range due {
		if d < c.hint[p] {
			c.hint[p] = d
		}
	}
}

// overlay reports a claimed delivery as in flight.
func (c *claimSet) overlay(d *Delivery) *Delivery {
	if d != nil && d.State == DeliveryPending && c.inFlight(d) {
		d.State = DeliveryInFlight
	}
	return d
}
