package gateway

import (
	"context"
	"time"

	"github.com/prometheus/client_golang/prometheus"
	"github.com/prometheus/client_golang/prometheus/collectors"

	"github.com/hookgate/hookgate/events"
	"github.com/hookgate/hookgate/gateway/rollup"
	"github.com/hookgate/hookgate/store"
)

// metrics are the gateway's Prometheus series. Each Gateway has its own
// registry so tests can run several side by side.
type metrics struct {
	registry       *prometheus.Registry
	eventsAccepted *prometheus.CounterVec
	deliveries     *prometheus.CounterVec
	attemptSeconds *prometheus.HistogramVec
	rollups        *rollup.Aggregator // the charts' per-minute figures; nil without store.Rollups
}

// newMetrics registers the series; inFlight reports the attempts running now.
func newMetrics(st store.Store, inFlight func() int64) *metrics {
	m := &metrics{
		registry: prometheus.NewRegistry(),
		eventsAccepted: prometheus.NewCounterVec(prometheus.CounterOpts{
			Name: "hookgate_events_accepted_total",
			Help: "Events accepted (durably written) by POST /api/v1/events.",
		}, []string{"event"}),
		deliveries: prometheus.NewCounterVec(prometheus.CounterOpts{
			Name: "hookgate_delivery_attempts_total",
			Help: "Delivery attempts by outcome: success, retry (failed, rescheduled) or failed (dead-lettered).",
		}, []string{"outcome"}),
		attemptSeconds: prometheus.NewHistogramVec(prometheus.HistogramOpts{
			Name:    "hookgate_attempt_duration_seconds",
			Help:    "Time of one delivery attempt through its sink.",
			Buckets: []float64{.005, .01, .025, .05, .1, .25, .5, 1, 2.5, 5, 10, 30},
		}, []string{"outcome"}),
	}
	depth := func(p events.Priority) prometheus.GaugeFunc {
		return prometheus.NewGaugeFunc(prometheus.GaugeOpts{
			Name:        "hookgate_queue_depth",
			Help:        "Deliveries waiting in the queue, by priority.",
			ConstLabels: prometheus.Labels{"priority": p.String()},
		}, func() float64 {
			ctx, cancel := context.WithTimeout(context.Background(), time.Second)
			defer cancel()
			d, err := st.QueueDepth(ctx)
			if err != nil {
				return -1
			}
			return float64(d[p])
		})
	}
	running := prometheus.NewGaugeFunc(prometheus.GaugeOpts{
		Name: "hookgate_deliveries_in_flight",
		Help: "Delivery attempts running now (claimed by this process, not yet recorded).",
	}, func() float64 { return float64(inFlight()) })
	m.registry.MustRegister(m.eventsAccepted, m.deliveries, m.attemptSeconds, running,
		depth(events.PriorityHigh), depth(events.PriorityNormal), depth(events.PriorityLow),
		collectors.NewGoCollector(), collectors.NewProcessCollector(collectors.ProcessCollectorOpts{}))
	return m
}

// ObserveAttempt counts one recorded attempt by outcome and how long its
// sink took (delivery.Metrics).
func (m *metrics) ObserveAttempt(a *store.Attempt, took time.Duration) {
	m.deliveries.WithLabelValues(string(a.Outcome)).Inc()
	m.attemptSeconds.WithLabelValues(string(a.Outcome)).Observe(took.Seconds())
	if m.rollups != nil {
		m.rollups.ObserveAttempt(a, took)
	}
}
