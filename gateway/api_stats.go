package gateway

import (
	"cmp"
	"math"
	"slices"
	"time"

	"github.com/gofiber/fiber/v2"

	"github.com/hookgate/hookgate/events"
	"github.com/hookgate/hookgate/store"
)

// statsWindow is the period of the health panel's per-webhook figures.
const statsWindow = time.Hour

// webhookStats are one webhook's figures over statsWindow.
type webhookStats struct {
	WebhookID   string   `json:"webhookId"`
	URL         string   `json:"url"`
	Status      string   `json:"status"`
	Attempts    int      `json:"attempts"`
	Succeeded   int      `json:"succeeded"`
	SuccessRate *float64 `json:"successRate"` // null without attempts
	P95Ms       *float64 `json:"p95Ms"`
}

// handleStats is GET /api/v1/stats (ours): queue depth by priority, read
// from the same store count as the hookgate_queue_depth gauge, and per
// webhook of the caller's company the attempts, success rate and p95
// attempt time over the last hour, from the attempt log that
// hookgate_delivery_attempts_total and hookgate_attempt_duration_seconds
// count. The log is used rather than the Prometheus series because those
// are gateway-wide (a per-webhook label would grow without bound) and the
// answer must be limited to the caller's company.
func (g *Gateway) handleStats(c *fiber.Ctx) error {
	ctx := c.UserContext()
	company := claimsOf(c).CompanyID
	depth, err := g.store.QueueDepth(ctx)
	if err != nil {
		return err
	}
	hooks, err := g.store.ListWebhooks(ctx, store.WebhookFilter{CompanyID: company})
	if err != nil {
		return err
	}
	now := g.clock.Now()
	attempts, _, err := g.store.ListAttempts(ctx, store.AttemptFilter{CompanyID: company, CreatedFrom: now.Add(-statsWindow), CreatedTo: now})
	if err != nil {
		return err
	}
	byHook := map[string][]*store.Attempt{}
	for _, a := range attempts {
		byHook[a.WebhookID] = append(byHook[a.WebhookID], a)
	}
	out := make([]webhookStats, 0, len(hooks))
	for _, w := range hooks {
		out = append(out, summarize(w, byHook[w.WebhookID]))
	}
	// Busiest first: the panel is read top down.
	slices.SortStableFunc(out, func(a, b webhookStats) int { return cmp.Compare(b.Attempts, a.Attempts) })
	return g.okOne(c, fiber.Map{
		"windowSeconds": int(statsWindow.Seconds()),
		"queueDepth": fiber.Map{"high": depth[events.PriorityHigh], "normal": depth[events.PriorityNormal],
			"low": depth[events.PriorityLow]},
		"webhooks": out,
	})
}

// summarize computes a webhook's success rate and p95 attempt time.
func summarize(w *store.Webhook, as []*store.Attempt) webhookStats {
	s := webhookStats{WebhookID: w.WebhookID, URL: w.URL, Status: w.Status, Attempts: len(as)}
	if len(as) == 0 {
		return s
	}
	ms := make([]int64, 0, len(as))
	for _, a := range as {
		if a.Outcome == store.OutcomeSuccess {
			s.Succeeded++
		}
		ms = append(ms, a.DurationMs)
	}
	rate := float64(s.Succeeded) / float64(len(as))
	s.SuccessRate = &rate
	p := float64(percentile(ms, 0.95))
	s.P95Ms = &p
	return s
}

// percentile is the nearest-rank percentile of xs (sorted in place).
func percentile(xs []int64, q float64) int64 {
	slices.Sort(xs)
	i := int(math.Ceil(q*float64(len(xs)))) - 1
	return xs[max(0, min(i, len(xs)-1))]
}
