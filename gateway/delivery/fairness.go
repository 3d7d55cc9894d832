package delivery

import (
	"sync"
	"time"

	"github.com/hookgate/hookgate/config"
	"github.com/hookgate/hookgate/store"
)

// fairness decides which due deliveries the dispatcher may hand to a worker
// now, so that no company and no receiver can hold back the others. Workers
// are shared across companies first, then across a company's webhooks:
//
//   - a company holds at most its limit of workers (companyLimit): while it
//     is the only one with work, all but delivery.spare_workers of them, so
//     another company's next delivery finds a worker idle; once others have
//     due work too, an equal share, so a company's backlog is passed over
//     (by the store, in one step: ClaimFilter.BlockedCompany) instead of
//     being drained ahead of the others' deliveries;
//   - a webhook never has more than perWebhook attempts running at once;
//   - a webhook is slow when its recent attempts took longer than threshold
//     (a moving average) or one of its running attempts already has, and
//     until its first attempt ends it counts as slow too (so 100 new slow
//     receivers cannot take every worker before they are known); slow
//     webhooks together hold at most slowCap workers, so fast webhooks
//     always keep the rest — except that a company with nothing running
//     may start one past it on a spare worker, so its first attempt does
//     not wait for another company's slow or not yet known webhooks;
//   - a webhook not yet known, with nothing running, may start its first
//     attempt past a full slow share as a probe, while fewer than probeCap
//     probes run: otherwise a new webhook (or, after a restart, every
//     webhook) queued behind a slow backlog could not prove itself fast
//     until that backlog drained. Probes take at most half of what the
//     slow share leaves, so fast webhooks keep the other half even when
//     every probe hangs; a probe past the threshold counts as a slow
//     attempt from the next pass, and its probe is free again.
//
// A delivery refused here is not claimed: it stays queued on disk, in due
// order, and is admitted by a later claim once its webhook has room (a
// worker finishing signals the claim loop, so there is no busy wait). Slow
// webhooks keep slowCap workers, so they are slowed, never starved.
type fairness struct {
	perWebhook int
	slowCap    int
	probeCap   int           // probes of unknown webhooks past a full slow share
	threshold  time.Duration // 0: no slow class
	capacity   int           // workers less the spare ones, at least 1
	spare      int           // workers - capacity
	workers    int
	now        func() time.Time
	// lookup reads a webhook's own max_in_flight; limits paces webhooks
	// and sinks by their rate limits (throttle.go). Nil in tests of the
	// rules above.
	lookup WebhookLookup
	limits *throttle

	mu sync.Mutex
	// hooks holds every webhook attempted since start: one small entry
	// each, so a fast webhook stays known between its deliveries.
	hooks map[string]*hookLoad
	// slowRunning counts running attempts admitted while their webhook was
	// slow, plus (from pass) those of webhooks that turned slow mid-attempt;
	// probes counts the probes running, which slowRunning leaves out.
	slowRunning int
	probes      int

	// companies holds the companies with attempts running or with due work
	// seen in the last two passes; the others are dropped at a pass.
	companies map[int64]*companyLoad
	passes    uint64 // claim passes so far; the current one
	share     int    // this pass's equal share of capacity among active companies
	demand    int    // sum of companyLoad.demand
}

// companyLoad is what fairness knows of one company.
type companyLoad struct {
	running int
	// pending counts its deliveries claimed and not yet recorded, running
	// or not: at most twice its limit (admit), so that what one company's
	// outcomes hold of the dispatcher's bound on those (Dispatcher.idle)
	// always leaves the spare workers' room to the others.
	pending int
	// seen is the last pass in which a due delivery of the company was
	// admitted or refused for the company's limit: it is waiting for
	// workers (it may have more due) until a pass later.
	seen uint64
	// demand is the workers the company counts for in the others' limits:
	// its running attempts, and at least its share while it waits.
	demand int
}

// hookLoad is what fairness knows of one webhook.
type hookLoad struct {
	company int64
	running map[string]time.Time // delivery id -> attempt start (wall clock)
	avg     time.Duration        // moving average of attempt durations
	known   bool                 // an attempt has ended: avg means something
	probe   string               // the delivery id of its running probe, if any (fairness.probes)
}

// ewmaWeight is the weight of the newest attempt in hookLoad.avg: a few slow
// attempts mark a webhook slow, a few fast ones clear it.
const ewmaWeight = 0.3

func newFairness(d config.Delivery, workers int) *fairness {
	f := &fairness{perWebhook: d.MaxInFlightPerWebhook, threshold: d.SlowThreshold, now: time.Now,
		hooks: map[string]*hookLoad{}, companies: map[int64]*companyLoad{}, capacity: max(1, workers-d.SpareWorkers), workers: workers}
	f.spare = workers - f.capacity
	if f.perWebhook <= 0 || f.perWebhook > workers {
		f.perWebhook = workers
	}
	f.slowCap = workers
	if d.SlowThreshold > 0 && d.SlowShare < 1 {
		f.slowCap = max(1, int(float64(workers)*d.SlowShare))
	}
	if rest := workers - f.slowCap; rest > 0 {
		f.probeCap = max(1, rest/2)
	}
	return f
}

