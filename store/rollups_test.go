package store

import (
	"math/rand/v2"
	"slices"
	"testing"
	"time"
)

// TestHistogramQuantile: quantiles of a histogram, and of histograms
// merged, stay within one bucket's width (19%) of the exact order
// statistic, whatever the spread of the durations.
func TestHistogramQuantile(t *testing.T) {
	rng := rand.New(rand.NewPCG(1, 2))
	var parts [4]Histogram
	var all []time.Duration
	for i := range 4000 {
		// log-uniform from 50 µs to ~200 s: under, inside and over the buckets
		d := time.Duration(50e3 * float64(uint64(1)<<rng.IntN(22)) * (1 + rng.Float64()))
		all = append(all, d)
		parts[i%4].Observe(d)
	}
	var merged Histogram
	for _, p := range parts {
		merged.Merge(p)
	}
	slices.Sort(all)
	if merged.Count() != int64(len(all)) || len(merged) > HistogramBuckets {
		t.Fatalf("merged count %d over %d buckets, want %d over at most %d", merged.Count(), len(merged), len(all), HistogramBuckets)
	}
	for _, q := range []float64{0.5, 0.95, 0.99} {
		exact := all[int(q*float64(len(all)))-1]
		got := merged.Quantile(q)
		if exact < HistogramMin || exact >= 100*time.Second {
			continue // the open-ended buckets only bound it
		}
		if r := float64(got) / float64(exact); r < 1/1.19 || r > 1.19 {
			t.Errorf("p%v = %s, exact %s: off by %.2fx", q*100, got, exact, r)
		}
	}
	if (Histogram{}).Quantile(0.5) != 0 {
		t.Error("the quantile of an empty histogram is not 0")
	}
	var one Histogram
	one.Observe(3 * time.Millisecond)
	if lo, hi := HistogramBounds(HistogramBucket(3 * time.Millisecond)); lo > 3*time.Millisecond || hi <= 3*time.Millisecond {
		t.Errorf("3ms is counted in bucket [%s, %s)", lo, hi)
	}
	if p := one.Quantile(0.95); p < 2500*time.Microsecond || p > 3600*time.Microsecond {
		t.Errorf("p95 of one 3ms duration = %s", p)
	}
	if got := append(Histogram{0, 2, 0, 0}, 0).Trim(); len(got) != 2 {
		t.Errorf("Trim kept %v", got)
	}
}
