package badger

import (
	"bytes"
	"slices"

	"github.com/hookgate/hookgate/store"
)

// Claim runs: skipping a blocked backlog in one seek.
//
// The queue is one index across all webhooks, so while a webhook with a
// large backlog is at its limit every claim had to walk past all its keys
// (by key, thanks to the refused memo, but up to maxMemoSkipPerClaim of them)
// to reach other webhooks' deliveries behind them. A claimRun remembers a key
// range a scan passed over: every queued key in [first, last] was then either
// a delivery the filter refused for one of the run's blockers (a webhook, or
// a whole company at its share of the workers: blocker), or claimed. A later
// scan that reaches a key in the range while every blocker of the run is
// still blocked seeks past last instead of walking it. A company's backlog
// interleaves all its webhooks in due order, so only the company as one
// blocker makes it one run.
//
// Invariant: every queued key in a remembered run's range is a delivery of
// one of its blockers, or claimed. It holds because
//   - a delivery's webhook and company never change, and deleting keys
//     cannot break it;
//   - a claimed key never becomes claimable again in place (see claimIn);
//     releaseAll, which forgets claims, forgets every run;
//   - every queue key is written by wtx.enqueue, and each commit that
//     enqueues drops the runs of that priority whose last due time is at or
//     after the earliest due it enqueues, before the commit (beginEnqueue)
//     and again after it (committed); while it commits, no scan remembers
//     such a run (its snapshot may lack the new keys). New keys are
//     normally due at or after now, after every run (a run only holds keys
//     due by the claim's now), so this only drops runs on a clock step back
//     or an explicit earlier due.
//
// A run whose blockers are not all blocked is scanned normally (it stays
// valid: the keys claimed from it are claimed keys), and what the scan finds
// in it builds a run that replaces it: otherwise a run remembered with
// blockers that no longer hold (webhooks refused before they were known,
// since admitted) would be walked by every claim while its keys are now
// refused for their company. Dropping a run is always safe: it only costs a
// longer scan.
type claimRun struct {
	first, last []byte    // full queue keys, inclusive
	lastDue     uint64    // due time in last
	hooks       []blocker // what refused the keys in the range: webhooks or companies (≤ maxRunHooks)
	n           int       // keys passed over in the range when it was scanned
	used        uint64    // claimSet.runClock when remembered or last skipped
}

const (
	// minRunKeys: a shorter run costs less to walk than to remember.
	minRunKeys = 32
	// maxRuns bounds the runs remembered per priority; the least recently
	// used is forgotten first.
	maxRuns = 64
	// maxRunHooks bounds the blockers of one run (all must be blocked to
	// skip it): backlogs of several webhooks blocked together (the slow
	// share used up) interleave in due order.
	maxRunHooks = 8
)

// dropRunsFrom forgets the runs that a key enqueued at due[p] may fall in.
// c.mu is held.
func (c *claimSet) dropRunsFrom(due [3]uint64) {
	for p, d := range due {
		if d == noHint[p] || len(c.runs[p]) == 0 {
			continue
		}
		c.runs[p] = slices.DeleteFunc(c.runs[p], func(r *claimRun) bool { return r.lastDue >= d })
	}
}

// pruneRuns forgets the runs wholly before the hint: no scan reaches them
// (lowering the hint to one means enqueueing into it, which drops it).
// c.mu is held.
func (c *claimSet) pruneRuns(prio int) {
	h := c.hint[prio]
	c.runs[prio] = slices.DeleteFunc(c.runs[prio], func(r *claimRun) bool { return r.lastDue < h })
}

// saveRuns remembers the runs a scan found (disjoint, in key order),
// replacing the runs they overlap (those they merged). c.mu is held.
func (c *claimSet) saveRuns(prio int, found []claimRun) {
	for i := range found {
		r := &found[i]
		if r.n < minRunKeys || r.lastDue >= c.committing[prio] {
			continue // too short, or the committing group may enqueue into it
		}
		c.runClock++
		nr := &claimRun{first: bytes.Clone(r.first), last: bytes.Clone(r.last), lastDue: r.lastDue,
			hooks: slices.Clone(r.hooks), n: r.n, used: c.runClock}
		runs := slices.DeleteFunc(c.runs[prio], func(o *claimRun) bool {
			return bytes.Compare(o.first, nr.last) <= 0 && bytes.Compare(nr.first, o.last) <= 0
		})
		at, _ := slices.BinarySearchFunc(runs, nr, func(a, b *claimRun) int { return bytes.Compare(a.first, b.first) })
		runs = slices.Insert(runs, at, nr)
		if len(runs) > maxRuns {
			oldest := 0
			for j, o := range runs {
				if o.used < runs[oldest].used {
					oldest = j
				}
			}
			runs = slices.Delete(runs, oldest, oldest+1)
		}
		c.runs[prio] = runs
	}
}

