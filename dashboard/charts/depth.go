package charts

import "strconv"

// QueueDepth draws the most pending deliveries seen in each step, one line
// per priority: high solid, normal dashed, low dotted.
func QueueDepth(s Series) []byte {
	var hi int64
	hiAt := 0
	for i, p := range s.Points {
		if n := p.Depth[0] + p.Depth[1] + p.Depth[2]; n > hi {
			hi, hiAt = n, i
		}
	}
	var top1 int64
	for _, p := range s.Points {
		top1 = max(top1, p.Depth[0], p.Depth[1], p.Depth[2])
	}
	title := "Queue depth per " + stepWords(s.Step) + ", " + s.Scope
	desc := "Pending deliveries by priority, the most seen in each " + stepWords(s.Step) + " " + s.span() + ": "
	if hi == 0 {
		desc += "the queue stayed empty."
	} else {
		p := s.Points[hiAt]
		desc += "the most was " + strconv.FormatInt(hi, 10) + " at " + when(p.At) + " (" + join(
			strconv.FormatInt(p.Depth[0], 10)+" high", strconv.FormatInt(p.Depth[1], 10)+" normal",
			strconv.FormatInt(p.Depth[2], 10)+" low") + ")."
	}
	if last := len(s.Points) - 1; last >= 0 {
		d := s.Points[last].Depth
		desc += " In the last " + stepWords(s.Step) + ": " + join(strconv.FormatInt(d[0], 10)+" high",
			strconv.FormatInt(d[1], 10)+" normal", strconv.FormatInt(d[2], 10)+" low") + "."
	}
	b := begin(s, title, desc)
	top, ticks := niceTicks(float64(top1), 1)
	b.yAxis(top, ticks, count)
	b.xAxis()
	prio := func(i int) func(p Point) (float64, bool) {
		return func(p Point) (float64, bool) { return float64(p.Depth[i]), true }
	}
	lines := []line{
		{key{label: "high", stroke: "#7a1f5c"}, "depth-high", prio(0)},
		{key{label: "normal", stroke: "#1f4e79", dash: "7 4"}, "depth-normal", prio(1)},
		{key{label: "low", stroke: "#4d4d4d", dash: "2 3"}, "depth-low", prio(2)},
	}
	b.legend([]key{lines[0].key, lines[1].key, lines[2].key})
	b.drawLines(top, lines)
	return b.end()
}
