package benchrun

import (
	"bytes"
	"strings"
	"testing"
)

// TestCompareSummary: each figure's medians and ranges, and its change
// within each round — in points for a percentage, else in % of the base.
func TestCompareSummary(t *testing.T) {
	rep := func(plain, drainPct, gw float64, paced bool) *Report {
		r := &Report{Plain: Plain{RequestsPerSec: plain}, Drain: Delivery{PercentOfPlain: drainPct, GatewayCPUMicros: gw}}
		if paced {
			r.Latency = &Latency{PublishedP99ms: 10}
		}
		return r
	}
	c := &Comparison{Base: "a", Other: "b", Rounds: []Round{
		{Base: rep(20000, 25, 100, true), Other: rep(20000, 30, 90, true)},  // +5 points, −10 %
		{Base: rep(30000, 20, 120, true), Other: rep(24000, 19, 132, true)}, // −1 point, +10 %
		{Base: rep(25000, 28, 110, false), Other: rep(25000, 30, 99, true)}, // +2 points, −10 %; no paced pair
	}}
	c.summarize()
	got := map[string]FigureSummary{}
	for _, f := range c.Figures {
		got[f.Name] = f
	}
	drain := got["drain"]
	if drain.ChangeUnit != "points" || drain.Change != (Spread{Median: 2, Min: -1, Max: 5}) {
		t.Errorf("drain change: %+v", drain)
	}
	if drain.Base != (Spread{Median: 25, Min: 20, Max: 28}) || drain.Other != (Spread{Median: 30, Min: 19, Max: 30}) {
		t.Errorf("drain spreads: %+v", drain)
	}
	gw := got["drain, gateway CPU"]
	if gw.ChangeUnit != "%" || gw.Change.Median != -10 || gw.Change.Max != 10 {
		t.Errorf("gateway change: %+v", gw)
	}
	// Only the rounds where both runs had a paced run count.
	if p := got["paced, published → received p99"]; p.Base.Median != 10 || p.Change != (Spread{}) {
		t.Errorf("paced: %+v", p)
	}
	var b bytes.Buffer
	c.Print(&b)
	for _, want := range []string{"3 rounds", "base:  a", "other: b", "+2.0 [-1.0 … +5.0] points", "-10.0 [-10.0 … +10.0] %", "25.0 [20.0 … 28.0]"} {
		if !strings.Contains(b.String(), want) {
			t.Errorf("no %q in\n%s", want, b.String())
		}
	}
}

// TestSpreadEven: the median of an even count is the middle two's mean.
func TestSpreadEven(t *testing.T) {
	if s := spread([]float64{4, 1, 3, 2}); s != (Spread{Median: 2.5, Min: 1, Max: 4}) {
		t.Errorf("%+v", s)
	}
}
