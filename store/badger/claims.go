package badger

import (
	"math"
	"sync"

	"github.com/hookgate/hookgate/store"
)

// claimSet is the in-memory record of deliveries handed to workers.
//
// A claim is not written to disk: the delivery stays pending with its queue
// key until RecordAttempt moves it on. So claiming costs one read snapshot
// instead of a synced write, and after a crash every unrecorded claim is
// simply pending again, with the same uuid and attempt count — exactly what
// at-least-once delivery needs, with nothing to undo at start.
//
// Lock order: claimSet.mu may be taken inside the committer (around a commit,
// or to read the set while applying an op); ClaimDue holds it while reading a
// snapshot but never waits for the committer. So no cycle.
type claimSet struct {
	mu     sync.Mutex
	ids    map[string]claim // delivery id -> what was claimed
	byPrio [3]int
	// hint is, per priority, where the claim scan seeks: at or below the due
	// time of every queued key that is not claimed, so scans skip the
	// tombstones that recorded deliveries leave at the head of the queue and
	// the keys of deliveries in flight (see claimIn).
	hint [3]uint64
	// committing is, per priority, the earliest due time the group being
	// committed enqueues (noHint when none): a scan never moves the hint
	// above it, because the keys may become visible to the next snapshot
	// before committed runs (see beginEnqueue).
	committing [3]uint64
	// refused remembers why a claim filter refused each due delivery (its
	// webhook or its company was blocked), so the next scans pass over it
	// by key while that still holds. Bounded by maxRefusedMemo; losing it
	// only costs reads.
	refused map[string]blocker
	// runs are, per priority, key ranges of refused deliveries that scans
	// skip in one seek while their webhooks are blocked (claimruns.go),
	// disjoint and in key order.
	runs     [3][]*claimRun
	runClock uint64
	// lanes are the lanes of ordered webhooks with a delivery claimed:
	// none of their other deliveries may be claimed (lanes.go).
	lanes map[laneID]struct{}
	// heads are the sequences of every lane's L/ keys, sorted, as of the
	// groups committed so far (lanes.go): the lane gate's answer without a
	// seek, and what a group starts from when it adds to or removes from
	// a lane (wtx.laneView).
	heads map[laneID][]int64
	// held are the lanes whose head is a dead delivery holding them: its
	// L/ key expires with it (sweepHeldLanes).
	held map[laneID]struct{}
	// corrupt are queued deliveries whose records could not be decoded:
	// claim scans pass over them (they can never be sent) without reading
	// or logging them again. Kept across releaseAll: it is about the
	// record, not the claim. Bounded by maxCorruptMemo.
	corrupt map[string]struct{}
	// iterated counts the queue keys claim scans visited (for tests).
	iterated uint64
}

// maxCorruptMemo bounds claimSet.corrupt; past it a corrupt record is
// read, and logged, by each scan that reaches it.
const maxCorruptMemo = 10000

// markCorrupt remembers that the queued delivery id cannot be decoded.
// c.mu is held.
func (c *claimSet) markCorrupt(id string) {
	if c.corrupt == nil {
		c.corrupt = map[string]struct{}{}
	}
	if len(c.corrupt) < maxCorruptMemo {
		c.corrupt[id] = struct{}{}
	}
}

// claim is one delivery handed to a worker.
type claim struct {
	prio     int
	attempts int // the delivery's attempt count when claimed
	// rec and flags are the delivery as stored in the claim's snapshot,
	// and epoch the store's change epoch read before that snapshot was
	// taken. While the epoch has not moved, no delivery has changed except
	// by the recording of claimed attempts, and this delivery's own
	// attempt is not recorded before its claim is released, so rec is
	// still what is stored: RecordAttempt moves from it without reading the
	// record again (storedRecord).
	rec   store.Delivery
	flags deliveryFlags
	epoch uint64
}

// storedRecord returns the claimed delivery's record as stored, when the
// claim still knows it: the delivery is claimed and no delivery changed
// otherwise than by a claimed attempt since the claim's snapshot.
func (c *claimSet) storedRecord(id string, epoch uint64) (*store.Delivery, deliveryFlags, bool) {
	c.mu.Lock()
	defer c.mu.Unlock()
	cl, ok := c.ids[id]
	if !ok || cl.epoch != epoch {
		return nil, 0, false
	}
	d := cl.rec
	return &d, cl.flags, true
}

// maxRefusedMemo bounds claimSet.refused (about 100 bytes an entry).
const maxRefusedMemo = 200_000

// refuse remembers why a delivery was refused. c.mu is held.
func (c *claimSet) refuse(id string, b blocker) {
	if c.refused == nil || len(c.refused) >= maxRefusedMemo {
		c.refused = make(map[string]blocker)
	}
	c.refused[id] = b
}

// blocker is what a claim filter refused a delivery for: its whole company
// (webhook empty) or its webhook.
type blocker struct {
	company int64
	webhook string
	// lane, when set: the delivery (sequence seq) waited in its lane
	// (lanes.go); it stays refused while the lane is claimed or an earlier
	// sequence is open (laneWaits).
	lane *laneID
	seq  int64
}

