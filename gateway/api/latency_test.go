package api

import (
	"math"
	"math/rand/v2"
	"slices"
	"testing"
)

// TestLatencyHistogramPrecision: p95 from the histogram is exact below
// 128 ms and never under, nor more than 1/64 over, the exact value above.
func TestLatencyHistogramPrecision(t *testing.T) {
	rng := rand.New(rand.NewPCG(1, 2))
	for round := range 200 {
		var h latencyHistogram
		n := 1 + rng.IntN(500)
		xs := make([]int64, n)
		for i := range xs {
			xs[i] = rng.Int64N([]int64{128, 5000, 3_600_000}[round%3])
			h.add(xs[i])
		}
		slices.Sort(xs)
		exact := xs[max(int(math.Ceil(0.95*float64(n)))-1, 0)]
		got := h.percentile(0.95)
		if got < exact || (exact < 128 && got != exact) || float64(got-exact) > float64(exact)/64 {
			t.Fatalf("round %d: p95 of %d values: %d, exact %d", round, n, got, exact)
		}
	}
	var empty latencyHistogram
	if p := empty.percentile(0.95); p != 0 {
		t.Errorf("empty histogram: p95 %d", p)
	}
}