// runScan is one claim scan's view of the runs: which run the iterator is
// in, and the run it is building from the keys it passes over.
type runScan struct {
	runs []*claimRun // the priority's runs at the start of the scan, in key order
	j    int         // first run whose last key is at or after the iterator
	in   *claimRun   // the run being scanned key by key (not all blocked)
	// notBlocked caches that run `in` was not all blocked after `admits`
	// admissions (only an admission makes a webhook more blocked).
	notBlocked *claimRun
	checkedAt  int
	admits     int

	cur    claimRun // the run being built; active when cur.n > 0
	curBuf [2][]byte
	found  []claimRun
}

// at returns the run holding k, if any. A run scanned key by key is
// rebuilt from what this scan finds in it (the run being built goes on
// past it), so one whose blockers no longer all hold — webhooks refused
// while not yet known, since known and admitted — is replaced by one of
// what refuses its keys now, instead of being walked by every claim.
func (t *runScan) at(k []byte) *claimRun {
	for t.j < len(t.runs) && bytes.Compare(t.runs[t.j].last, k) < 0 {
		if t.in == t.runs[t.j] {
			t.in = nil
		}
		t.j++
	}
	if t.j < len(t.runs) && bytes.Compare(t.runs[t.j].first, k) <= 0 {
		return t.runs[t.j]
	}
	return nil
}

// blocked reports whether every blocker of r is blocked now.
func (t *runScan) blocked(r *claimRun, f store.ClaimFilter) bool {
	if t.notBlocked == r && t.checkedAt == t.admits {
		return false
	}
	for _, h := range r.hooks {
		if !h.blocked(f) {
			t.notBlocked, t.checkedAt = r, t.admits
			return false
		}
	}
	return true
}

// enter starts scanning r key by key: the run being built ends before it.
func (t *runScan) enter(r *claimRun) {
	if t.in != r {
		t.end()
		t.in = r
	}
}

// skip passes over r (all blocked) in one seek, merging it into the run
// being built when the keys before it are part of that run.
func (t *runScan) skip(r *claimRun, used uint64) {
	r.used = used
	t.in = nil
	t.j++
	if t.cur.n > 0 {
		hooks := t.cur.hooks
		for _, h := range r.hooks {
			if !slices.Contains(hooks, h) {
				hooks = append(hooks, h)
			}
		}
		if len(hooks) <= maxRunHooks {
			t.cur.hooks = hooks
			t.cur.last = append(t.cur.last[:0], r.last...)
			t.cur.lastDue, t.cur.n = r.lastDue, t.cur.n+r.n
			return
		}
		t.end()
	}
	t.start(r)
}

// start builds a new run from a copy of r.
func (t *runScan) start(r *claimRun) {
	t.cur = claimRun{first: append(t.curBuf[0][:0], r.first...), last: append(t.curBuf[1][:0], r.last...),
		lastDue: r.lastDue, hooks: slices.Clone(r.hooks), n: r.n}
}

// refused records that k was passed over because the filter refuses what
// b stands for.
func (t *runScan) refused(k []byte, due uint64, b blocker) {
	if t.cur.n > 0 && (slices.Contains(t.cur.hooks, b) || len(t.cur.hooks) < maxRunHooks) {
		if !slices.Contains(t.cur.hooks, b) {
			t.cur.hooks = append(t.cur.hooks, b)
		}
		t.cur.last = append(t.cur.last[:0], k...)
		t.cur.lastDue = due
		t.cur.n++
		return
	}
	t.end()
	t.cur = claimRun{first: append(t.curBuf[0][:0], k...), last: append(t.curBuf[1][:0], k...),
		lastDue: due, hooks: []blocker{b}, n: 1}
}

// claimed records that k, a claimed key, was passed over: it extends the
// run being built (a claimed key is never claimable again in place).
func (t *runScan) claimed(k []byte, due uint64) {
	if t.cur.n == 0 {
		return
	}
	t.cur.last = append(t.cur.last[:0], k...)
	t.cur.lastDue = due
	t.cur.n++
}

// end closes the run being built (at a key that cannot be part of it).
func (t *runScan) end() {
	if t.cur.n >= minRunKeys {
		// Saved at the end of the scan: copy out of the reused buffers.
		t.cur.first, t.cur.last = bytes.Clone(t.cur.first), bytes.Clone(t.cur.last)
		t.found = append(t.found, t.cur)
	} else if t.cur.n > 0 {
		t.curBuf = [2][]byte{t.cur.first, t.cur.last}
	}
	t.cur = claimRun{}
}

// afterKey is the smallest key greater than k.
func afterKey(k []byte) []byte { return append(append(make([]byte, 0, len(k)+1), k...), 0) }
