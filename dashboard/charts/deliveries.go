package charts

import (
	"fmt"
	"strconv"
)

// outcomeStyle is how one outcome is drawn: a pattern that tells it apart
// in grey too (solid, diagonal stripes, cross-hatch) in a colour that
// helps where colour is seen.
type outcomeStyle struct {
	class, label, words string
	pattern             string // the <pattern> body, on a 6×6 tile
}

var outcomes = [3]outcomeStyle{
	{"success", "succeeded", "succeeded",
		`<rect width="6" height="6" fill="#3d7a3a"/>`},
	{"retry", "failed, retried", "failed and will be retried",
		`<rect width="6" height="6" fill="#fbe3b4"/><path d="M-1,1 l2,-2 M0,6 l6,-6 M5,7 l2,-2" stroke="#8a5300" stroke-width="1.6"/>`},
	{"failed", "failed, dead-lettered", "failed for good (dead-lettered)",
		`<rect width="6" height="6" fill="#f6d2d2"/><path d="M0,0 l6,6 M6,0 l-6,6" stroke="#9e1b1b" stroke-width="1.3"/>`},
}

func (p Point) byOutcome() [3]int64 { return [3]int64{p.Success, p.Retry, p.Failed} }

// Deliveries draws the attempts of each step as a bar stacked by outcome:
// succeeded at the bottom, then failed and retried, then dead-lettered.
// Each bar has a title (a tooltip) with its figures.
func Deliveries(s Series) []byte {
	var sum [3]int64
	var peak int64
	var peakAt int
	for i, p := range s.Points {
		for o, n := range p.byOutcome() {
			sum[o] += n
		}
		if n := p.Attempts(); n > peak {
			peak, peakAt = n, i
		}
	}
	total := sum[0] + sum[1] + sum[2]
	title := "Deliveries per " + stepWords(s.Step) + ", " + s.Scope
	desc := "Attempts per " + stepWords(s.Step) + " " + s.span() + ", stacked by outcome: "
	if total == 0 {
		desc += "none."
	} else {
		desc += strconv.FormatInt(total, 10) + " in all, " + join(
			strconv.FormatInt(sum[0], 10)+" "+outcomes[0].words,
			strconv.FormatInt(sum[1], 10)+" "+outcomes[1].words,
			strconv.FormatInt(sum[2], 10)+" "+outcomes[2].words) +
			". The busiest " + stepWords(s.Step) + " had " + strconv.FormatInt(peak, 10) + ", at " + when(s.Points[peakAt].At) + "."
	}
	b := begin(s, title, desc)
	b.WriteString("<defs>\n")
	for _, o := range outcomes {
		fmt.Fprintf(b, `<pattern id="%s-%s" width="6" height="6" patternUnits="userSpaceOnUse">%s</pattern>`+"\n", esc(s.ID), o.class, o.pattern)
	}
	b.WriteString("</defs>\n")
	top, ticks := niceTicks(float64(peak), 1)
	b.yAxis(top, ticks, count)
	b.xAxis()
	keys := make([]key, len(outcomes))
	for i, o := range outcomes {
		keys[i] = key{label: o.label, fill: "url(#" + esc(s.ID) + "-" + o.class + ")"}
	}
	b.legend(keys)
	if total == 0 {
		b.empty("No deliveries in this range")
		return b.end()
	}
	gap := min(b.slot()*0.2, 2)
	b.WriteString(`<g class="bars">` + "\n")
	for i, p := range s.Points {
		if p.Attempts() == 0 {
			continue
		}
		fmt.Fprintf(b, `<g class="bar"><title>%s: %d succeeded, %d failed and retried, %d dead-lettered</title>`+"\n",
			esc(when(p.At)), p.Success, p.Retry, p.Failed)
		base := 0.0
		for o, n := range p.byOutcome() {
			if n == 0 {
				continue
			}
			y0, y1 := y(base, top), y(base+float64(n), top)
			fmt.Fprintf(b, `<rect class="%s" x="%s" y="%s" width="%s" height="%s" fill="url(#%s-%s)" stroke="#1a1a1a" stroke-width="0.5"/>`+"\n",
				outcomes[o].class, f(b.x(i)+gap/2), f(y1), f(b.slot()-gap), f(y0-y1), esc(s.ID), outcomes[o].class)
			base += float64(n)
		}
		b.WriteString("</g>\n")
	}
	b.WriteString("</g>\n")
	return b.end()
}
