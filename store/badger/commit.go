package badger

import (
	"context"
	"errors"
	"fmt"
	"time"

	badger "github.com/dgraph-io/badger/v4"

	"github.com/hookgate/hookgate/store"
)

// Group commit.
//
// A synced badger transaction costs ~0.6 ms here whatever its size, and
// badger barely batches concurrent committers, so every write of the store
// goes through one goroutine (commitLoop): it takes whatever operations are
// waiting, applies them in order to ONE transaction, commits it with
// SyncWrites (one fsync for the whole group) and only then releases the
// callers. Being the only writer also means no conflict between our own
// transactions, so badger's conflict detection is off (badgerOptions),
// ClaimDue cannot hand out a delivery twice, and the idempotency check
// sees earlier operations of the same group (badger transactions read
// their own pending writes).
//
// Outcomes. With storage.outcome_sync_delay > 0 (Options.OutcomeSyncDelay)
// badger does not sync each commit; the committer does. A group of only
// attempt outcomes (op.lazy) is committed — applied, readable, in the
// page cache, so a killed process loses nothing — and its callers go on
// without a sync. The committer syncs such writes at most the delay
// later, and at once before and after any group that needs durability (a
// publish is acknowledged only once synced, as before). Syncing first
// keeps what survives a power loss a prefix of what was committed: badger
// syncs only the current memtable's log, and a group that rotates the
// memtable would otherwise be durable while outcomes before it in the old
// log are not. And each of the committer's syncs covers the logs badger
// rotated out since the last (wal.go), for a group committed as several
// transactions that straddle a rotation. What a power loss can take is the outcomes of the last
// delay: those deliveries are sent again with the same delivery id, which
// at-least-once allows; no accepted event is lost. A claim does not see a
// durable group between its commit and its sync (Store.syncGate), so no
// delivery is sent for a publish that a power loss could still take. The
// syncs were about a tenth of the gateway's CPU per delivery when
// draining (docs/storage.md, "Outcomes").

const (
	// maxGroupOps bounds one group; it is also the queue length callers
	// can add while a group commits.
	maxGroupOps = 512
	// maxGroupBytes keeps a group well under badger's transaction limit
	// (15% of the memtable); an operation that still overflows is split off.
	// It counts what badger counts: keys and the values kept in the LSM,
	// not values bound for the value log (op.logSize).
	maxGroupBytes = 1 << 20
	// maxGroupLogBytes bounds the value-log bytes of one group (payloads of
	// valueThreshold and more), which badger does not hold against the
	// transaction: a few bulk publishes share one group and one sync, and
	// no caller waits behind tens of megabytes.
	maxGroupLogBytes = 8 << 20
)

// op is one caller's write. run may be called more than once (when the group
// is re-run after another op failed or the transaction grew too big), so it
// must only touch the transaction and its own result variables, resetting
// them each time.
type op struct {
	run     func(w *wtx) error
	size    int // estimated bytes toward the transaction limit (maxGroupBytes)
	logSize int // estimated value-log bytes (maxGroupLogBytes)
	// lazy: the caller needs the write applied, not synced (an attempt's
	// outcome; see "Outcomes" above).
	lazy bool
	err  error
	done chan struct{}
}

// submit queues run for the next group and waits until the group is synced.
func (s *Store) submit(ctx context.Context, size int, run func(w *wtx) error) error {
	o := newOp(size, run)
	if err := s.enqueue(ctx, o); err != nil {
		return err
	}
	<-o.done
	return o.err
}

func newOp(size int, run func(w *wtx) error) *op {
	return &op{run: run, size: size, done: make(chan struct{})}
}

// submitOps queues ops one after the other (so usually committed in one
// group) and waits until every one queued is synced; each op's own outcome
// is in its err. The error is the reason ops were not queued (closed
// store, ctx): when none was, it is returned and none ran; when it came
// half way, the ones queued before have been waited for, the rest carry
// the error as their own, and submitOps returns nil.
func (s *Store) submitOps(ctx context.Context, ops ...*op) error {
	var err error
	queued := 0
	for _, o := range ops {
		if err = s.enqueue(ctx, o); err != nil {
			break
		}
		queued++
	}
	for _, o := range ops[:queued] {
		<-o.done
	}
	if err != nil && queued > 0 {
		for _, o := range ops[queued:] {
			o.err = err
		}
		return nil
	}
	return err
}

