package config

import (
	"testing"
)

func TestParseRate(t *testing.T) {
	for s, want := range map[string]float64{"20/s": 20, "600/m": 10, "1800/h": 0.5, " 2.5 / s ": 2.5, "": 0} {
		got, err := ParseRate(s)
		if err != nil || got != want {
			t.Errorf("ParseRate(%q) = %v, %v; want %v", s, got, err, want)
		}
	}
	for _, s := range []string{"20", "20/d", "0/s", "-1/s", "x/s", "200000/s"} {
		if _, err := ParseRate(s); err == nil {
			t.Errorf("ParseRate(%q) accepted", s)
		}
	}
}

// TestRateLimitAttributes: rate_limit, rate_burst and max_in_flight on a
// webhook block, rate_limit on a sink block, and their diagnostics at the
// attribute written.
func TestRateLimitAttributes(t *testing.T) {
	cfg := mustParse(t, hookWith("https://example.com/in", "  rate_limit = \"20/s\"\n  rate_burst = 5\n  max_in_flight = 2\n"), nil)
	w := cfg.Webhooks[0]
	if w.Limit != (RateLimit{Rate: "20/s", Burst: 5}) || w.MaxInFlight != 2 || cfg.Delivery.RateBurst != 1 {
		t.Errorf("webhook %+v, default burst %d", w, cfg.Delivery.RateBurst)
	}
	_, diags := parse(t, hookWith("https://example.com/in", "  rate_limit = \"20 per second\"\n  rate_burst = 0\n  max_in_flight = 0\n"), nil)
	expectDiags(t, diags,
		`t.hcl:5:3: invalid rate_limit for webhook "w": "20 per second" is not a rate`,
		`t.hcl:6:3: invalid rate_burst for webhook "w": 0: must be at least 1`,
		`t.hcl:7:3: invalid max_in_flight of webhook "w": 0: must be at least 1`)
	_, diags = parse(t, hookWith("https://example.com/in", "  rate_burst = 3\n"), nil)
	expectDiags(t, diags, `t.hcl:5:3: rate_burst without rate_limit in webhook "w"`)

	cfg = mustParse(t, "sink \"snow\" {\n  type = \"servicenow\"\n  companies = [1]\n  rate_limit = \"1000/h\"\n}\n", nil)
	if cfg.Sinks[0].Limit.Rate != "1000/h" {
		t.Errorf("sink %+v", cfg.Sinks[0])
	}
	_, diags = parse(t, "sink \"snow\" {\n  type = \"servicenow\"\n  companies = [1]\n  rate_limit = \"1000/week\"\n}\n", nil)
	expectDiags(t, diags, `t.hcl:4:3: invalid rate_limit for sink "snow"`)
}
