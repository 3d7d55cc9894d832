// Package charts draws the dashboard's charts as SVG on the server:
// deliveries stacked by outcome, attempt duration (p50 and p95) and queue
// depth, from a series of equal steps (docs/charts.md). Pure functions from
// a Series to SVG bytes: no script, no styles or fonts from elsewhere,
// dark text on a light ground, outcomes told apart by fill pattern and
// lines by dash as well as by colour, and each chart an img with a title
// and a description that says in words what it shows.
//
// Every text in the output is escaped, so the dashboard may put the bytes
// into a page as template.HTML.
package charts

import (
	"bytes"
	"fmt"
	"html"
	"math"
	"strconv"
	"strings"
	"time"
)

// Point is one step of a series: what happened from At to At+Series.Step.
type Point struct {
	At time.Time
	// Attempts finished in the step, by outcome: succeeded, failed with
	// another attempt scheduled, failed for good (dead-lettered).
	Success, Retry, Failed int64
	// P50 and P95 are the attempts' duration quantiles; not drawn for a
	// step without attempts.
	P50, P95 time.Duration
	// Depth is the most pending deliveries seen per priority (high,
	// normal, low) in the step.
	Depth [3]int64
}

// Attempts is the step's attempts of every outcome.
func (p Point) Attempts() int64 { return p.Success + p.Retry + p.Failed }

// Series is what a chart draws: Points in time order, one per Step,
// starting at From.
type Series struct {
	// ID is unique within the page: it prefixes the ids of the chart's
	// title, description and patterns.
	ID   string
	From time.Time
	Step time.Duration
	// Points has one point per step; a step without traffic is a zero point.
	Points []Point
	// Scope names what the series counts in the chart's title, such as
	// "all webhooks" or a webhook's URL.
	Scope string
}

// To is the end of the series' last step.
func (s Series) To() time.Time { return s.From.Add(time.Duration(len(s.Points)) * s.Step) }

// Geometry of every chart, in SVG user units (the svg scales to its box).
const (
	width      = 720
	height     = 220
	plotLeft   = 60
	plotRight  = width - 16
	plotTop    = 34
	plotBottom = height - 30
	textColour = "#1a1a1a"
	gridColour = "#d0d0d0"
)

// svg collects one chart's markup.
type svg struct {
	bytes.Buffer
	s Series
}

// begin writes the root element with its accessible name and description.
func begin(s Series, title, desc string) *svg {
	b := &svg{s: s}
	id := html.EscapeString(s.ID)
	fmt.Fprintf(b, `<svg xmlns="http://www.w3.org/2000/svg" viewBox="0 0 %d %d" width="100%%" role="img" aria-labelledby="%s-title %s-desc" aria-label="%s" class="chart" font-family="sans-serif" font-size="11">`+"\n",
		width, height, id, id, esc(title))
	fmt.Fprintf(b, `<title id="%s-title">%s</title>`+"\n", id, esc(title))
	fmt.Fprintf(b, `<desc id="%s-desc">%s</desc>`+"\n", id, esc(desc))
	fmt.Fprintf(b, `<rect x="0" y="0" width="%d" height="%d" fill="#ffffff"/>`+"\n", width, height)
	return b
}

func (b *svg) end() []byte {
	b.WriteString("</svg>\n")
	return b.Bytes()
}

func esc(s string) string { return html.EscapeString(s) }

// x is the left edge of step i.
func (b *svg) x(i int) float64 {
	return plotLeft + float64(i)*b.slot()
}

// slot is the width of one step.
func (b *svg) slot() float64 {
	return float64(plotRight-plotLeft) / float64(max(len(b.s.Points), 1))
}

// y maps v of an axis topped at top to the plot's height.
func y(v, top float64) float64 {
	return plotBottom - v/top*float64(plotBottom-plotTop)
}

// yAxis draws the horizontal grid lines and their labels.
func (b *svg) yAxis(top float64, ticks []float64, label func(float64) string) {
	b.WriteString(`<g class="y-axis" fill="` + textColour + `">` + "\n")
	for _, v := range ticks {
		yy := y(v, top)
		fmt.Fprintf(b, `<line x1="%d" y1="%s" x2="%d" y2="%s" stroke="%s" stroke-width="1"/>`+"\n", plotLeft, f(yy), plotRight, f(yy), gridColour)
		fmt.Fprintf(b, `<text x="%d" y="%s" text-anchor="end">%s</text>`+"\n", plotLeft-6, f(yy+4), esc(label(v)))
	}
	b.WriteString("</g>\n")
}

// xAxis labels round times along the bottom, at most about eight.
func (b *svg) xAxis() {
	every := labelEvery(b.s.Step * time.Duration(len(b.s.Points)))
	fmt.Fprintf(b, `<g class="x-axis" fill="%s" text-anchor="middle">`+"\n", textColour)
	fmt.Fprintf(b, `<line x1="%d" y1="%d" x2="%d" y2="%d" stroke="%s" stroke-width="1"/>`+"\n", plotLeft, plotBottom, plotRight, plotBottom, textColour)
	to := b.s.To()
	for t := b.s.From.Truncate(every); !t.After(to); t = t.Add(every) {
		if t.Before(b.s.From) {
			continue
		}
		xx := plotLeft + float64(t.Sub(b.s.From))/float64(to.Sub(b.s.From))*float64(plotRight-plotLeft)
		fmt.Fprintf(b, `<line x1="%s" y1="%d" x2="%s" y2="%d" stroke="%s"/>`+"\n", f(xx), plotBottom, f(xx), plotBottom+4, textColour)
		fmt.Fprintf(b, `<text x="%s" y="%d">%s</text>`+"\n", f(xx), plotBottom+16, esc(timeLabel(t, every)))
	}
	b.WriteString("</g>\n")
}

