package benchrun

import (
	"context"
	"os/exec"
	"strings"
	"testing"
	"time"
)

// TestMeasureCountsOnlyWhatArrivesOnItsClock: deliveries the receiver had
// counted before the clock started are not in the figures. The drain's
// clock starts at the poll that sees its first delivery; a fast gateway may
// have sent many by then, and counting them over the shorter window made
// the drain look faster and cheaper than it is (for a tiny --events, a CPU
// of 0 per delivery).
func TestMeasureCountsOnlyWhatArrivesOnItsClock(t *testing.T) {
	proc := exec.Command("sleep", "30") // a process for the CPU figures
	if err := proc.Start(); err != nil {
		t.Fatal(err)
	}
	defer func() { _ = proc.Process.Kill(); _ = proc.Wait() }()
	g := &gateway{cmd: proc, logs: &tailBuffer{max: 1 << 10}}
	rc := NewReceiver(false)
	rc.n.Store(40) // arrived before the clock started
	d, err := measure(context.Background(), g, rc, 100, time.Second, func() error {
		time.Sleep(10 * time.Millisecond)
		rc.n.Store(100)
		return nil
	})
	if err != nil || d.Deliveries != 60 {
		t.Fatalf("measured %d deliveries, %v; want the 60 that arrived on the clock", d.Deliveries, err)
	}
	if d.DeliveriesPerSec > 60/0.010 {
		t.Errorf("%.0f deliveries/s: more than 60 in the 10 ms the work took", d.DeliveriesPerSec)
	}
	// All of them before the clock: nothing to measure, said so.
	rc.n.Store(100)
	if _, err := measure(context.Background(), g, rc, 100, time.Second, func() error { return nil }); err == nil || !strings.Contains(err.Error(), "before the clock") {
		t.Errorf("every delivery before the clock: %v; want an error", err)
	}
}