// pass starts one claim pass: it recounts the running attempts of slow
// webhooks (a webhook turns slow while its first long attempts run) and
// the companies' shares, and returns the filter for the store's claim scan.
func (f *fairness) pass() store.ClaimFilter {
	f.mu.Lock()
	now := f.now()
	n := 0
	for _, h := range f.hooks {
		if h.probe != "" && now.Sub(h.running[h.probe]) > f.threshold {
			// The probe ran past the threshold: it has shown the webhook
			// slow, and counts as a slow attempt from now on, so a hung
			// probe holds its probe slot for the threshold, not the
			// attempt timeout.
			h.probe = ""
			f.probes--
		}
		if f.slow(h, now) {
			n += len(h.running)
			if h.probe != "" {
				n-- // counted in probes
			}
		}
	}
	f.slowRunning = n
	f.passes++
	for id, c := range f.companies {
		if c.running == 0 && c.pending == 0 && !f.waiting(c) {
			delete(f.companies, id)
		}
	}
	f.share = max(1, (f.capacity+len(f.companies)-1)/max(1, len(f.companies)))
	f.demand = 0
	for _, c := range f.companies {
		c.demand = f.demandOf(c)
		f.demand += c.demand
	}
	f.mu.Unlock()
	return store.ClaimFilter{
		Admit:          func(d *store.Delivery) bool { return f.admit(d, now) },
		Blocked:        func(webhookID string) bool { return f.blocked(webhookID, now) },
		BlockedCompany: f.blockedCompany,
	}
}

// waiting reports that c had due work in this pass or the last. f.mu is held.
func (f *fairness) waiting(c *companyLoad) bool { return c.seen > 0 && c.seen+1 >= f.passes }

// demandOf is how many workers c counts for in the other companies'
// limits: what it runs, and its share while it waits for more. f.mu is held.
func (f *fairness) demandOf(c *companyLoad) int {
	if f.waiting(c) {
		return max(c.running, f.share)
	}
	return c.running
}

// companyLimit is how many attempts c may have running: its share, or
// more when the other companies leave more of the capacity unused. So a
// lone company takes all but the spare workers, and one that arrives gets
// its share as the others' attempts end. f.mu is held.
func (f *fairness) companyLimit(c *companyLoad) int {
	return max(f.share, f.capacity-(f.demand-c.demand))
}

// company returns the load of a company, adding it. f.mu is held.
func (f *fairness) company(id int64) *companyLoad {
	c := f.companies[id]
	if c == nil {
		c = &companyLoad{}
		f.companies[id] = c
	}
	return c
}

// update applies change to c and keeps f.demand its sum. f.mu is held.
func (f *fairness) update(c *companyLoad, change func()) {
	f.demand -= c.demand
	change()
	c.demand = f.demandOf(c)
	f.demand += c.demand
}

// blockedCompany reports that admit would refuse every delivery of the
// company now. The store asks only about due deliveries, so a company
// blocked here is waiting for workers.
func (f *fairness) blockedCompany(id int64) bool {
	f.mu.Lock()
	defer f.mu.Unlock()
	c := f.companies[id]
	if c == nil || !f.atLimit(c) {
		return false
	}
	f.update(c, func() { c.seen = f.passes })
	return true
}

// atLimit reports that c may not start another attempt: it runs its limit,
// or its outcomes waiting to be written reach twice that. f.mu is held.
func (f *fairness) atLimit(c *companyLoad) bool {
	limit := f.companyLimit(c)
	return c.running >= limit || c.pending >= 2*limit
}

// blocked reports that admit would refuse any delivery of the webhook now.
func (f *fairness) blocked(webhookID string, now time.Time) bool {
	f.mu.Lock()
	defer f.mu.Unlock()
	h := f.hooks[webhookID]
	if h == nil {
		// Never offered: slow until its first attempt ends, of a company
		// not known, which admit might let past the slow share, or as a probe.
		return (f.slowRunning >= f.slowCap+f.spare && f.probes >= f.probeCap) || f.limits.blocked(webhookID)
	}
	return len(h.running) >= f.perWebhookOf(webhookID) ||
		(f.slowRunning >= f.slowCap && f.slow(h, now) && !f.slowExempt(h.company) && !f.mayProbe(h)) ||
		f.limits.blocked(webhookID)
}

// perWebhookOf is the in-flight limit of a webhook: its own max_in_flight
// when it has one, else delivery.max_in_flight_per_webhook; never more
// than the workers.
func (f *fairness) perWebhookOf(webhookID string) int {
	if f.lookup != nil {
		if w := f.lookup.Get(webhookID); w != nil && w.MaxInFlight > 0 {
			return min(w.MaxInFlight, f.workers)
		}
	}
	return f.perWebhook
}