// legend draws the keys left to right along the top: each a swatch (a
// filled box, or a line sample when dash is set) and its words.
func (b *svg) legend(keys []key) {
	b.WriteString(`<g class="legend" fill="` + textColour + `">` + "\n")
	x := float64(plotLeft)
	for _, k := range keys {
		if k.fill != "" {
			fmt.Fprintf(b, `<rect x="%s" y="10" width="14" height="12" fill="%s" stroke="%s" stroke-width="0.75"/>`+"\n", f(x), k.fill, textColour)
		} else {
			fmt.Fprintf(b, `<line x1="%s" y1="16" x2="%s" y2="16" stroke="%s" stroke-width="2.5"%s/>`+"\n", f(x), f(x+18), k.stroke, dashAttr(k.dash))
		}
		fmt.Fprintf(b, `<text x="%s" y="20">%s</text>`+"\n", f(x+22), esc(k.label))
		x += 22 + 6.2*float64(len(k.label)) + 18
	}
	b.WriteString("</g>\n")
}

// empty writes the words shown instead of marks when nothing happened.
func (b *svg) empty(words string) {
	fmt.Fprintf(b, `<text x="%d" y="%d" text-anchor="middle" fill="%s" class="empty">%s</text>`+"\n",
		(plotLeft+plotRight)/2, (plotTop+plotBottom)/2, textColour, esc(words))
}

type key struct {
	label        string
	fill         string // a box's fill (a colour or url(#pattern))
	stroke, dash string // a line's colour and dash array ("" solid)
}

func dashAttr(dash string) string {
	if dash == "" {
		return ""
	}
	return ` stroke-dasharray="` + dash + `"`
}

// f formats a coordinate with at most two decimals (stable golden files).
func f(v float64) string {
	return strconv.FormatFloat(math.Round(v*100)/100, 'f', -1, 64)
}

// niceTicks returns an axis top at or above hi and its grid values: steps
// of 1, 2 or 5 times a power of ten, four or five of them, and none
// smaller than least (1 for counts: no half deliveries).
func niceTicks(hi, least float64) (top float64, ticks []float64) {
	hi = max(hi, least)
	raw := max(hi/4, least)
	mag := math.Pow(10, math.Floor(math.Log10(raw)))
	step := mag
	for _, m := range []float64{1, 2, 5, 10} {
		if step = m * mag; step >= raw {
			break
		}
	}
	top = math.Ceil(hi/step) * step
	for v := 0.0; v <= top+step/2; v += step {
		ticks = append(ticks, v)
	}
	return top, ticks
}

// count formats a count for an axis: 950, 1.2k, 3M.
func count(v float64) string {
	switch {
	case v >= 1e6:
		return trimZero(v/1e6) + "M"
	case v >= 1e3:
		return trimZero(v/1e3) + "k"
	}
	return trimZero(v)
}

func trimZero(v float64) string { return strconv.FormatFloat(math.Round(v*10)/10, 'f', -1, 64) }

// duration formats a duration for an axis or the description.
func duration(d time.Duration) string {
	switch {
	case d >= time.Second:
		return trimZero(d.Seconds()) + " s"
	case d >= 10*time.Millisecond:
		return strconv.FormatInt(d.Round(time.Millisecond).Milliseconds(), 10) + " ms"
	}
	return trimZero(float64(d)/float64(time.Millisecond)) + " ms"
}

// labelEvery picks the spacing of the time labels for a span.
func labelEvery(span time.Duration) time.Duration {
	for _, d := range []time.Duration{5 * time.Minute, 10 * time.Minute, 15 * time.Minute, 30 * time.Minute,
		time.Hour, 2 * time.Hour, 3 * time.Hour, 6 * time.Hour, 12 * time.Hour} {
		if span/d <= 8 {
			return d
		}
	}
	return 24 * time.Hour
}

func timeLabel(t time.Time, every time.Duration) string {
	t = t.UTC()
	if every >= 24*time.Hour {
		return t.Format("Mon 2 Jan")
	}
	return t.Format("15:04")
}

// stepWords names a step length in a description: "minute", "15 minutes".
func stepWords(d time.Duration) string {
	switch {
	case d == time.Minute:
		return "minute"
	case d == time.Hour:
		return "hour"
	case d%time.Hour == 0:
		return strconv.Itoa(int(d/time.Hour)) + " hours"
	}
	return strconv.Itoa(int(d/time.Minute)) + " minutes"
}

// when names a step's start in a description.
func when(t time.Time) string { return t.UTC().Format("Mon 2 Jan 15:04") + " UTC" }

// span names the series' range in a description.
func (s Series) span() string {
	return "from " + when(s.From) + " to " + when(s.To())
}

// join lists parts with commas.
func join(parts ...string) string { return strings.Join(parts, ", ") }
