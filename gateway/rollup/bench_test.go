package rollup

import (
	"strconv"
	"testing"
	"time"

	"github.com/prometheus/client_golang/prometheus"

	"github.com/hookgate/hookgate/store"
)

// BenchmarkObserve is the cost the aggregator adds to each recorded
// attempt, beside the baseline the gateway already pays per attempt: the
// Prometheus counter and histogram of gateway/metrics.go. 200 webhooks of
// 20 companies, so the maps hold what a busy minute does.
func BenchmarkObserve(b *testing.B) {
	hooks := make([]string, 200)
	for i := range hooks {
		hooks[i] = "hook-" + strconv.Itoa(i)
	}
	b.Run("prometheus", func(b *testing.B) {
		n := prometheus.NewCounterVec(prometheus.CounterOpts{Name: "n"}, []string{"outcome"})
		h := prometheus.NewHistogramVec(prometheus.HistogramOpts{Name: "h", Buckets: prometheus.ExponentialBuckets(0.005, 2, 12)}, []string{"outcome"})
		for i := 0; b.Loop(); i++ {
			n.WithLabelValues(string(store.OutcomeSuccess)).Inc()
			h.WithLabelValues(string(store.OutcomeSuccess)).Observe(float64(i%500) / 1000)
		}
	})
	b.Run("rollup", func(b *testing.B) {
		a := New(Options{Store: newMem()})
		for i := 0; b.Loop(); i++ {
			a.Observe(hooks[i%len(hooks)], int64(i%20), store.OutcomeSuccess, time.Duration(i%500)*time.Millisecond)
		}
	})
}
