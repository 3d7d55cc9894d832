package benchrun

import (
	"bytes"
	"encoding/json"
	"strings"
	"testing"
)

// TestPrint: the text report names every figure it has.
func TestPrint(t *testing.T) {
	r := &Report{Plain: Plain{RequestsPerSec: 40000, CPUMicros: 35, CPUUse: &CPUUse{IdlePercent: 4.2, StolenPercent: 0}},
		Drain: Delivery{DeliveriesPerSec: 10000, PercentOfPlain: 25, GatewayCPUMicros: 85, SinkCPUMicros: 50, BenchCPUMicros: 30,
			CPUUse: &CPUUse{IdlePercent: 13.4, StolenPercent: 2.6}},
		Publish: Delivery{DeliveriesPerSec: 8000, EventsPerSec: 8000, PercentOfPlain: 20},
		Latency: &Latency{Rate: 1000, Events: 5000, AcceptedP50ms: 0.3, AcceptedP99ms: 2.25, PublishedP50ms: 1, PublishedP99ms: 4.5}}
	var b bytes.Buffer
	r.Print(&b)
	for _, want := range []string{"plain Go client", "40000 requests/s", "25.0 % of plain", "gateway 85.0, sink 50.0, receiver 30.0",
		"8000 events/s", "accepted → received   p50   0.30 ms   p99   2.25 ms", "p99   4.50 ms",
		"the CPUs 4 % idle, 0 % stolen", "the CPUs 13 % idle, 3 % stolen"} {
		if !strings.Contains(b.String(), want) {
			t.Errorf("no %q in\n%s", want, b.String())
		}
	}
	// The publish run has no reading of the CPUs (no /proc/stat): no line.
	if n := strings.Count(b.String(), "the CPUs"); n != 2 {
		t.Errorf("%d lines on the CPUs' use, want 2 (plain and drain)", n)
	}
}

// TestEnvelopeSize: a padded envelope is the size asked for and still
// valid JSON; an unpadded one is its natural size.
func TestEnvelopeSize(t *testing.T) {
	if got := len(Envelope(7, 2000)); got != 2000 {
		t.Errorf("Envelope(7, 2000) is %d bytes", got)
	}
	if !json.Valid(Envelope(7, 2000)) {
		t.Error("a padded envelope is not JSON")
	}
	small := Envelope(7, 0)
	if len(small) > 450 || !bytes.HasSuffix(small, []byte("}}")) {
		t.Errorf("Envelope(7, 0) = %s", small)
	}
}