// submitAll is submitOps for callers that need only whether all of ops
// were written: the first refusal or failure, joined.
func (s *Store) submitAll(ctx context.Context, ops []*op) error {
	if err := s.submitOps(ctx, ops...); err != nil {
		return err
	}
	var err error
	for _, o := range ops {
		err = errors.Join(err, o.err)
	}
	return err
}

// enqueue hands o to the committer. ctx is honoured while waiting to
// enqueue; once queued the commit takes milliseconds and the caller waits
// for it, so a cancelled caller never leaves a write whose outcome it does
// not know.
func (s *Store) enqueue(ctx context.Context, o *op) error {
	if err := ctx.Err(); err != nil {
		return err
	}
	s.mu.RLock()
	defer s.mu.RUnlock()
	if s.closed {
		return store.ErrClosed
	}
	select {
	case s.ops <- o:
		return nil
	case <-ctx.Done():
		return ctx.Err()
	}
}

// commitLoop is the only writer. It exits when Close closes ops, after
// committing everything that was queued and syncing it.
func (s *Store) commitLoop() {
	defer close(s.committerDone)
	batch := make([]*op, 0, maxGroupOps)
	syncTimer := time.NewTimer(time.Hour)
	syncTimer.Stop()
	defer syncTimer.Stop()
	for {
		var o *op
		ok := true
		select {
		case o, ok = <-s.ops:
		case <-syncTimer.C:
			if s.syncUnsynced(); !s.unsyncedSince.IsZero() {
				syncTimer.Reset(s.syncDelay) // it failed: try again
			}
			continue
		}
		if !ok {
			break
		}
		g := group{ops: append(batch[:0], o), size: o.size, logSize: o.logSize}
		s.gather(&g, maxGroupOps, nil) // whatever is waiting
		if s.commitDelay > 0 && len(g.ops) < commitDelayOps && !allLazy(g.ops) {
			hold := time.NewTimer(s.commitDelay)
			s.gather(&g, commitDelayOps, hold.C)
			hold.Stop()
		}
		batch = g.ops
		wasSynced := s.unsyncedSince.IsZero()
		s.commitGroup(batch)
		switch {
		case s.unsyncedSince.IsZero():
		case time.Since(s.unsyncedSince) >= s.syncDelay:
			// Groups keep coming: the timer would not get its turn.
			s.syncUnsynced()
		case wasSynced:
			syncTimer.Reset(s.syncDelay)
		}
	}
	s.syncUnsynced()
}

// Commit delay. A sync costs the same for one write as for many (~170 µs
// of CPU here, most of it the kernel cleaning and re-faulting the mmapped
// logs' pages), and at a steady rate with few requests at once every
// publish paid one: at 1,000 events/s that was most of the gateway's CPU.
// With storage.commit_delay the committer holds a group that must be
// synced for up to that long, for the writes that come meanwhile to share
// its sync (PostgreSQL's commit_delay). It stops holding once
// commitDelayOps writes have joined: a sync is then shared enough, and a
// burst is not slowed.
const commitDelayOps = 8

// group is a batch being gathered and its estimated sizes.
type group struct {
	ops           []*op
	size, logSize int
}

// gather adds ops from the queue to g until it holds maxOps or reaches the
// group bounds: those already waiting when wait is nil, else those that
// come before wait fires. A closed queue ends it; the loop then sees it
// closed.
func (s *Store) gather(g *group, maxOps int, wait <-chan time.Time) {
	for len(g.ops) < maxOps && g.size < maxGroupBytes && g.logSize < maxGroupLogBytes {
		var o *op
		ok := true
		if wait == nil {
			select {
			case o, ok = <-s.ops:
			default:
				return
			}
		} else {
			select {
			case o, ok = <-s.ops:
			case <-wait:
				return
			}
		}
		if !ok {
			return
		}
		g.ops = append(g.ops, o)
		g.size += o.size
		g.logSize += o.logSize
	}
}

