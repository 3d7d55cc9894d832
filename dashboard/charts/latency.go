package charts

import (
	"time"
)

// Latency draws the attempts' median (p50, solid) and 95th percentile
// (p95, dashed) duration per step; steps without attempts are gaps.
func Latency(s Series) []byte {
	var hi time.Duration
	var hiAt, last = -1, -1
	for i, p := range s.Points {
		if p.Attempts() == 0 {
			continue
		}
		last = i
		if hiAt < 0 || p.P95 > hi {
			hi, hiAt = p.P95, i
		}
	}
	title := "Attempt duration per " + stepWords(s.Step) + ", " + s.Scope
	desc := "Median (p50) and 95th percentile (p95) of attempt duration per " + stepWords(s.Step) + " " + s.span() + ": "
	if last < 0 {
		desc += "no attempts."
	} else {
		lp := s.Points[last]
		desc += "the highest p95 was " + duration(hi) + " at " + when(s.Points[hiAt].At) +
			"; the latest, at " + when(lp.At) + ", p50 " + duration(lp.P50) + " and p95 " + duration(lp.P95) + "."
	}
	b := begin(s, title, desc)
	top, ticks := niceTicks(float64(hi), float64(time.Millisecond)/4) // an empty or sub-millisecond chart still reads in ms
	b.yAxis(top, ticks, func(v float64) string { return duration(time.Duration(v)) })
	b.xAxis()
	lines := []line{
		{key{label: "p50 (median)", stroke: "#1f4e79"}, "p50", func(p Point) (float64, bool) { return float64(p.P50), p.Attempts() > 0 }},
		{key{label: "p95", stroke: "#8b1a1a", dash: "7 4"}, "p95", func(p Point) (float64, bool) { return float64(p.P95), p.Attempts() > 0 }},
	}
	b.legend([]key{lines[0].key, lines[1].key})
	if last < 0 {
		b.empty("No attempts in this range")
		return b.end()
	}
	b.drawLines(top, lines)
	return b.end()
}
