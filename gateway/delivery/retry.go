package delivery

import (
	"strconv"
	"time"

	"github.com/hookgate/hookgate/config"
	"github.com/hookgate/hookgate/plugins/sdk"
	"github.com/hookgate/hookgate/store"
)

// retryPolicy decides what happens after an attempt: done, try again later,
// or dead-letter. It reads the typed Result a sink returns, never strings.
type retryPolicy struct {
	backoff       []time.Duration
	high, medium  int
	low           int
	highRate      float64
	lowRate       float64
	maxRetryAfter time.Duration
}

func newRetryPolicy(d config.Delivery) retryPolicy {
	return retryPolicy{
		backoff: d.Backoff, high: d.RetriesHigh, medium: d.RetriesMedium, low: d.RetriesLow,
		highRate: d.HighRate, lowRate: d.LowRate, maxRetryAfter: d.MaxRetryAfter,
	}
}

// retries is the dynamic budget of spec §2.3: a webhook with fewer than
// StatsWindow recorded attempts is new and gets the full budget; after that
// >high rate earns `high`, [low, high] earns `medium`, below low `low`.
// It never exceeds the number of backoff delays configured.
func (p retryPolicy) retries(st store.WebhookStats) int {
	n := p.high
	if rate, count := st.SuccessRate(); count >= store.StatsWindow {
		switch {
		case rate > p.highRate:
			n = p.high
		case rate >= p.lowRate:
			n = p.medium
		default:
			n = p.low
		}
	}
	return min(n, len(p.backoff))
}

// decision is what becomes of a delivery after attempt number `attempt`.
type decision struct {
	state   store.DeliveryState // store.DeliverySucceeded, DeliveryPending or DeliveryDead
	outcome store.Outcome
	dueAt   time.Time
	reason  string // why it was dead-lettered
}

func (p retryPolicy) decide(attempt int, res *sdk.Result, st store.WebhookStats, now time.Time) decision {
	if res.OK() {
		return decision{state: store.DeliverySucceeded, outcome: store.OutcomeSuccess}
	}
	if !res.Retryable {
		return decision{state: store.DeliveryDead, outcome: store.OutcomeFailed, reason: "final failure: " + failureText(res)}
	}
	budget := p.retries(st)
	if attempt > budget { // attempt 1 is the first try, so attempt-1 retries were used
		return decision{state: store.DeliveryDead, outcome: store.OutcomeFailed,
			reason: "retries exhausted after " + strconv.Itoa(attempt) + " attempts: " + failureText(res)}
	}
	delay := p.backoff[attempt-1]
	// Honour Retry-After when it asks for longer, within a bound so a
	// receiver cannot park a delivery for ever.
	if ra := min(res.RetryAfter, p.maxRetryAfter); ra > delay {
		delay = ra
	}
	return decision{state: store.DeliveryPending, outcome: store.OutcomeRetry, dueAt: now.Add(delay)}
}

func failureText(res *sdk.Result) string {
	if res.Error != "" {
		return res.Error
	}
	return "HTTP " + strconv.Itoa(res.Status)
}
