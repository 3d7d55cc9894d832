package main

import (
	"bytes"
	"encoding/json"
	"fmt"
	"os"
	"os/exec"
	"path/filepath"
	"runtime"
	"strings"
	"syscall"
	"testing"
	"time"

	"github.com/hookgate/hookgate/internal/benchrun"
	"github.com/hookgate/hookgate/internal/procstat"
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
	// Each throughput run says what the machine's CPUs did meanwhile
	// (read from /proc/stat: Linux only).
	for _, run := range []string{"plain", "drain", "publish"} {
		if runtime.GOOS != "linux" {
			break
		}
		var one struct {
			CPUUse map[string]float64 `json:"cpuUse"`
		}
		if err := json.Unmarshal(keys[run], &one); err != nil {
			t.Fatal(err)
		}
		idle, iok := one.CPUUse["idlePercent"]
		stolen, sok := one.CPUUse["stolenPercent"]
		if !iok || !sok || idle < 0 || stolen < 0 || idle+stolen > 100 {
			t.Errorf("%s: the CPUs' use %v, want idlePercent and stolenPercent, together at most 100", run, one.CPUUse)
		}
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

// TestBenchLeavesNoGateway: `hookgate bench` killed outright takes its
// gateway down with it (a parent-death signal: without it the gateway
// lived on until a log line hit its closed pipe, if one ever came), and
// one whose terminal closes (SIGHUP) stops its gateway and removes its
// temp folder, as Ctrl-C does (it used to leave the folder).
func TestBenchLeavesNoGateway(t *testing.T) {
	for _, sig := range []syscall.Signal{syscall.SIGKILL, syscall.SIGHUP} {
		t.Run(sig.String(), func(t *testing.T) {
			tmp := t.TempDir()
			cmd := exec.Command(binary, "bench", "--events", "20000", "--rate", "0", "--connections", "8")
			cmd.Env = append(os.Environ(), "TMPDIR="+tmp)
			if err := cmd.Start(); err != nil {
				t.Fatal(err)
			}
			defer func() { cmd.Process.Kill(); cmd.Wait() }()
			gw := waitFor(t, "the bench's gateway", func() int {
				if kids := procstat.Children(cmd.Process.Pid); len(kids) > 0 {
					return kids[0]
				}
				return 0
			})
			if err := cmd.Process.Signal(sig); err != nil {
				t.Fatal(err)
			}
			cmd.Wait()
			waitFor(t, "the gateway to end", func() int {
				if _, err := os.Stat(fmt.Sprintf("/proc/%d", gw)); os.IsNotExist(err) {
					return 1
				}
				return 0
			})
			if sig == syscall.SIGHUP {
				if left, _ := filepath.Glob(filepath.Join(tmp, "hookgate-bench-*")); len(left) > 0 {
					t.Errorf("the bench left %v", left)
				}
			}
		})
	}
}

// waitFor polls f until it returns non-zero, at most a minute.
func waitFor(t *testing.T, what string, f func() int) int {
	t.Helper()
	deadline := time.Now().Add(time.Minute)
	for {
		if v := f(); v != 0 {
			return v
		}
		if time.Now().After(deadline) {
			t.Fatalf("waited a minute for %s", what)
		}
		time.Sleep(10 * time.Millisecond)
	}
}