// blockerOf names what refused d: its company when the filter reports the
// company blocked (every delivery of it is refused), else its webhook.
func blockerOf(d *store.Delivery, f store.ClaimFilter) blocker {
	if f.BlockedCompany != nil && f.BlockedCompany(d.CompanyID) {
		return blocker{company: d.CompanyID}
	}
	return blocker{webhook: d.WebhookID}
}

// blocked reports whether the filter still refuses every delivery b
// stands for.
func (b blocker) blocked(f store.ClaimFilter) bool {
	if b.lane != nil {
		return false // claimIn checks it against the claimed lanes first
	}
	if b.webhook == "" {
		return f.BlockedCompany != nil && f.BlockedCompany(b.company)
	}
	return f.Blocked != nil && f.Blocked(b.webhook)
}

// inFlight reports whether the stored delivery d is claimed and its attempt
// not yet recorded. Once RecordAttempt has committed, the stored attempt
// count has moved past the claimed one and the stored state is the truth,
// even in the instant before the claim is released.
func (c *claimSet) inFlight(d *store.Delivery) bool {
	c.mu.Lock()
	defer c.mu.Unlock()
	cl, ok := c.ids[d.ID]
	return ok && cl.attempts == d.Attempts
}

// releaseAll forgets every claim and returns how many there were.
func (c *claimSet) releaseAll() int {
	c.mu.Lock()
	defer c.mu.Unlock()
	n := len(c.ids)
	c.ids = map[string]claim{}
	c.lanes = map[laneID]struct{}{}
	c.refused = nil
	c.runs = [3][]*claimRun{} // their claimed keys are claimable again
	c.byPrio = [3]int{}
	c.hint = [3]uint64{}
	return n
}

func (c *claimSet) counts() [3]int {
	c.mu.Lock()
	defer c.mu.Unlock()
	return c.byPrio
}

var noHint = [3]uint64{math.MaxUint64, math.MaxUint64, math.MaxUint64}

func newClaimSet() claimSet {
	return claimSet{ids: map[string]claim{}, lanes: map[laneID]struct{}{}, heads: map[laneID][]int64{},
		held: map[laneID]struct{}{}, committing: noHint}
}

// beginEnqueue is called before committing a group that enqueues keys due
// at `due`: lowering the hint only after the commit left a window in which a
// scan whose snapshot already held the new keys seeked from a hint an
// earlier scan had set above them, and missed them until the next claim. A
// lower hint is always safe: it only costs reading more keys.
func (c *claimSet) beginEnqueue(due [3]uint64) {
	c.mu.Lock()
	defer c.mu.Unlock()
	c.lower(due)
	c.dropRunsFrom(due)
	c.committing = due
}

// committed is called after every commit attempt of a group: it releases the
// claims whose attempts the group recorded (when it committed) and lowers
// the hint to the keys it enqueued, in one step, so no scan sees a recorded
// delivery's new queue key as still claimed and moves the hint past it.
func (c *claimSet) committed(due [3]uint64, recorded []string, ok bool) {
	c.mu.Lock()
	defer c.mu.Unlock()
	if ok {
		for _, id := range recorded {
			if cl, found := c.ids[id]; found {
				delete(c.ids, id)
				c.byPrio[cl.prio]--
				if cl.rec.Sequence > 0 {
					delete(c.lanes, laneOf(&cl.rec))
				}
			}
		}
	}
	c.lower(due)
	c.dropRunsFrom(due)
	c.committing = noHint
}

// lower lowers the hint to due. c.mu is held.
func (c *claimSet) lower(due [3]uint64) {
	for p, d := range due {
		c.hint[p] = min(c.hint[p], d)
	}
}

// heldClaims is what a read saw of the claims before its snapshot: the
// attempts count of each claimed delivery (claim.attempts).
type heldClaims map[string]int

// claimsNow returns the claims as they are now, for the ids given, or all of
// them when ids is empty. A read takes them BEFORE its snapshot: a claim
// released after the snapshot (its attempt recorded meanwhile) then still
// counts, and the read shows the delivery in flight, as it was when the
// snapshot was taken; taken after, the delivery showed as pending with its
// attempt missing.
func (c *claimSet) claimsNow(ids ...string) heldClaims {
	c.mu.Lock()
	defer c.mu.Unlock()
	if len(ids) > 0 {
		h := make(heldClaims, len(ids))
		for _, id := range ids {
			if cl, ok := c.ids[id]; ok {
				h[id] = cl.attempts
			}
		}
		return h
	}
	h := make(heldClaims, len(c.ids))
	for id, cl := range c.ids {
		h[id] = cl.attempts
	}
	return h
}

// overlay reports a delivery that was claimed (and not yet recorded) as
// in flight.
func (h heldClaims) overlay(d *store.Delivery) *store.Delivery {
	if d == nil || d.State != store.DeliveryPending {
		return d
	}
	if attempts, ok := h[d.ID]; ok && attempts == d.Attempts {
		d.State = store.DeliveryInFlight
	}
	return d
}
