package charts

import (
	"bytes"
	"encoding/xml"
	"flag"
	"fmt"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"
)

var update = flag.Bool("update", false, "rewrite testdata/*.svg from the current output")

var from = time.Date(2026, 3, 2, 9, 0, 0, 0, time.UTC)

// series makes n steps of traffic that rises and falls, with quiet steps
// (every seventh) and failures now and then: the same every run.
func series(id string, step time.Duration, n int) Series {
	s := Series{ID: id, From: from, Step: step, Scope: `webhook https://erp.example/in?a=1&b=<2>`}
	for i := range n {
		p := Point{At: from.Add(time.Duration(i) * step)}
		if i%7 != 3 {
			p.Success = int64(20 + (i*37)%50)
			p.Retry = int64((i * 5) % 7)
			p.Failed = int64(i % 3 / 2)
			p.P50 = time.Duration(40+(i*13)%30) * time.Millisecond
			p.P95 = p.P50*2 + time.Duration((i*29)%200)*time.Millisecond
		}
		p.Depth = [3]int64{int64(i % 4), int64((i * 11) % 90), int64((i * 3) % 20)}
		s.Points = append(s.Points, p)
	}
	return s
}

// node is a parsed element: its name, attributes and children.
type node struct {
	name     string
	attr     map[string]string
	children []*node
	text     string
}

// parse reads the svg as XML: it must be well formed.
func parse(t *testing.T, b []byte) *node {
	t.Helper()
	dec := xml.NewDecoder(bytes.NewReader(b))
	root := &node{}
	stack := []*node{root}
	for {
		tok, err := dec.Token()
		if err != nil {
			if err.Error() == "EOF" {
				break
			}
			t.Fatalf("the chart is not well-formed XML: %v\n%s", err, b)
		}
		switch tk := tok.(type) {
		case xml.StartElement:
			n := &node{name: tk.Name.Local, attr: map[string]string{}}
			for _, a := range tk.Attr {
				n.attr[a.Name.Local] = a.Value
			}
			top := stack[len(stack)-1]
			top.children = append(top.children, n)
			stack = append(stack, n)
		case xml.EndElement:
			stack = stack[:len(stack)-1]
		case xml.CharData:
			stack[len(stack)-1].text += string(tk)
		}
	}
	if len(root.children) != 1 || root.children[0].name != "svg" {
		t.Fatalf("the chart's root is not one svg element")
	}
	return root.children[0]
}

// all returns the elements below n (n too) that match.
func (n *node) all(match func(*node) bool) []*node {
	var out []*node
	if match(n) {
		out = append(out, n)
	}
	for _, c := range n.children {
		out = append(out, c.all(match)...)
	}
	return out
}

func named(name, class string) func(*node) bool {
	return func(n *node) bool { return n.name == name && (class == "" || n.attr["class"] == class) }
}

// checkAccessible: an img named by its title and described by its desc,
// no script, no reference to anything outside the document, and the
// scope's markup escaped.
func checkAccessible(t *testing.T, b []byte, root *node) {
	t.Helper()
	if root.attr["role"] != "img" || root.attr["aria-label"] == "" {
		t.Errorf("svg role %q, aria-label %q: want an img with a label", root.attr["role"], root.attr["aria-label"])
	}
	if len(root.children) < 2 || root.children[0].name != "title" || root.children[1].name != "desc" {
		t.Fatal("the svg does not start with its title and desc")
	}
	for _, id := range strings.Fields(root.attr["aria-labelledby"]) {
		if len(root.all(func(n *node) bool { return n.attr["id"] == id })) != 1 {
			t.Errorf("aria-labelledby names %q, which is not one element", id)
		}
	}
	if !strings.Contains(root.children[0].text, "https://erp.example/in?a=1&b=<2>") {
		t.Errorf("title %q does not name the scope", root.children[0].text)
	}
	low := strings.ToLower(string(b))
	for _, bad := range []string{"<script", "<2>", "href=\"http", "@import", "<foreignobject", "on" + "load="} {
		if strings.Contains(low, bad) {
			t.Errorf("the chart contains %q", bad)
		}
	}
}

