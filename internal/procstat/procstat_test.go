package procstat

import (
	"os"
	"os/exec"
	"slices"
	"testing"
	"time"
)

// TestReadsThisProcess: the test process has used some CPU and holds some
// memory; a process that does not exist reads as 0.
func TestReadsThisProcess(t *testing.T) {
	deadline := time.Now().Add(50 * time.Millisecond) // use enough CPU for a tick
	for time.Now().Before(deadline) {
	}
	if CPU(os.Getpid()) <= 0 {
		t.Error("CPU of this process is 0")
	}
	if rss := Memory(os.Getpid(), "VmRSS"); rss < 1<<20 {
		t.Errorf("VmRSS of this process: %d bytes", rss)
	}
	if CPU(0) != 0 || Memory(-1, "VmRSS") != 0 || Memory(os.Getpid(), "NoSuchField") != 0 {
		t.Error("a missing process or field should read as 0")
	}
}

// TestChildren finds a process this test started among its children.
func TestChildren(t *testing.T) {
	cmd := exec.Command("sleep", "10")
	if err := cmd.Start(); err != nil {
		t.Skip("no sleep command:", err)
	}
	defer func() { cmd.Process.Kill(); cmd.Wait() }()
	if got := Children(os.Getpid()); !slices.Contains(got, cmd.Process.Pid) {
		t.Errorf("Children(%d) = %v, want it to hold %d", os.Getpid(), got, cmd.Process.Pid)
	}
	if got := Children(0); len(got) != 0 {
		t.Errorf("Children(0) = %v", got)
	}
}