// commitGroup commits batch in as few transactions as fit, then releases
// every caller once what it needs is done: synced (by SyncWrites, or
// here), or only applied for a group of outcomes (see "Outcomes").
func (s *Store) commitGroup(batch []*op) {
	// With a delay, badger does not sync commits: the committer does.
	// A durable group syncs what outcomes left first (see "Outcomes" on
	// prefixes), and wtx.commit takes the claims' gate for it.
	durable := !allLazy(batch)
	if s.gating = s.syncDelay > 0 && durable; s.gating {
		s.syncUnsynced()
	}
	for rest := batch; len(rest) > 0; {
		rest = rest[s.commitPrefix(rest):]
	}
	switch {
	case s.syncDelay <= 0: // SyncWrites synced each commit
	case durable:
		if s.beforeSync != nil {
			s.beforeSync()
		}
		s.syncs.Add(1)
		if err := s.syncAll(); err != nil {
			s.log.Error("store: sync failed; the group's writes may not survive a power loss", "err", err)
			for _, o := range batch {
				if o.err == nil && !o.lazy {
					o.err = fmt.Errorf("store: sync: %w", err)
				}
			}
		}
	case s.unsyncedSince.IsZero():
		s.unsyncedSince = time.Now() // wall time: it bounds a durability window
	}
	if s.gateHeld {
		s.syncGate.Unlock()
		s.gateHeld = false
	}
	for _, o := range batch {
		close(o.done)
	}
}

func allLazy(batch []*op) bool {
	for _, o := range batch {
		if !o.lazy {
			return false
		}
	}
	return true
}

// syncUnsynced syncs what groups of outcomes left unsynced, if any.
func (s *Store) syncUnsynced() {
	if s.unsyncedSince.IsZero() {
		return
	}
	s.syncs.Add(1)
	if err := s.syncAll(); err != nil {
		// Kept as unsynced: the next group or tick tries again.
		s.log.Error("store: syncing attempt outcomes failed", "err", err)
		return
	}
	s.unsyncedSince = time.Time{}
}

// commitPrefix commits the longest prefix of ops that fits one transaction,
// setting err on ops that fail, and returns how many ops it consumed.
func (s *Store) commitPrefix(ops []*op) int {
	extra := 0
	for {
		w := s.begin()
		i, err := w.apply(ops)
		if err != nil {
			w.txn.Discard()
			if errors.Is(err, badger.ErrTxnTooBig) && i > 0 {
				ops, extra = ops[:i], 0 // the rest goes to the next transaction
				continue
			}
			ops[i].err = err // this op alone fails; commit those before it
			if i == 0 {
				return 1
			}
			ops, extra = ops[:i], 1
			continue
		}
		err = w.commit()
		for _, o := range ops {
			o.err = err
		}
		return len(ops) + extra
	}
}

// wtx is one group's transaction plus the committer state it changes, which
// is published only when the transaction commits.
type wtx struct {
	s          *Store
	txn        *badger.Txn
	depth      [3]int64
	depthDirty bool
	hint       [3]uint64 // lowest due time enqueued per priority in this group
	recorded   []string  // deliveries whose claims the commit releases
	// recordedSet holds the same ids: a second attempt of one of them in
	// the group moves from the transaction's record, not the claim's copy.
	recordedSet map[string]struct{}
	// changed: the group changed a stored delivery otherwise than from its
	// claim's copy; its commit moves Store.epoch.
	changed bool
	usage   map[int64]int64 // change of each company's stored event bytes (usage.go)
	// stats: the group's new stats of each webhook it recorded attempts
	// of, written once each at commit and then cached (statsCache).
	stats map[string]*store.WebhookStats
	// writes counts the keys the group sets and deletes (Store.keyWrites).
	writes int
	// expiring: the events whose retention clocks the group started, due
	// at expiryAt; commit writes them as one expiry block (delivery.go).
	expiring []string
	expiryAt uint64
	// laneSeqs are the lanes the group touched, as it leaves them, and
	// held which of them it found or left held (lanes.go): published
	// once it commits.
	laneSeqs map[laneID][]int64
	held     map[laneID]bool
}

func (s *Store) begin() *wtx {
	w := &wtx{s: s, txn: s.db.NewTransaction(true), hint: noHint}
	s.depthMu.Lock()
	w.depth = s.depth
	s.depthMu.Unlock()
	return w
}

