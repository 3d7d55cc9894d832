package main

import (
	"bytes"
	"encoding/json"
	"os/exec"
	"strings"
	"testing"

	"github.com/hookgate/hookgate/internal/benchrun"
)

// TestBenchCommand runs `hookgate bench` small (the real binary, its sink
// subprocess, a loopback receiver) and checks the report's structure and
// that every delivery of every run arrived — not how fast.
func TestBenchCommand(t *testing.T) {
	cmd := exec.Command(binary, "bench", "--events", "1200", "--connections", "4", "--fanout", "2",
		"--payload-size", "900", "--rate", "200", "--paced", "500ms", "--json")
	var stdout, stderr bytes.Buffer
	cmd.Stdout, cmd.Stderr = &stdout, &stderr
	if err := cmd.Run(); err != nil {
		t.Fatalf("hookgate bench: %v\n%s", err, stderr.String())
	}
	var keys map[string]json.RawMessage
	if err := json.Unmarshal(stdout.Bytes(), &keys); err != nil {
		t.Fatalf("not JSON: %v\n%s", err, stdout.String())
	}
	for _, k := range []string{"machine", "options", "plain", "drain", "publish", "latency"} {
		if _, ok := keys[k]; !ok {
			t.Errorf("the report has no %q: %s", k, stdout.String())
		}
	}
	var r benchrun.Report
	if err := json.Unmarshal(stdout.Bytes(), &r); err != nil {
		t.Fatal(err)
	}
	if r.Options.Events != 1200 || r.Options.Connections != 4 || r.Options.FanOut != 2 || r.Options.PayloadSize != 900 {
		t.Errorf("options not taken: %+v", r.Options)
	}
	if r.Plain.RequestsPerSec <= 0 {
		t.Errorf("plain client: %+v", r.Plain)
	}
	// The drain is timed from the poll that sees its first delivery to its
	// last, and counts what arrived on that clock: at least half (the bench
	// refuses to report fewer), at most all but the first.
	if r.Drain.Deliveries < 600 || r.Drain.Deliveries > 1199 || r.Drain.DeliveriesPerSec <= 0 || r.Drain.PercentOfPlain <= 0 {
		t.Errorf("drain: %+v", r.Drain)
	}
	// 600 events × 2 webhooks.
	if r.Publish.Deliveries != 1200 || r.Publish.DeliveriesPerSec <= 0 || r.Publish.EventsPerSec <= 0 {
		t.Errorf("publish: %+v", r.Publish)
	}
	if l := r.Latency; l == nil || l.Events != 100 || l.PublishedP99ms <= 0 || l.PublishedP50ms > l.PublishedP99ms || l.AcceptedP50ms > l.AcceptedP99ms {
		t.Errorf("latency: %+v", r.Latency)
	}
	if r.Machine.CPUs <= 0 {
		t.Errorf("machine: %+v", r.Machine)
	}
}

// TestBenchCommandRefusesBadFlags: a usage error, not a run.
func TestBenchCommandRefusesBadFlags(t *testing.T) {
	var out, errb bytes.Buffer
	if code := run([]string{"bench", "--events", "many"}, &out, &errb); code != 2 || !strings.Contains(errb.String(), "usage: hookgate bench") {
		t.Errorf("exit %d, stderr %q", code, errb.String())
	}
	errb.Reset()
	if code := run([]string{"bench", "--rounds", "5"}, &out, &errb); code != 2 || !strings.Contains(errb.String(), "--rounds is the number of rounds of --compare") {
		t.Errorf("--rounds without --compare: exit %d, stderr %q", code, errb.String())
	}
	// Values out of range, and another build that is not one, are refused
	// before anything runs: each by its flag, all at once. 0 is not "the
	// default" (it used to run the default 40,000 events).
	errb.Reset()
	code := run([]string{"bench", "--events", "0", "--payload-size", "10", "--rate", "-1", "--compare", "/nonexistent/hookgate"}, &out, &errb)
	for _, want := range []string{"hookgate bench: --events 0:", "hookgate bench: --payload-size 10:", "hookgate bench: --rate -1:",
		"hookgate bench: /nonexistent/hookgate: not a hookgate executable"} {
		if code != 2 || !strings.Contains(errb.String(), want) {
			t.Errorf("exit %d, stderr %q; want 2 and %q", code, errb.String(), want)
		}
	}
}

// TestBenchCompare runs `hookgate bench --compare` small, this binary
// against itself in two rounds, and checks that every run of both builds
// delivered everything and that the summary has each figure — not how the
// two compare. The drain's clock starts at the poll that sees its first
// delivery (every 2 ms): with 120 events the gateway could send all of them
// within that poll, which the bench now refuses to report (it once read a
// CPU of 0 per delivery, in CI).
func TestBenchCompare(t *testing.T) {
	cmd := exec.Command(binary, "bench", "--events", "1200", "--connections", "4", "--rate", "0",
		"--compare", binary, "--rounds", "2", "--json")
	var stdout, stderr bytes.Buffer
	cmd.Stdout, cmd.Stderr = &stdout, &stderr
	if err := cmd.Run(); err != nil {
		t.Fatalf("hookgate bench --compare: %v\n%s", err, stderr.String())
	}
	var c benchrun.Comparison
	if err := json.Unmarshal(stdout.Bytes(), &c); err != nil {
		t.Fatalf("not JSON: %v\n%s", err, stdout.String())
	}
	if len(c.Rounds) != 2 || c.Other != binary {
		t.Fatalf("rounds %d, other %q", len(c.Rounds), c.Other)
	}
	for i, rd := range c.Rounds {
		for _, r := range []*benchrun.Report{rd.Base, rd.Other} {
			if r == nil || r.Drain.Deliveries < 600 || r.Drain.Deliveries > 1199 || r.Publish.Deliveries != 1200 || r.Latency != nil {
				t.Errorf("round %d: %+v", i+1, r)
			}
		}
	}
	names := map[string]bool{}
	for _, f := range c.Figures {
		names[f.Name] = f.Base.Median > 0 && f.Other.Median > 0
	}
	for _, n := range []string{"plain Go client", "drain", "drain, gateway CPU", "publish and deliver"} {
		if !names[n] {
			t.Errorf("figure %q missing or zero: %+v", n, c.Figures)
		}
	}
}
