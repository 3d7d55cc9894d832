package postgres

import (
	"slices"
	"sync"
	"time"

	"github.com/hookgate/hookgate/store"
)

// Claim runs: passing over a blocked company's backlog in one step.
//
// The queue is one index in due order across all companies, so while a
// company with a large backlog holds its share of the workers, a claim had
// to lock and read page after page of its rows to reach another company's
// delivery behind them. A claimRun remembers a range of the queue, [first,
// end) in (due_at, id) order (or [first, end] when endIncl), whose pending
// due rows all belonged to its companies when it was found (ClaimDueFunc,
// findRun). A later claim that reaches the range while all of them are
// still blocked (ClaimFilter.BlockedCompany) goes on past end. A range ends
// at a row, never at the claim's now: a publish whose due time was taken
// before that now but whose rows commit after the read would land inside.
//
// Rows that become pending inside a range after it was found are passed
// over with it: those another replica's clock stamped earlier than ours,
// and those whose lease ran out (requeued at their old due time). So a run
// lives claimRunTTL at most, and this replica's lease reaper forgets them
// all. New deliveries and retries are due at or after the claim's now,
// after every run. Forgetting a run is always safe: it only costs a read.
type claimRun struct {
	first, end pos
	endIncl    bool    // end, the run's last row, is in the range
	companies  []int64 // blocked companies whose rows fill the range (≤ maxRunCompanies)
	found      time.Time
}

// behind reports whether the run lies wholly before the place at (after:
// excluding at itself).
func (r claimRun) behind(at pos, after bool) bool {
	if r.endIncl {
		return r.end.less(at) || (r.end == at && after)
	}
	return !at.less(r.end)
}

// pos is a place in the queue's (due_at, id) order.
type pos struct {
	due time.Time
	id  string
}

func (a pos) less(b pos) bool {
	if c := a.due.Compare(b.due); c != 0 {
		return c < 0
	}
	return a.id < b.id
}

func posOf(d *store.Delivery) pos { return pos{due: d.DueAt, id: d.ID} }

// endOf is a place after every row due by now (timestamps are stored to
// the microsecond).
func endOf(now time.Time) pos { return pos{due: now.Add(time.Microsecond)} }

const (
	// claimRunTTL bounds how long a row that became pending inside a run
	// may be passed over (see claimRun); a run found again costs one read.
	claimRunTTL = time.Second
	// maxClaimRuns bounds the runs remembered per priority; the oldest go.
	maxClaimRuns = 64
	// maxRunCompanies bounds the companies of one run: backlogs of several
	// blocked companies interleave in due order.
	maxRunCompanies = 8
	// lookaheadEvery bounds how often a claim reads past a backlog refused
	// for its webhooks (claimScan.lookahead), which has no run to skip it:
	// another company's delivery behind it waits this long at most.
	lookaheadEvery = 250 * time.Millisecond
)

// claimRuns are the runs of each priority, disjoint and in order.
type claimRuns struct {
	mu       sync.Mutex // also serializes this replica's filtered claims
	runs     [3][]claimRun
	lookedAt [3]time.Time // last lookahead per priority
}

// lookaheadDue reports whether a lookahead may run now, and notes it.
// r.mu is held.
func (r *claimRuns) lookaheadDue(prio int, now time.Time) bool {
	if now.Sub(r.lookedAt[prio]) < lookaheadEvery {
		return false
	}
	r.lookedAt[prio] = now
	return true
}

// live drops the runs older than claimRunTTL and returns the others.
// r.mu is held.
func (r *claimRuns) live(prio int, now time.Time) []claimRun {
	r.runs[prio] = slices.DeleteFunc(r.runs[prio], func(c claimRun) bool { return now.Sub(c.found) > claimRunTTL })
	return slices.Clone(r.runs[prio])
}

// save remembers the runs a claim found, replacing those they overlap.
// r.mu is held.
func (r *claimRuns) save(prio int, found []claimRun, now time.Time) {
	for _, n := range found {
		if !n.first.less(n.end) && !n.endIncl {
			continue
		}
		n.found = now
		// Ends taken as inclusive: a run touching another replaces it.
		runs := slices.DeleteFunc(r.runs[prio], func(o claimRun) bool { return !n.end.less(o.first) && !o.end.less(n.first) })
		at, _ := slices.BinarySearchFunc(runs, n, func(a, b claimRun) int {
			if a.first.less(b.first) {
				return -1
			}
			if b.first.less(a.first) {
				return 1
			}
			return 0
		})
		runs = slices.Insert(runs, at, n)
		if len(runs) > maxClaimRuns {
			oldest := 0
			for i, o := range runs {
				if o.found.Before(runs[oldest].found) {
					oldest = i
				}
			}
			runs = slices.Delete(runs, oldest, oldest+1)
		}
		r.runs[prio] = runs
	}
}

// forget drops every run (rows came back to the queue at old due times).
func (r *claimRuns) forget() {
	r.mu.Lock()
	defer r.mu.Unlock()
	r.runs = [3][]claimRun{}
}

// runCursor is one claim's walk along the queue: where the next page
// starts, and the remembered runs ahead of it.
type runCursor struct {
	runs    []claimRun
	j       int  // first run not behind the cursor
	at      pos  // the next page starts at at
	after   bool // ... excluding at itself
	end     pos  // past every row due by the claim's now
	blocked []int64
}

// next returns where the next page must stop (exclusive): at the next run
// ahead, after passing over the runs at the cursor whose companies are all
// blocked. done when nothing is left before end.
func (c *runCursor) next(isBlocked func(int64) bool) (upper pos, done bool) {
	for {
		if !c.at.less(c.end) {
			return pos{}, true
		}
		for c.j < len(c.runs) && c.runs[c.j].behind(c.at, c.after) {
			c.j++
		}
		if c.j == len(c.runs) {
			return c.end, false
		}
		r := c.runs[c.j]
		if c.at.less(r.first) {
			return minPos(r.first, c.end), false
		}
		c.j++
		if c.allBlocked(r, isBlocked) {
			c.jump(r)
			continue
		}
		// Read through r row by row, up to the next run.
		if c.j < len(c.runs) {
			return minPos(c.runs[c.j].first, c.end), false
		}
		return c.end, false
	}
}

// allBlocked reports whether every company of r is blocked now, noting
// them as blocked for the runs this claim finds.
func (c *runCursor) allBlocked(r claimRun, isBlocked func(int64) bool) bool {
	for _, co := range r.companies {
		if !isBlocked(co) {
			return false
		}
	}
	for _, co := range r.companies {
		c.blockedSeen(co)
	}
	return true
}

// blockedSeen notes company as blocked and returns every company noted.
func (c *runCursor) blockedSeen(company int64) []int64 {
	if !slices.Contains(c.blocked, company) {
		c.blocked = append(c.blocked, company)
	}
	return c.blocked
}

// pageEnd moves the cursor past a page of n rows asked up to upper.
func (c *runCursor) pageEnd(rows []*store.Delivery, n int, upper pos) {
	if len(rows) < n {
		c.at, c.after = upper, false // nothing else before upper
		return
	}
	c.at, c.after = posOf(rows[len(rows)-1]), true
}

// jump moves the cursor past a run just found.
func (c *runCursor) jump(r claimRun) { c.at, c.after = r.end, r.endIncl }

func minPos(a, b pos) pos {
	if a.less(b) {
		return a
	}
	return b
}
