package benchrun

import (
	"context"
	"fmt"
	"io"
	"slices"
	"strings"
)

// Comparison is two builds measured in rounds on one machine, one run of
// each per round, the order alternating (base, other; other, base; ...)
// so that a drift of the machine during a round weighs on both alike. On
// a shared machine absolute figures move by tens of percent from one run
// to the next; the change within each round, read across rounds, is what
// can be trusted.
type Comparison struct {
	Base   string  `json:"base"`  // the base build's executable
	Other  string  `json:"other"` // the build compared with it
	Rounds []Round `json:"rounds"`
	// Figures summarizes each figure over the rounds.
	Figures []FigureSummary `json:"figures"`
}

// Round is one run of each build.
type Round struct {
	Base  *Report `json:"base"`
	Other *Report `json:"other"`
}

// FigureSummary is one figure over the rounds: each build's median and
// range, and the change from base to other within each round.
type FigureSummary struct {
	Name  string `json:"name"`
	Unit  string `json:"unit"`
	Base  Spread `json:"base"`
	Other Spread `json:"other"`
	// Change is other − base within each round: in points for figures
	// that are a percentage already, else relative, in % of base.
	Change     Spread `json:"change"`
	ChangeUnit string `json:"changeUnit"` // "points" or "%"
}

// Spread is the median and range of a figure's values.
type Spread struct {
	Median float64 `json:"median"`
	Min    float64 `json:"min"`
	Max    float64 `json:"max"`
}

// figure reads one figure of a report; ok is false when the report has
// none (no paced run).
type figure struct {
	name, unit string
	points     bool // a percentage: changes are differences, not ratios
	get        func(*Report) (float64, bool)
}

var figures = []figure{
	{"plain Go client", "requests/s", false, func(r *Report) (float64, bool) { return r.Plain.RequestsPerSec, true }},
	{"drain", "% of plain", true, func(r *Report) (float64, bool) { return r.Drain.PercentOfPlain, true }},
	{"drain, gateway CPU", "µs/delivery", false, func(r *Report) (float64, bool) { return r.Drain.GatewayCPUMicros, true }},
	{"drain, sink CPU", "µs/delivery", false, func(r *Report) (float64, bool) { return r.Drain.SinkCPUMicros, true }},
	{"drain, CPUs idle", "%", true, func(r *Report) (float64, bool) { return idleOf(r.Drain.CPUUse) }},
	{"publish and deliver", "% of plain", true, func(r *Report) (float64, bool) { return r.Publish.PercentOfPlain, true }},
	{"publish, gateway CPU", "µs/delivery", false, func(r *Report) (float64, bool) { return r.Publish.GatewayCPUMicros, true }},
	{"publish, sink CPU", "µs/delivery", false, func(r *Report) (float64, bool) { return r.Publish.SinkCPUMicros, true }},
	{"publish, CPUs idle", "%", true, func(r *Report) (float64, bool) { return idleOf(r.Publish.CPUUse) }},
	{"paced, published → received p99", "ms", false, func(r *Report) (float64, bool) {
		if r.Latency == nil {
			return 0, false
		}
		return r.Latency.PublishedP99ms, true
	}},
}

func idleOf(c *CPUUse) (float64, bool) {
	if c == nil {
		return 0, false
	}
	return c.IdlePercent, true
}

// Compare measures the builds base and other in rounds (at least 1), with
// o's options for every run (o.Binary is ignored). The runs prefill their
// data folders with this build's store code, which an older gateway may
// refuse as too new: compare from the older build's hookgate bench then.
func Compare(ctx context.Context, o Options, base, other string, rounds int) (*Comparison, error) {
	c := &Comparison{Base: base, Other: other}
	for i := range max(rounds, 1) {
		var rd Round
		order := []struct {
			bin string
			out **Report
		}{{base, &rd.Base}, {other, &rd.Other}}
		if i%2 == 1 {
			slices.Reverse(order)
		}
		for _, run := range order {
			o.Binary = run.bin
			r, err := Run(ctx, o)
			if err != nil {
				return nil, fmt.Errorf("round %d, %s: %w", i+1, run.bin, err)
			}
			*run.out = r
		}
		c.Rounds = append(c.Rounds, rd)
	}
	c.summarize()
	return c, nil
}

func (c *Comparison) summarize() {
	c.Figures = nil
	for _, f := range figures {
		var base, other, change []float64
		for _, rd := range c.Rounds {
			b, okb := f.get(rd.Base)
			o, oko := f.get(rd.Other)
			if !okb || !oko {
				continue
			}
			base, other = append(base, b), append(other, o)
			switch {
			case f.points:
				change = append(change, o-b)
			case b != 0:
				change = append(change, 100*(o-b)/b)
			}
		}
		if len(base) == 0 {
			continue
		}
		unit := "%"
		if f.points {
			unit = "points"
		}
		c.Figures = append(c.Figures, FigureSummary{Name: f.name, Unit: f.unit,
			Base: spread(base), Other: spread(other), Change: spread(change), ChangeUnit: unit})
	}
}

// spread returns the median (of the middle two for an even count) and the
// range of vs.
func spread(vs []float64) Spread {
	if len(vs) == 0 {
		return Spread{}
	}
	s := slices.Clone(vs)
	slices.Sort(s)
	m := s[len(s)/2]
	if len(s)%2 == 0 {
		m = (s[len(s)/2-1] + s[len(s)/2]) / 2
	}
	return Spread{Median: m, Min: s[0], Max: s[len(s)-1]}
}

// Print writes the comparison for a reader: one line per figure.
func (c *Comparison) Print(w io.Writer) {
	fmt.Fprintf(w, "hookgate bench --compare: %d rounds, one run of each build per round, the order alternating\n", len(c.Rounds))
	fmt.Fprintf(w, "base:  %s\nother: %s\n", c.Base, c.Other)
	if len(c.Rounds) > 0 && c.Rounds[0].Base != nil {
		r := c.Rounds[0].Base
		fmt.Fprintf(w, "%d deliveries per run, %d connections, %d-byte envelopes, fan-out %d; %d CPUs, %s\n",
			r.Options.Events, r.Options.Connections, r.Options.PayloadSize, r.Options.FanOut, r.Machine.CPUs, r.Machine.OS)
	}
	fmt.Fprintf(w, "\n%-34s %-12s %-26s %-26s %s\n", "figure", "unit", "base: median [range]", "other: median [range]", "change per round: median [range]")
	for _, f := range c.Figures {
		fmt.Fprintf(w, "%-34s %-12s %-26s %-26s %s\n", f.Name, f.Unit, f.Base.text(""), f.Other.text(""), f.Change.text(" "+f.ChangeUnit))
	}
	fmt.Fprintln(w, "\nThe plain client's line shows how much the machine itself moved; a change smaller than that is noise.")
}

// text is "median [min … max]" with one decimal; unit follows each number
// that is a change (signed).
func (s Spread) text(unit string) string {
	n := func(v float64) string {
		f := "%.1f"
		if v >= 1000 || v <= -1000 {
			f = "%.0f" // rates: a decimal says nothing there
		}
		if unit != "" {
			f = "%+" + f[1:]
		}
		return fmt.Sprintf(f, v)
	}
	return strings.TrimSpace(fmt.Sprintf("%s [%s … %s]%s", n(s.Median), n(s.Min), n(s.Max), unit))
}
