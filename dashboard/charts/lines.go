package charts

import (
	"fmt"
	"strings"
)

// line is one series of a line chart: a value per point, or none (a gap).
type line struct {
	key
	class string
	at    func(p Point) (float64, bool)
}

// drawLines draws each line as one path, broken where a point has no
// value; a point alone between gaps gets a dot so that it shows.
func (b *svg) drawLines(top float64, lines []line) {
	b.WriteString(`<g class="lines" fill="none">` + "\n")
	for _, l := range lines {
		var d strings.Builder
		run := 0
		var lone []int
		for i, p := range b.s.Points {
			v, ok := l.at(p)
			if !ok {
				if run == 1 {
					lone = append(lone, i-1)
				}
				run = 0
				continue
			}
			cmd := "L"
			if run == 0 {
				cmd = "M"
			}
			fmt.Fprintf(&d, "%s%s,%s ", cmd, f(b.x(i)+b.slot()/2), f(y(v, top)))
			run++
		}
		if run == 1 {
			lone = append(lone, len(b.s.Points)-1)
		}
		if d.Len() == 0 {
			continue
		}
		fmt.Fprintf(b, `<path class="%s" d="%s" stroke="%s" stroke-width="2"%s stroke-linejoin="round"/>`+"\n",
			l.class, strings.TrimSpace(d.String()), l.stroke, dashAttr(l.dash))
		for _, i := range lone {
			v, _ := l.at(b.s.Points[i])
			fmt.Fprintf(b, `<circle class="%s" cx="%s" cy="%s" r="2.5" fill="%s"/>`+"\n", l.class, f(b.x(i)+b.slot()/2), f(y(v, top)), l.stroke)
		}
	}
	b.WriteString("</g>\n")
}