// apply runs ops in order; on error it returns the failing op's index.
func (w *wtx) apply(ops []*op) (int, error) {
	for i, o := range ops {
		o.err = nil
		if err := o.run(w); err != nil {
			return i, err
		}
	}
	return len(ops), nil
}

func (w *wtx) commit() (err error) {
	defer w.txn.Discard()
	if w.depthDirty {
		if err := w.set(keyDepth, encodeDepth(w.depth)); err != nil {
			return err
		}
	}
	usage, err := w.writeUsage()
	if err != nil {
		return err
	}
	if err := w.writeExpiring(); err != nil {
		return err
	}
	for id, st := range w.stats {
		if err := w.set(statsKey(id), encodeStats(*st)); err != nil {
			return err
		}
	}
	// Lower the claim scan's start for the keys this group enqueues, and
	// keep scans from raising it above them until they are visible; then
	// release the claims of the attempts recorded (see claimSet.committed).
	if w.hint != noHint {
		w.s.claims.beginEnqueue(w.hint)
	}
	if w.hint != noHint || len(w.recorded) > 0 {
		defer func() { w.s.claims.committed(w.hint, w.recorded, err == nil) }()
	}
	if w.changed {
		// After the commit (even a failed one: it may have been applied):
		// a claim whose snapshot predates the commit read the epoch before
		// this, so it will not trust its copy of the record.
		defer w.s.epoch.Add(1)
	}
	if w.s.gating && !w.s.gateHeld {
		// Only now: the commit makes the group visible, and a claim
		// waits from here until commitGroup has synced it (syncGate).
		w.s.syncGate.Lock()
		w.s.gateHeld = true
	}
	if err := w.txn.Commit(); err != nil {
		return err
	}
	if len(w.laneSeqs) > 0 || len(w.held) > 0 {
		w.s.claims.mu.Lock()
		w.s.claims.publishLanes(w.laneSeqs, w.held)
		w.s.claims.mu.Unlock()
	}
	if w.depthDirty {
		w.s.depthMu.Lock()
		w.s.depth = w.depth
		w.s.depthMu.Unlock()
	}
	w.s.publishUsage(usage)
	w.s.stats.publish(w.stats)
	w.s.keyWrites.Add(uint64(w.writes))
	return nil
}

func (w *wtx) set(k, v []byte) error { w.writes++; return w.txn.Set(k, v) }

// setExpiring writes k with the log-retention TTL.
func (w *wtx) setExpiring(k, v []byte) error {
	w.writes++
	return w.txn.SetEntry(badger.NewEntry(k, v).WithTTL(w.s.retention))
}

func (w *wtx) del(k []byte) error { w.writes++; return w.txn.Delete(k) }

// enqueue adds d's queue key and counts it. rec is d's record: the queue
// key carries it, so that a claim reads the delivery from the queue scan it
// is already doing instead of looking the record up at random in the LSM (a
// tenth of the gateway's CPU when draining a backlog), and the d/ key holds
// only a reference to it (format 6). transition rewrites both together.
func (w *wtx) enqueue(d *store.Delivery, rec []byte) error {
	if err := w.set(queueKey(d.Priority, d.DueAt, d.ID), rec); err != nil {
		return err
	}
	w.depth[d.Priority]++
	w.depthDirty = true
	if due := timeKey(d.DueAt); due < w.hint[d.Priority] {
		w.hint[d.Priority] = due
	}
	return nil
}

// dequeue removes d's queue key (d as stored: pending at its DueAt) and
// uncounts it; a delivery waiting in its lane (laneWaiting) has no key
// but is counted all the same: the depth is every pending delivery.
func (w *wtx) dequeue(d *store.Delivery, flags deliveryFlags) error {
	if flags&laneWaiting == 0 {
		if err := w.del(queueKey(d.Priority, d.DueAt, d.ID)); err != nil {
			return err
		}
	}
	w.depth[d.Priority]--
	w.depthDirty = true
	return nil
}

// countWaiting counts d, pending behind its lane's head and not queued.
func (w *wtx) countWaiting(d *store.Delivery) {
	w.depth[d.Priority]++
	w.depthDirty = true
}