func golden(t *testing.T, name string, got []byte) {
	t.Helper()
	path := filepath.Join("testdata", name)
	if *update {
		if err := os.WriteFile(path, got, 0o644); err != nil {
			t.Fatal(err)
		}
	}
	want, err := os.ReadFile(path)
	if err != nil {
		t.Fatalf("%v (run go test ./dashboard/charts -update to write it)", err)
	}
	if !bytes.Equal(got, want) {
		t.Errorf("%s differs from the golden file (go test ./dashboard/charts -update, then look at it)", name)
	}
}

// TestDeliveriesChart: one bar per step with attempts, stacked in
// outcome order with one segment per outcome present, each with a
// tooltip; patterns per outcome and a legend naming them; axis labels on
// round times for each range.
func TestDeliveriesChart(t *testing.T) {
	for _, c := range []struct {
		name   string
		step   time.Duration
		n      int
		xLabel string
	}{{"1h", time.Minute, 60, "09:10"}, {"24h", 15 * time.Minute, 96, "12:00"}, {"7d", 2 * time.Hour, 84, "Tue 3 Mar"}} {
		t.Run(c.name, func(t *testing.T) {
			s := series("d"+c.name, c.step, c.n)
			b := Deliveries(s)
			root := parse(t, b)
			checkAccessible(t, b, root)
			var withTraffic, failedSteps int
			for _, p := range s.Points {
				if p.Attempts() > 0 {
					withTraffic++
				}
				if p.Failed > 0 {
					failedSteps++
				}
			}
			bars := root.all(named("g", "bar"))
			if len(bars) != withTraffic {
				t.Fatalf("%d bars, want %d (one per step with attempts)", len(bars), withTraffic)
			}
			if got := len(root.all(named("rect", "failed"))); got != failedSteps {
				t.Errorf("%d dead-letter segments, want %d", got, failedSteps)
			}
			first := bars[0]
			if first.children[0].name != "title" || !strings.Contains(first.children[0].text, "succeeded") {
				t.Errorf("a bar's first child is %q %q, want its title", first.children[0].name, first.children[0].text)
			}
			// Stacked: success at the bottom, each segment on top of the last.
			prevTop := -1.0
			for _, r := range first.children[1:] {
				y0, y1 := parseF(t, r.attr["y"])+parseF(t, r.attr["height"]), parseF(t, r.attr["y"])
				if prevTop >= 0 && y0 != prevTop {
					t.Errorf("segment %s starts at %v, want on the last one's top %v", r.attr["class"], y0, prevTop)
				}
				prevTop = y1
			}
			if len(root.all(named("pattern", ""))) != 3 {
				t.Error("want three fill patterns, one per outcome")
			}
			legend := texts(root.all(named("g", "legend"))[0])
			for _, w := range []string{"succeeded", "failed, retried", "failed, dead-lettered"} {
				if !strings.Contains(legend, w) {
					t.Errorf("the legend %q does not name %q", legend, w)
				}
			}
			xs := root.all(named("g", "x-axis"))[0].all(named("text", ""))
			if len(xs) < 3 || len(xs) > 9 || !strings.Contains(texts(root.all(named("g", "x-axis"))[0]), c.xLabel) {
				t.Errorf("%d time labels %q, want 3 to 9 including %q", len(xs), texts(root.all(named("g", "x-axis"))[0]), c.xLabel)
			}
			golden(t, "deliveries-"+c.name+".svg", b)
		})
	}
}

