package store

import (
	"context"
	"math"
	"time"
)

// Rollups is a Store that keeps per-minute summaries of delivery traffic
// for the dashboard's charts (gateway/rollup writes them, dashboard/charts
// draws them). A store without it draws no charts.
type Rollups interface {
	// AddRollups adds each rollup to the one stored under the same
	// (CompanyID, WebhookID, Minute), creating it when there is none:
	// counts and histograms are summed, queue depths keep the larger. Adding
	// rather than replacing lets several replicas (and a late flush) write
	// the same minute. Rollups older than the store's rollup retention are
	// dropped.
	AddRollups(ctx context.Context, rs []Rollup) error
	// ListRollups returns the rollups of exactly f's CompanyID and WebhookID
	// with From <= Minute < To (a zero To: no end), oldest first. Minutes without traffic have
	// no rollup.
	ListRollups(ctx context.Context, f RollupFilter) ([]Rollup, error)
}

// DefaultRollupRetention is how long rollups are kept when a store's
// options leave it zero (config storage.rollup_retention).
const DefaultRollupRetention = 7 * 24 * time.Hour

// Rollup is one minute of delivery traffic. Its scope is one webhook
// (WebhookID set, CompanyID its company), one company (WebhookID "",
// CompanyID set: all its webhooks) or the whole gateway (both zero).
type Rollup struct {
	CompanyID int64
	WebhookID string
	// Minute is the start of the minute, UTC.
	Minute time.Time
	// Attempts counts the minute's finished attempts by outcome.
	Attempts map[Outcome]int64
	// Latency is the attempts' durations.
	Latency Histogram
	// Depth is the most pending deliveries seen per priority during the
	// minute (index = priority); the gateway's rows only, the queue is
	// not counted per webhook.
	Depth [3]int64
}

// Add folds o into r: r's scope and minute stay.
func (r *Rollup) Add(o Rollup) {
	if len(o.Attempts) > 0 && r.Attempts == nil {
		r.Attempts = make(map[Outcome]int64, len(o.Attempts))
	}
	for k, n := range o.Attempts {
		r.Attempts[k] += n
	}
	r.Latency.Merge(o.Latency)
	for i, d := range o.Depth {
		r.Depth[i] = max(r.Depth[i], d)
	}
}

// Total is the number of attempts of every outcome.
func (r Rollup) Total() int64 {
	var n int64
	for _, c := range r.Attempts {
		n += c
	}
	return n
}

// RollupFilter selects rollups of one scope (see Rollup) over [From, To).
type RollupFilter struct {
	CompanyID int64
	WebhookID string
	From, To  time.Time
}

// RollupMinute is the minute t falls in, as Rollup.Minute holds it.
func RollupMinute(t time.Time) time.Time { return t.UTC().Truncate(time.Minute) }

// Histogram counts durations in fixed log-scale buckets, so histograms of
// different minutes and replicas merge by adding counts and p50/p95 of an
// hour or a day are read from the sum. Bucket 0 holds durations below
// HistogramMin; bucket i (1..histogramSteps) holds [min·2^((i-1)/4),
// min·2^(i/4)); the last one everything from ~105 s up. Four buckets per
// doubling put a quantile within 19% (9% from the bucket's middle) of the
// true value: enough for a chart, and 82 counts at most. Trailing empty
// buckets are not kept.
type Histogram []int64

// HistogramMin is the upper bound of the first bucket.
const HistogramMin = 100 * time.Microsecond

const (
	histogramPerDoubling = 4
	histogramSteps       = 20 * histogramPerDoubling // 100 µs · 2^20 ≈ 105 s
	// HistogramBuckets is the most buckets a Histogram has.
	HistogramBuckets = histogramSteps + 2
)

// HistogramBucket is the bucket d is counted in.
func HistogramBucket(d time.Duration) int {
	if d < HistogramMin {
		return 0
	}
	i := int(math.Floor(math.Log2(float64(d)/float64(HistogramMin))*histogramPerDoubling)) + 1
	return min(i, HistogramBuckets-1)
}

// HistogramBounds is the range [lo, hi) of bucket i; hi of the last bucket
// is twice its lo.
func HistogramBounds(i int) (lo, hi time.Duration) {
	at := func(step int) time.Duration {
		return time.Duration(float64(HistogramMin) * math.Exp2(float64(step)/histogramPerDoubling))
	}
	switch {
	case i <= 0:
		return 0, HistogramMin
	case i >= HistogramBuckets-1:
		lo = at(histogramSteps)
		return lo, 2 * lo
	}
	return at(i - 1), at(i)
}

// Observe counts one duration.
func (h *Histogram) Observe(d time.Duration) {
	i := HistogramBucket(d)
	if i >= len(*h) {
		*h = append(*h, make([]int64, i+1-len(*h))...)
	}
	(*h)[i]++
}

// Merge adds o's counts to h.
func (h *Histogram) Merge(o Histogram) {
	if len(o) > len(*h) {
		*h = append(*h, make([]int64, len(o)-len(*h))...)
	}
	for i, n := range o {
		(*h)[i] += n
	}
}

// Count is the number of durations counted.
func (h Histogram) Count() int64 {
	var n int64
	for _, c := range h {
		n += c
	}
	return n
}

// Quantile estimates the q-quantile (0 < q <= 1) by nearest rank,
// interpolating linearly inside the rank's bucket; 0 when h is empty.
func (h Histogram) Quantile(q float64) time.Duration {
	total := h.Count()
	if total == 0 {
		return 0
	}
	rank := max(math.Ceil(q*float64(total)), 1)
	var seen float64
	for i, c := range h {
		if c == 0 {
			continue
		}
		if seen+float64(c) >= rank {
			lo, hi := HistogramBounds(i)
			return lo + time.Duration(float64(hi-lo)*(rank-seen)/float64(c))
		}
		seen += float64(c)
	}
	_, hi := HistogramBounds(len(h) - 1)
	return hi
}

// Trim drops trailing empty buckets (how stores keep a histogram).
func (h Histogram) Trim() Histogram {
	n := len(h)
	for n > 0 && h[n-1] == 0 {
		n--
	}
	return h[:n]
}
