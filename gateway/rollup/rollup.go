// Package rollup sums delivery attempts and queue depth into per-minute
// rollups in memory and writes them to the store (store.Rollups) every
// few seconds, where the dashboard's charts read them (docs/charts.md).
//
// Every attempt counts three times: in its webhook's row, its company's
// row and the gateway's row, so a chart of any scope reads one row per
// minute instead of summing webhooks. Rows are added to what the store
// holds, never replaced, so each write carries only what was observed
// since the last one (the running minute too, so charts are seconds
// behind, not a minute), and several replicas, or a restart, add up.
package rollup

import (
	"context"
	"log/slog"
	"maps"
	"slices"
	"sync"
	"time"

	"github.com/hookgate/hookgate/store"
)

// Clock is the aggregator's source of time (the gateway's clock).
type Clock interface {
	Now() time.Time
}

// Options configure an Aggregator. Store is required.
type Options struct {
	Store store.Rollups
	// Depth reads the queue depth per priority; sampled every tick, the
	// most of each minute is kept. Nil: no queue depth.
	Depth func(ctx context.Context) ([3]int, error)
	// Every is how often Run samples the depth and writes what was
	// observed since the last write (config storage.rollup_sample, 10s;
	// 10s when zero).
	Every time.Duration
	// Ticks, when set, drives Run instead of a ticker of Every (tests).
	Ticks <-chan time.Time
	Clock Clock // default the wall clock
	Log   *slog.Logger
}

// maxPending bounds the minutes kept while the store refuses them: past
// an hour of failed writes the oldest minutes are dropped (and logged)
// rather than letting memory grow with the outage.
const maxPending = 60

// scope is a row's identity within a minute.
type scope struct {
	company int64
	webhook string
}

// Aggregator collects the current minutes. Its methods are safe for
// concurrent use; Run is its one goroutine.
type Aggregator struct {
	opts Options

	mu      sync.Mutex
	minutes map[time.Time]map[scope]*store.Rollup
	dropped int // minutes dropped since the last warning
}

type wallClock struct{}

func (wallClock) Now() time.Time { return time.Now() }

// New returns an aggregator; start its Run.
func New(opts Options) *Aggregator {
	if opts.Clock == nil {
		opts.Clock = wallClock{}
	}
	if opts.Log == nil {
		opts.Log = slog.Default()
	}
	if opts.Every <= 0 {
		opts.Every = 10 * time.Second // config storage.rollup_sample's default, for callers without a config
	}
	return &Aggregator{opts: opts, minutes: map[time.Time]map[scope]*store.Rollup{}}
}

// Observe counts one finished attempt of the webhook, with its outcome
// and how long it took, in the current minute. This is what the delivery
// path calls for each recorded attempt.
func (a *Aggregator) Observe(webhookID string, companyID int64, outcome store.Outcome, took time.Duration) {
	bucket := store.HistogramBucket(took)
	a.mu.Lock()
	defer a.mu.Unlock()
	m := a.minute()
	for _, s := range [...]scope{{companyID, webhookID}, {companyID, ""}, {}} {
		r := row(m, s)
		if r.Attempts == nil {
			r.Attempts = make(map[store.Outcome]int64, 3)
		}
		r.Attempts[outcome]++
		if bucket >= len(r.Latency) {
			r.Latency = append(r.Latency, make(store.Histogram, bucket+1-len(r.Latency))...)
		}
		r.Latency[bucket]++
	}
}

// ObserveAttempt is Observe of a recorded attempt record.
func (a *Aggregator) ObserveAttempt(at *store.Attempt, took time.Duration) {
	a.Observe(at.WebhookID, at.CompanyID, at.Outcome, took)
}

// SampleDepth notes the queue depth per priority in the current minute:
// the gateway's row keeps the most of each.
func (a *Aggregator) SampleDepth(depth [3]int) {
	a.mu.Lock()
	defer a.mu.Unlock()
	r := row(a.minute(), scope{})
	for i, d := range depth {
		r.Depth[i] = max(r.Depth[i], int64(d))
	}
}

// minute returns the current minute's rows; a.mu held.
func (a *Aggregator) minute() map[scope]*store.Rollup {
	now := store.RollupMinute(a.opts.Clock.Now())
	m := a.minutes[now]
	if m == nil {
		m = map[scope]*store.Rollup{}
		a.minutes[now] = m
	}
	return m
}

func row(m map[scope]*store.Rollup, s scope) *store.Rollup {
	r := m[s]
	if r == nil {
		r = &store.Rollup{CompanyID: s.company, WebhookID: s.webhook}
		m[s] = r
	}
	return r
}

// Flush writes what was observed since the last write, in one
// AddRollups, and starts afresh: the store adds it to what its minutes
// hold. A failed write keeps it for the next flush; it returns the
// store's error.
func (a *Aggregator) Flush(ctx context.Context) error {
	a.mu.Lock()
	out := a.minutes
	a.minutes = map[time.Time]map[scope]*store.Rollup{}
	a.mu.Unlock()
	var rs []store.Rollup
	for _, minute := range slices.SortedFunc(maps.Keys(out), time.Time.Compare) {
		for _, r := range out[minute] {
			r.Minute = minute
			rs = append(rs, *r)
		}
	}
	if len(rs) == 0 {
		return nil
	}
	err := a.opts.Store.AddRollups(ctx, rs)
	if err != nil {
		a.putBack(out)
	}
	return err
}

// putBack returns what a failed write took, merging it with anything
// observed meanwhile, and drops the oldest minutes past maxPending.
func (a *Aggregator) putBack(out map[time.Time]map[scope]*store.Rollup) {
	a.mu.Lock()
	defer a.mu.Unlock()
	for minute, rows := range out {
		m := a.minutes[minute]
		if m == nil {
			a.minutes[minute] = rows
			continue
		}
		for s, r := range rows {
			row(m, s).Add(*r)
		}
	}
	for len(a.minutes) > maxPending {
		delete(a.minutes, slices.MinFunc(slices.Collect(maps.Keys(a.minutes)), time.Time.Compare))
		a.dropped++
	}
}

// Run samples the queue depth and writes what was observed every tick
// until ctx ends; then it writes what is left within one more tick's
// time.
func (a *Aggregator) Run(ctx context.Context) {
	ticks := a.opts.Ticks
	if ticks == nil {
		t := time.NewTicker(a.opts.Every)
		defer t.Stop()
		ticks = t.C
	}
	for {
		select {
		case <-ctx.Done():
			fctx, cancel := context.WithTimeout(context.WithoutCancel(ctx), max(a.opts.Every, time.Second))
			defer cancel()
			if err := a.Flush(fctx); err != nil {
				a.opts.Log.Warn("rollup: writing the last minutes at stop", "err", err)
			}
			return
		case <-ticks:
			a.tick(ctx)
		}
	}
}

func (a *Aggregator) tick(ctx context.Context) {
	if a.opts.Depth != nil {
		d, err := a.opts.Depth(ctx)
		if err == nil {
			a.SampleDepth(d)
		} else if ctx.Err() == nil {
			a.opts.Log.Warn("rollup: reading the queue depth", "err", err)
		}
	}
	if err := a.Flush(ctx); err != nil && ctx.Err() == nil {
		a.opts.Log.Warn("rollup: writing rollups (kept for the next try)", "err", err)
	}
	a.mu.Lock()
	dropped := a.dropped
	a.dropped = 0
	a.mu.Unlock()
	if dropped > 0 {
		a.opts.Log.Warn("rollup: dropped unwritten minutes, the store refused them for an hour", "minutes", dropped)
	}
}
