package api_test

import (
	"strings"
	"testing"
	"time"

	"github.com/hookgate/hookgate/gateway"
	"github.com/hookgate/hookgate/gateway/gatewaytest"
	"github.com/hookgate/hookgate/store"
	"github.com/hookgate/hookgate/store/badger"
)

// TestStatsSeries: ?range= adds the charts' series: one point per step
// ending with the step now falls in, the caller's company's (or one of
// its webhooks') attempts by outcome and duration quantiles, the
// gateway's queue depth; minutes summed into 15-minute steps for 24h;
// another company's rows and minutes out of range left out; a range not
// offered is a 400 naming it, another company's webhook a 404.
func TestStatsSeries(t *testing.T) {
	var st *badger.Store
	tg := serve(t, gatewaytest.APIConfig(t), false, nil, func(o *gateway.Options) {
		s, err := badger.Open(badger.Options{Path: t.TempDir(), Clock: o.Clock.Now, Logger: gatewaytest.Logger()})
		if err != nil {
			t.Fatal(err)
		}
		t.Cleanup(func() { _ = s.Close() })
		o.Store, st = s, s
	})
	acme := tg.Token("acme", "acme-secret")
	id := tg.Create(acme, gatewaytest.NewHook("https://example.test/in"))["webhookId"].(string)

	m := store.RollupMinute(gatewaytest.T0).Add(-5 * time.Minute) // 14:50, in the last hour
	var ten store.Histogram
	for range 4 {
		ten.Observe(10 * time.Millisecond)
	}
	err := st.AddRollups(t.Context(), []store.Rollup{
		{CompanyID: 100, WebhookID: id, Minute: m, Attempts: map[store.Outcome]int64{store.OutcomeSuccess: 3, store.OutcomeRetry: 1}, Latency: ten},
		{CompanyID: 100, Minute: m, Attempts: map[store.Outcome]int64{store.OutcomeSuccess: 8, store.OutcomeRetry: 1}, Latency: ten},
		{CompanyID: 100, Minute: m.Add(-110 * time.Minute), Attempts: map[store.Outcome]int64{store.OutcomeSuccess: 50}},
		{CompanyID: 200, Minute: m, Attempts: map[store.Outcome]int64{store.OutcomeFailed: 9}},
		{Minute: m, Depth: [3]int64{1, 7, 0}},
		{Minute: m.Add(time.Minute), Depth: [3]int64{0, 2, 0}},
	})
	if err != nil {
		t.Fatal(err)
	}
	series := func(query string) (map[string]any, []map[string]any) {
		t.Helper()
		s := tg.Must(200, "GET", "/api/v1/stats?"+query, acme, nil).Result()["series"].(map[string]any)
		var ps []map[string]any
		for _, p := range s["points"].([]any) {
			ps = append(ps, p.(map[string]any))
		}
		return s, ps
	}
	sum := func(ps []map[string]any, field string) (n float64) {
		for _, p := range ps {
			n += p[field].(float64)
		}
		return n
	}

	s, ps := series("range=1h")
	if len(ps) != 60 || s["stepSeconds"] != 60.0 || s["to"] != "2026-01-20T14:56:00Z" {
		t.Fatalf("1h series: %d points, step %v, to %v; want 60 one-minute points to 14:56", len(ps), s["stepSeconds"], s["to"])
	}
	p := ps[54]
	if p["at"] != "2026-01-20T14:50:00Z" || p["succeeded"] != 8.0 || p["retried"] != 1.0 || p["failed"] != 0.0 {
		t.Fatalf("point 54 = %v, want the company's 14:50: 8 succeeded, 1 retried", p)
	}
	if p50 := p["p50Ms"].(float64); p50 < 8.5 || p50 > 11.5 {
		t.Errorf("p50Ms %v, want about 10", p50)
	}
	if d := p["queueDepth"].(map[string]any); d["normal"] != 7.0 || d["high"] != 1.0 {
		t.Errorf("queue depth at 14:50 = %v, want the gateway's 1 high, 7 normal", d)
	}
	if q := ps[55]; q["p50Ms"] != nil || q["queueDepth"].(map[string]any)["normal"] != 2.0 {
		t.Errorf("point 55 = %v, want no quantiles and depth 2", q)
	}
	if n := sum(ps, "succeeded") + sum(ps, "failed"); n != 8 {
		t.Errorf("the hour counts %v attempts, want 8 (no other company's, none before the range)", n)
	}

	s, ps = series("range=1h&webhookId=" + id)
	if s["webhookId"] != id || sum(ps, "succeeded") != 3 || ps[54]["retried"] != 1.0 {
		t.Errorf("the webhook's series = %v, want its own 3 succeeded, 1 retried", ps[54])
	}

	s, ps = series("range=24h")
	if len(ps) != 96 || s["stepSeconds"] != 900.0 || sum(ps, "succeeded") != 58 || ps[95]["succeeded"] != 8.0 {
		t.Errorf("24h: %d points of %vs, %v succeeded, last step %v; want 96 of 900s, 58, 8 in the last",
			len(ps), s["stepSeconds"], sum(ps, "succeeded"), ps[95]["succeeded"])
	}
	if _, ps = series("range=7d"); len(ps) != 84 || sum(ps, "succeeded") != 58 {
		t.Errorf("7d: %d points, %v succeeded; want 84, 58", len(ps), sum(ps, "succeeded"))
	}
	if r := tg.Must(200, "GET", "/api/v1/stats", acme, nil).Result(); r["series"] != nil {
		t.Errorf("without range the answer has a series: %v", r["series"])
	}
	if r := tg.Must(400, "GET", "/api/v1/stats?range=2h", acme, nil); !strings.Contains(string(r.Raw), "'range' must be one of 1h, 24h, 7d") {
		t.Errorf("range=2h: %s", r.Raw)
	}
	tg.Must(404, "GET", "/api/v1/stats?range=1h&webhookId="+id, tg.Token("globex-admin", "globex-admin-secret"), nil)
}
