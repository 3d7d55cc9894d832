package dashboard

import (
	"html/template"
	"net/http"
	"net/url"
	"slices"
	"time"

	"github.com/hookgate/hookgate/dashboard/charts"
)

// The charts of the health page and a webhook's details page
// (docs/charts.md): the series of GET /api/v1/stats?range=, drawn on the
// server by dashboard/charts.

// chartRanges are the ranges the API's ?range= offers; defaultRange is
// the one a page shows first (a day: "how is it doing over time").
var chartRanges = []string{"1h", "24h", "7d"}

const defaultRange = "24h"

// statsSeries is the series member of GET /api/v1/stats?range=.
type statsSeries struct {
	StepSeconds int       `json:"stepSeconds"`
	From        time.Time `json:"from"`
	Points      []struct {
		At                         time.Time `json:"at"`
		Succeeded, Retried, Failed int64
		P50Ms, P95Ms               *float64
		QueueDepth                 struct{ High, Normal, Low int64 }
	} `json:"points"`
}

// chartSet is what the "charts" part draws.
type chartSet struct {
	Range  string
	Ranges []string
	// Deliveries, Latency and Depth are SVG from dashboard/charts, whose
	// every text is escaped; nil when the gateway keeps no rollups.
	Deliveries, Latency, Depth template.HTML
	// Note says why there are no charts when reading them failed.
	Note string
}

// chartRange is the page's ?range=, or the default.
func chartRange(r *http.Request) string {
	if v := r.URL.Query().Get("range"); slices.Contains(chartRanges, v) {
		return v
	}
	return defaultRange
}

// chartQuery asks GET /api/v1/stats for the page's range, of one webhook
// when webhookID is set.
func chartQuery(r *http.Request, webhookID string) url.Values {
	q := url.Values{"range": {chartRange(r)}}
	if webhookID != "" {
		q.Set("webhookId", webhookID)
	}
	return q
}

// drawCharts draws a series of scope ("all webhooks", a URL); nil
// draws nothing (a store without rollups).
func drawCharts(r *http.Request, s *statsSeries, scope string) chartSet {
	set := chartSet{Range: chartRange(r), Ranges: chartRanges}
	if s == nil || s.StepSeconds <= 0 {
		return set
	}
	cs := charts.Series{From: s.From, Step: time.Duration(s.StepSeconds) * time.Second, Scope: scope}
	for _, p := range s.Points {
		cp := charts.Point{At: p.At, Success: p.Succeeded, Retry: p.Retried, Failed: p.Failed,
			Depth: [3]int64{p.QueueDepth.High, p.QueueDepth.Normal, p.QueueDepth.Low}}
		if p.P50Ms != nil && p.P95Ms != nil {
			cp.P50, cp.P95 = msDuration(*p.P50Ms), msDuration(*p.P95Ms)
		}
		cs.Points = append(cs.Points, cp)
	}
	draw := func(id string, f func(charts.Series) []byte) template.HTML {
		cs.ID = id
		return template.HTML(f(cs)) // #nosec: dashboard/charts escapes every text it writes
	}
	set.Deliveries = draw("chart-deliveries", charts.Deliveries)
	set.Latency = draw("chart-latency", charts.Latency)
	set.Depth = draw("chart-depth", charts.QueueDepth)
	return set
}

func msDuration(ms float64) time.Duration { return time.Duration(ms * float64(time.Millisecond)) }

// webhookCharts reads and draws one webhook's series. The details page
// shows without them when they cannot be read, saying so.
func (d *Dashboard) webhookCharts(r *http.Request, wh *webhook) chartSet {
	var st struct {
		Series *statsSeries `json:"series"`
	}
	if _, err := sessionOf(r).api.get(r.Context(), "/api/v1/stats", chartQuery(r, wh.WebhookID), &st); err != nil {
		d.log.Warn("dashboard: reading a webhook's charts", "webhook", wh.WebhookID, "err", err)
		set := drawCharts(r, nil, "")
		set.Note = "The charts could not be read: " + err.Error()
		return set
	}
	return drawCharts(r, st.Series, wh.URL)
}
