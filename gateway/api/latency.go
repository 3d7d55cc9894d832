package api

import (
	"math"
	"math/bits"
)

// latencyExact is where latencyHistogram stops counting each millisecond
// apart: below it a percentile is exact.
const latencyExact = 128

// latencyHistogram counts attempt durations (ms) in buckets one millisecond
// wide below 128 ms and 1/64 of their value wide above, so that a
// percentile read from it is exact below 128 ms and at most 1/64 (1.6%)
// above the exact nearest-rank value beyond, in at most ~3,800 counters
// however many attempts it counts.
type latencyHistogram struct {
	counts []uint32
	n      int
}

// latencyBucket maps a duration to its bucket: the value itself below
// latencyExact; above, 64 buckets per power of two.
func latencyBucket(ms int64) int {
	if ms < latencyExact {
		return int(max(ms, 0))
	}
	e := bits.Len64(uint64(ms)) - 7 // ms>>e is in [64, 128)
	return latencyExact + (e-1)*64 + int(ms>>e) - 64
}

// latencyUpper is the largest duration in bucket b.
func latencyUpper(b int) int64 {
	if b < latencyExact {
		return int64(b)
	}
	e, m := (b-latencyExact)/64+1, int64((b-latencyExact)%64+64)
	return (m+1)<<e - 1
}

func (h *latencyHistogram) add(ms int64) {
	b := latencyBucket(ms)
	if b >= len(h.counts) {
		h.counts = append(h.counts, make([]uint32, b+1-len(h.counts))...)
	}
	h.counts[b]++
	h.n++
}

// percentile is the nearest-rank percentile q (0..1], as the upper bound of
// its bucket: never below the exact value. 0 when nothing was added.
func (h *latencyHistogram) percentile(q float64) int64 {
	rank := max(int(math.Ceil(q*float64(h.n))), 1)
	seen := 0
	for b, c := range h.counts {
		if seen += int(c); seen >= rank {
			return latencyUpper(b)
		}
	}
	return 0
}