// slowExempt reports that a delivery of the company may start past the
// slow share: the company has nothing running (its first attempt must not
// wait for another company's slow or not yet known webhooks), and the
// spare workers, kept for such attempts, are not all taken by it. f.mu is
// held.
func (f *fairness) slowExempt(company int64) bool {
	c := f.companies[company]
	return (c == nil || c.running == 0) && f.slowRunning < f.slowCap+f.spare
}

// mayProbe reports whether h may start its first attempt past a full slow
// share: it is not known yet, runs nothing, and a probe is free. f.mu is held.
func (f *fairness) mayProbe(h *hookLoad) bool {
	return !h.known && len(h.running) == 0 && f.probes < f.probeCap
}

// admit reserves a slot for d, or refuses it while its company or its
// webhook is at its limit or it is slow and the slow share is used up.
// Only the company's own limit marks it as waiting: a company held back by
// its webhooks' limits could not use a larger share.
func (f *fairness) admit(d *store.Delivery, now time.Time) bool {
	f.mu.Lock()
	defer f.mu.Unlock()
	co := f.company(d.CompanyID)
	if f.atLimit(co) {
		f.update(co, func() { co.seen = f.passes })
		return false
	}
	h := f.hooks[d.WebhookID]
	if h == nil {
		h = &hookLoad{company: d.CompanyID}
		f.hooks[d.WebhookID] = h
	}
	if len(h.running) >= f.perWebhookOf(d.WebhookID) {
		return false
	}
	slow, probe := f.slow(h, now), false
	if slow && f.slowRunning >= f.slowCap && !f.slowExempt(d.CompanyID) {
		if !f.mayProbe(h) {
			return false
		}
		probe = true
	}
	if !f.limits.take(d.WebhookID) { // last: a token is spent only on an admission
		return false
	}
	if h.running == nil {
		h.running = make(map[string]time.Time, 1)
	}
	h.running[d.ID] = now
	switch {
	case probe:
		h.probe = d.ID
		f.probes++
	case slow:
		f.slowRunning++
	}
	f.update(co, func() { co.running++; co.pending++; co.seen = f.passes })
	return true
}

// done releases d's slot and folds its duration into the webhook's average.
func (f *fairness) done(d *store.Delivery, took time.Duration) {
	f.mu.Lock()
	defer f.mu.Unlock()
	h := f.free(d)
	if h == nil {
		return
	}
	if !h.known {
		h.avg, h.known = took, true
	} else {
		h.avg = time.Duration(ewmaWeight*float64(took) + (1-ewmaWeight)*float64(h.avg))
	}
}

// forget takes back the admission of d when the store did not hand d out
// (its claim failed after the filter admitted it): its slot, and the
// probe if it was one, with no attempt to learn from. Kept otherwise, the
// slot would count against its webhook's and company's limits until a
// restart.
func (f *fairness) forget(d *store.Delivery) {
	f.mu.Lock()
	defer f.mu.Unlock()
	f.free(d)
	f.unpend(d)
}

// recorded ends d's place among its company's outcomes waiting to be
// written (companyLoad.pending); done freed its slot when it was handed
// over.
func (f *fairness) recorded(d *store.Delivery) {
	f.mu.Lock()
	defer f.mu.Unlock()
	f.unpend(d)
}

// unpend drops d from its company's pending count. f.mu is held.
func (f *fairness) unpend(d *store.Delivery) {
	if co := f.companies[d.CompanyID]; co != nil && co.pending > 0 {
		co.pending--
	}
}

// free gives back d's slot in its company and its webhook, and the probe
// if it was one, and returns d's webhook (nil when not known). slowRunning
// is recounted at the next pass. f.mu is held.
func (f *fairness) free(d *store.Delivery) *hookLoad {
	if co := f.companies[d.CompanyID]; co != nil && co.running > 0 {
		f.update(co, func() { co.running-- })
	}
	h := f.hooks[d.WebhookID]
	if h == nil {
		return nil
	}
	delete(h.running, d.ID)
	if h.probe == d.ID {
		h.probe = ""
		f.probes--
	}
	return h
}

// overran reports whether an attempt of h has run past the threshold.
// f.mu is held.
func (f *fairness) overran(h *hookLoad, now time.Time) bool {
	for _, started := range h.running {
		if now.Sub(started) > f.threshold {
			return true
		}
	}
	return false
}

// slow reports whether h counts against the slow share. f.mu is held.
func (f *fairness) slow(h *hookLoad, now time.Time) bool {
	if f.threshold <= 0 {
		return false
	}
	return !h.known || h.avg > f.threshold || f.overran(h, now)
}

// runningOf reports the attempts of a webhook running now (for tests).
func (f *fairness) runningOf(webhookID string) int {
	f.mu.Lock()
	defer f.mu.Unlock()
	if h := f.hooks[webhookID]; h != nil {
		return len(h.running)
	}
	return 0
}
