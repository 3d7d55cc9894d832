package api

import (
	"cmp"
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
func (s *Server) handleStats(c *fiber.Ctx) error {
	ctx := c.UserContext()
	company := ClaimsOf(c).CompanyID
	// ?range= adds the charts' series (stats_series.go); a bad one is
	// refused before any reading.
	rng, withSeries, err := seriesRange(c.Query("range"))
	if err != nil {
		return err
	}
	depth, err := s.store.QueueDepth(ctx)
	if err != nil {
		return err
	}
	hooks, err := s.store.ListWebhooks(ctx, store.WebhookFilter{CompanyID: company})
	if err != nil {
		return err
	}
	now := s.clock.Now()
	// One walk over the window's summaries, folded into per-webhook
	// counters and histograms as it goes: memory per webhook, not per attempt.
	sums := make(map[string]*attemptSummary, len(hooks))
	for _, w := range hooks {
		sums[w.WebhookID] = &attemptSummary{}
	}
	f := store.AttemptFilter{CompanyID: company, CreatedFrom: now.Add(-statsWindow), CreatedTo: now}
	err = s.store.WalkAttempts(ctx, f, func(a *store.Attempt) bool {
		if s := sums[a.WebhookID]; s != nil { // a deleted webhook's attempts are not shown
			s.add(a)
		}
		return true
	})
	if err != nil {
		return err
	}
	out := make([]webhookStats, 0, len(hooks))
	for _, w := range hooks {
		out = append(out, sums[w.WebhookID].stats(w))
	}
	// Busiest first: the panel is read top down.
	slices.SortStableFunc(out, func(a, b webhookStats) int { return cmp.Compare(b.Attempts, a.Attempts) })
	answer := fiber.Map{
		"windowSeconds": int(statsWindow.Seconds()),
		"queueDepth": fiber.Map{"high": depth[events.PriorityHigh], "normal": depth[events.PriorityNormal],
			"low": depth[events.PriorityLow]},
		"webhooks": out,
	}
	if withSeries {
		if answer["series"], err = s.seriesOf(ctx, company, c.Query("webhookId"), rng, now); err != nil {
			return err
		}
	}
	return s.okOne(c, answer)
}

// attemptSummary folds one webhook's attempts into its figures.
type attemptSummary struct {
	attempts, succeeded int
	durations           latencyHistogram
}

func (s *attemptSummary) add(a *store.Attempt) {
	s.attempts++
	if a.Outcome == store.OutcomeSuccess {
		s.succeeded++
	}
	s.durations.add(a.DurationMs)
}

// stats computes the webhook's success rate and p95 attempt time.
func (s *attemptSummary) stats(w *store.Webhook) webhookStats {
	out := webhookStats{WebhookID: w.WebhookID, URL: w.URL, Status: string(w.Status), Attempts: s.attempts, Succeeded: s.succeeded}
	if s.attempts == 0 {
		return out
	}
	rate := float64(s.succeeded) / float64(s.attempts)
	out.SuccessRate = &rate
	p := float64(s.durations.percentile(0.95))
	out.P95Ms = &p
	return out
}
