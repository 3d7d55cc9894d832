package delivery

import (
	"testing"
	"time"

	"github.com/hookgate/hookgate/config"
	"github.com/hookgate/hookgate/plugins/sdk"
	"github.com/hookgate/hookgate/store"
)

// t0 is the tests' fixed now.
var t0 = time.Date(2026, 1, 20, 14, 55, 58, 0, time.UTC)

func statsWith(successes, total int) store.WebhookStats {
	st := store.WebhookStats{}
	for i := range total {
		st.Recent = append(st.Recent, i < successes)
	}
	return st
}

func TestDynamicRetryBudget(t *testing.T) {
	p := newRetryPolicy(config.Defaults().Delivery)
	cases := []struct {
		name  string
		stats store.WebhookStats
		want  int
	}{
		{"new webhook", store.WebhookStats{}, 7},
		{"fewer than 100 attempts, all failed", statsWith(0, 99), 7},
		{"96% of 100", statsWith(96, 100), 7},
		{"exactly 95%", statsWith(95, 100), 5},
		{"exactly 80%", statsWith(80, 100), 5},
		{"79%", statsWith(79, 100), 3},
		{"0%", statsWith(0, 100), 3},
	}
	for _, c := range cases {
		if got := p.retries(c.stats); got != c.want {
			t.Errorf("%s: %d retries, want %d", c.name, got, c.want)
		}
	}
}

func TestDecide(t *testing.T) {
	p := newRetryPolicy(config.Defaults().Delivery)
	now := t0
	low := statsWith(10, 100) // 3 retries: attempts 1..4
	cases := []struct {
		name    string
		attempt int
		res     sdk.Result
		stats   store.WebhookStats
		state   store.DeliveryState
		delay   time.Duration
	}{
		{"2xx", 1, sdk.Result{Status: 204}, low, store.DeliverySucceeded, 0},
		{"error text with 200 is a failure", 1, sdk.Result{Status: 200, Error: "sink broke", Retryable: true}, low, store.DeliveryPending, 10 * time.Second},
		{"final", 1, sdk.Result{Status: 404}, low, store.DeliveryDead, 0},
		{"retry 1", 1, sdk.Result{Status: 500, Retryable: true}, low, store.DeliveryPending, 10 * time.Second},
		{"retry 3 at low budget", 3, sdk.Result{Status: 500, Retryable: true}, low, store.DeliveryPending, 40 * time.Second},
		{"low budget exhausted", 4, sdk.Result{Status: 500, Retryable: true}, low, store.DeliveryDead, 0},
		{"new webhook 7th retry", 7, sdk.Result{Status: 500, Retryable: true}, store.WebhookStats{}, store.DeliveryPending, 640 * time.Second},
		{"new webhook exhausted", 8, sdk.Result{Status: 500, Retryable: true}, store.WebhookStats{}, store.DeliveryDead, 0},
		{"Retry-After capped", 1, sdk.Result{Status: 429, Retryable: true, RetryAfter: 1000 * time.Hour}, low, store.DeliveryPending, time.Hour},
	}
	for _, c := range cases {
		d := p.decide(c.attempt, &c.res, c.stats, now)
		if d.state != c.state {
			t.Errorf("%s: state %s, want %s", c.name, d.state, c.state)
			continue
		}
		if c.state == store.DeliveryPending && d.dueAt.Sub(now) != c.delay {
			t.Errorf("%s: delay %v, want %v", c.name, d.dueAt.Sub(now), c.delay)
		}
		if c.state == store.DeliveryDead && d.reason == "" {
			t.Errorf("%s: no reason", c.name)
		}
	}
}
