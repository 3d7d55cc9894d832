package api

import (
	"context"
	"errors"
	"strings"
	"time"

	"github.com/hookgate/hookgate/events"
	"github.com/hookgate/hookgate/gateway/webhooks"
	"github.com/hookgate/hookgate/store"
)

// statsRange is one range of GET /api/v1/stats?range=: its span, cut into
// steps the charts draw one bar each (docs/charts.md).
type statsRange struct {
	name       string
	span, step time.Duration
}

// statsRanges are the ranges the dashboard's charts offer: about 60 to
// 100 steps each, so a bar stays a few pixels wide.
var statsRanges = []statsRange{
	{"1h", time.Hour, time.Minute},
	{"24h", 24 * time.Hour, 15 * time.Minute},
	{"7d", 7 * 24 * time.Hour, 2 * time.Hour},
}

// statsSeries is the "series" member of GET /api/v1/stats?range=: one
// point per step from From to To, oldest first, of the caller's company
// (or of one of its webhooks with webhookId); the queue depth is the
// gateway's, as the answer's queueDepth is.
type statsSeries struct {
	Range       string        `json:"range"`
	WebhookID   string        `json:"webhookId,omitempty"`
	StepSeconds int           `json:"stepSeconds"`
	From        time.Time     `json:"from"`
	To          time.Time     `json:"to"`
	Points      []seriesPoint `json:"points"`
}

// seriesPoint is one step: attempts by outcome, their duration
// quantiles (null without attempts) and the most pending deliveries seen.
type seriesPoint struct {
	At         time.Time `json:"at"`
	Succeeded  int64     `json:"succeeded"`
	Retried    int64     `json:"retried"`
	Failed     int64     `json:"failed"`
	P50Ms      *float64  `json:"p50Ms"`
	P95Ms      *float64  `json:"p95Ms"`
	QueueDepth struct {
		High   int64 `json:"high"`
		Normal int64 `json:"normal"`
		Low    int64 `json:"low"`
	} `json:"queueDepth"`
}

// seriesRange returns the range called name and true, nothing for "" (no
// series asked for), or a 400 listing the ranges.
func seriesRange(name string) (statsRange, bool, error) {
	if name == "" {
		return statsRange{}, false, nil
	}
	r, err := rangeNamed(name)
	return r, err == nil, err
}

// rangeNamed returns the range called name, or a 400 listing them.
func rangeNamed(name string) (statsRange, error) {
	names := make([]string, len(statsRanges))
	for i, r := range statsRanges {
		if r.name == name {
			return r, nil
		}
		names[i] = r.name
	}
	return statsRange{}, badRequest("'range' must be one of " + strings.Join(names, ", ") + ", not " + quote(name))
}

// seriesOf reads the rollups of the caller's company, or of its webhook
// webhookID, over rng ending with the step now falls in, and sums them
// into steps. Nil when the store keeps no rollups.
func (s *Server) seriesOf(ctx context.Context, company int64, webhookID string, rng statsRange, now time.Time) (*statsSeries, error) {
	rs, ok := s.store.(store.Rollups)
	if !ok {
		return nil, nil
	}
	if webhookID != "" {
		w, err := s.store.GetWebhook(ctx, webhookID)
		if errors.Is(err, store.ErrNotFound) || (err == nil && w.CompanyID != company) {
			return nil, webhooks.ErrNotFound
		}
		if err != nil {
			return nil, err
		}
	}
	to := now.UTC().Truncate(rng.step).Add(rng.step)
	from := to.Add(-rng.span)
	traffic, err := rs.ListRollups(ctx, store.RollupFilter{CompanyID: company, WebhookID: webhookID, From: from, To: to})
	if err != nil {
		return nil, err
	}
	gateway, err := rs.ListRollups(ctx, store.RollupFilter{From: from, To: to})
	if err != nil {
		return nil, err
	}
	return &statsSeries{Range: rng.name, WebhookID: webhookID, StepSeconds: int(rng.step / time.Second), From: from, To: to,
		Points: stepPoints(from, rng, traffic, gateway)}, nil
}

// stepPoints sums minute rollups into the range's steps: counts and
// histograms added (a step's p95 is that of all its attempts), queue
// depth from the gateway's rows, the most of each priority.
func stepPoints(from time.Time, rng statsRange, traffic, gateway []store.Rollup) []seriesPoint {
	n := int(rng.span / rng.step)
	steps := make([]store.Rollup, n)
	at := func(m time.Time) int {
		i := int(m.Sub(from) / rng.step)
		if m.Before(from) || i >= n {
			return -1
		}
		return i
	}
	for _, r := range traffic {
		if i := at(r.Minute); i >= 0 {
			r.Depth = [3]int64{} // the company's rows carry none; the gateway's are added below
			steps[i].Add(r)
		}
	}
	for _, r := range gateway {
		if i := at(r.Minute); i >= 0 {
			steps[i].Add(store.Rollup{Depth: r.Depth})
		}
	}
	out := make([]seriesPoint, n)
	for i, r := range steps {
		p := &out[i]
		p.At = from.Add(time.Duration(i) * rng.step)
		p.Succeeded, p.Retried, p.Failed = r.Attempts[store.OutcomeSuccess], r.Attempts[store.OutcomeRetry], r.Attempts[store.OutcomeFailed]
		if r.Latency.Count() > 0 {
			p50, p95 := ms(r.Latency.Quantile(0.5)), ms(r.Latency.Quantile(0.95))
			p.P50Ms, p.P95Ms = &p50, &p95
		}
		p.QueueDepth.High, p.QueueDepth.Normal, p.QueueDepth.Low =
			r.Depth[events.PriorityHigh], r.Depth[events.PriorityNormal], r.Depth[events.PriorityLow]
	}
	return out
}

// ms is d in milliseconds to a tenth.
func ms(d time.Duration) float64 {
	return float64(d.Round(100*time.Microsecond)) / float64(time.Millisecond)
}