// TestLatencyChart: a solid p50 path and a dashed p95 path, broken at the
// quiet steps (one subpath per run of steps with attempts), p95 never
// drawn below p50.
func TestLatencyChart(t *testing.T) {
	s := series("lat", time.Minute, 60)
	b := Latency(s)
	root := parse(t, b)
	checkAccessible(t, b, root)
	p50, p95 := root.all(named("path", "p50")), root.all(named("path", "p95"))
	if len(p50) != 1 || len(p95) != 1 || p95[0].attr["stroke-dasharray"] == "" || p50[0].attr["stroke-dasharray"] != "" {
		t.Fatalf("want one solid p50 path and one dashed p95 path, got %d and %d", len(p50), len(p95))
	}
	runs := 0
	for i, p := range s.Points {
		if p.Attempts() > 0 && (i == 0 || s.Points[i-1].Attempts() == 0) {
			runs++
		}
	}
	if got := strings.Count(p50[0].attr["d"], "M"); got != runs {
		t.Errorf("p50 has %d subpaths, want %d (broken at each quiet step)", got, runs)
	}
	if !strings.Contains(root.children[1].text, "highest p95") {
		t.Errorf("desc %q does not give the highest p95", root.children[1].text)
	}
	golden(t, "latency-1h.svg", b)
}

// TestQueueDepthChart: one line per priority, told apart by dash.
func TestQueueDepthChart(t *testing.T) {
	s := series("q", 15*time.Minute, 96)
	b := QueueDepth(s)
	root := parse(t, b)
	checkAccessible(t, b, root)
	dashes := map[string]bool{}
	for _, c := range []string{"depth-high", "depth-normal", "depth-low"} {
		ps := root.all(named("path", c))
		if len(ps) != 1 || strings.Count(ps[0].attr["d"], ",") != 96 {
			t.Fatalf("%s: %d paths, want one through all 96 steps", c, len(ps))
		}
		dashes[ps[0].attr["stroke-dasharray"]] = true
	}
	if len(dashes) != 3 {
		t.Errorf("the three lines share dash styles %v: they must differ without colour", dashes)
	}
	golden(t, "depth-24h.svg", b)
}

// TestEmptyCharts: a range without traffic says so in words and in the
// description, and draws no marks.
func TestEmptyCharts(t *testing.T) {
	s := Series{ID: "e", From: from, Step: time.Minute, Points: make([]Point, 60), Scope: "all webhooks"}
	for i := range s.Points {
		s.Points[i].At = from.Add(time.Duration(i) * time.Minute)
	}
	for name, c := range map[string]struct {
		b    []byte
		desc string
	}{"deliveries": {Deliveries(s), "none."}, "latency": {Latency(s), "no attempts."}, "depth": {QueueDepth(s), "stayed empty."}} {
		root := parse(t, c.b)
		if name != "depth" && len(root.all(named("text", "empty"))) != 1 {
			t.Errorf("%s: no words saying the range is empty", name)
		}
		if !strings.HasSuffix(strings.Fields(root.children[1].text)[len(strings.Fields(root.children[1].text))-1], ".") ||
			!strings.Contains(root.children[1].text, c.desc) {
			t.Errorf("%s: desc %q, want it to say %q", name, root.children[1].text, c.desc)
		}
		if len(root.all(named("g", "bar")))+len(root.all(named("path", "p50"))) != 0 {
			t.Errorf("%s: marks drawn for an empty range", name)
		}
		// The axis still reads: whole counts, distinct durations.
		labels := strings.Split(texts(root.all(named("g", "y-axis"))[0]), "|")
		seen := map[string]bool{}
		for _, l := range labels {
			if seen[l] || (name != "latency" && strings.Contains(l, ".")) {
				t.Errorf("%s: y-axis labels %q repeat or count fractions", name, labels)
				break
			}
			seen[l] = true
		}
	}
}

func texts(n *node) string {
	var parts []string
	for _, c := range n.all(named("text", "")) {
		parts = append(parts, c.text)
	}
	return strings.Join(parts, "|")
}

func parseF(t *testing.T, s string) float64 {
	t.Helper()
	var v float64
	if _, err := fmt.Sscan(s, &v); err != nil {
		t.Fatalf("coordinate %q: %v", s, err)
	}
	return v
}
