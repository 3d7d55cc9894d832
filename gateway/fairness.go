package gateway

import (
	"sync"
	"time"

	"github.com/hookgate/hookgate/config"
	"github.com/hookgate/hookgate/store"
)

// fairness decides which due deliveries the dispatcher may hand to a worker
// now, so that no receiver can hold back the others:
//
//   - a webhook never has more than perWebhook attempts running at once;
//   - a webhook is slow when its recent attempts took longer than threshold
//     (a moving average) or one of its running attempts already has, and
//     until its first attempt ends it counts as slow too (so 100 new slow
//     receivers cannot take every worker before they are known); slow
//     webhooks together hold at most slowCap workers, so fast webhooks
//     always keep the rest.
//
// A delivery refused here is not claimed: it stays queued on disk, in due
// order, and is admitted by a later claim once its webhook has room (a
// worker finishing signals the claim loop, so there is no busy wait). Slow
// webhooks keep slowCap workers, so they are slowed, never starved.
type fairness struct {
	perWebhook int
	slowCap    int
	threshold  time.Duration // 0: no slow class
	now        func() time.Time

	mu sync.Mutex
	// hooks holds every webhook attempted since start: one small entry
	// each, so a fast webhook stays known between its deliveries.
	hooks map[string]*hookLoad
	// slowRunning counts running attempts admitted while their webhook was
	// slow, plus (from pass) those of webhooks that turned slow mid-attempt.
	slowRunning int
}

// hookLoad is what fairness knows of one webhook.
type hookLoad struct {
	running map[string]time.Time // delivery id -> attempt start (wall clock)
	avg     time.Duration        // moving average of attempt durations
	known   bool                 // an attempt has ended: avg means something
}

// ewmaWeight is the weight of the newest attempt in hookLoad.avg: a few slow
// attempts mark a webhook slow, a few fast ones clear it.
const ewmaWeight = 0.3

func newFairness(d config.Delivery, workers int) *fairness {
	f := &fairness{perWebhook: d.MaxInFlightPerWebhook, threshold: d.SlowThreshold, now: time.Now, hooks: map[string]*hookLoad{}}
	if f.perWebhook <= 0 || f.perWebhook > workers {
		f.perWebhook = workers
	}
	f.slowCap = workers
	if d.SlowThreshold > 0 && d.SlowShare < 1 {
		f.slowCap = max(1, int(float64(workers)*d.SlowShare))
	}
	return f
}

// pass starts one claim pass: it recounts the running attempts of slow
// webhooks (a webhook turns slow while its first long attempts run) and
// returns the filter for the store's claim scan.
func (f *fairness) pass() store.ClaimFilter {
	f.mu.Lock()
	now := f.now()
	n := 0
	for _, h := range f.hooks {
		if f.slow(h, now) {
			n += len(h.running)
		}
	}
	f.slowRunning = n
	f.mu.Unlock()
	return store.ClaimFilter{
		Admit:   func(d *store.Delivery) bool { return f.admit(d, now) },
		Blocked: func(webhookID string) bool { return f.blocked(webhookID, now) },
	}
}

// blocked reports that admit would refuse any delivery of the webhook now.
func (f *fairness) blocked(webhookID string, now time.Time) bool {
	f.mu.Lock()
	defer f.mu.Unlock()
	h := f.hooks[webhookID]
	if h == nil {
		h = &hookLoad{} // never attempted: slow until its first attempt ends
	}
	return len(h.running) >= f.perWebhook || (f.slowRunning >= f.slowCap && f.slow(h, now))
}

// admit reserves a slot for d, or refuses it while its webhook is at its
// limit or it is slow and the slow share is used up.
func (f *fairness) admit(d *store.Delivery, now time.Time) bool {
	f.mu.Lock()
	defer f.mu.Unlock()
	h := f.hooks[d.WebhookID]
	if h == nil {
		h = &hookLoad{}
		f.hooks[d.WebhookID] = h
	}
	if len(h.running) >= f.perWebhook {
		return false
	}
	slow := f.slow(h, now)
	if slow && f.slowRunning >= f.slowCap {
		return false
	}
	if h.running == nil {
		h.running = make(map[string]time.Time, 1)
	}
	h.running[d.ID] = now
	if slow {
		f.slowRunning++
	}
	return true
}

// done releases d's slot and folds its duration into the webhook's average.
func (f *fairness) done(d *store.Delivery, took time.Duration) {
	f.mu.Lock()
	defer f.mu.Unlock()
	h := f.hooks[d.WebhookID]
	if h == nil {
		return
	}
	delete(h.running, d.ID)
	if !h.known {
		h.avg, h.known = took, true
	} else {
		h.avg = time.Duration(ewmaWeight*float64(took) + (1-ewmaWeight)*float64(h.avg))
	}
}

// slow reports whether h counts against the slow share. f.mu is held.
func (f *fairness) slow(h *hookLoad, now time.Time) bool {
	if f.threshold <= 0 {
		return false
	}
	if !h.known || h.avg > f.threshold {
		return true
	}
	for _, started := range h.running {
		if now.Sub(started) > f.threshold {
			return true
		}
	}
	return false
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
