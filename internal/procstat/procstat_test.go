package procstat

import (
	"errors"
	"os"
	"os/exec"
	"runtime"
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

// TestExited: a running child has not exited; once it exits it reads as
// exited, and its exit status is still there for Wait.
func TestExited(t *testing.T) {
	cmd := exec.Command("sh", "-c", "read line; exit 3")
	stdin, err := cmd.StdinPipe()
	if err != nil {
		t.Fatal(err)
	}
	if err := cmd.Start(); err != nil {
		t.Fatal(err)
	}
	if Exited(cmd.Process.Pid) {
		t.Error("a child waiting on its input reads as exited")
	}
	stdin.Close() // read ends: the child exits
	deadline := time.Now().Add(10 * time.Second)
	for !Exited(cmd.Process.Pid) {
		if time.Now().After(deadline) {
			t.Fatal("the child never read as exited")
		}
		time.Sleep(time.Millisecond)
	}
	var ee *exec.ExitError
	if err := cmd.Wait(); !errors.As(err, &ee) || ee.ExitCode() != 3 {
		t.Errorf("Wait after Exited: %v; want exit status 3", err)
	}
	if Exited(0) || Exited(-1) {
		t.Error("no process reads as exited")
	}
}

// TestMachine: the cpu line of /proc/stat is summed without its guest
// fields (already in user and nice), idle takes in iowait, and Since gives
// the shares of the time between two reads.
func TestMachine(t *testing.T) {
	a := parseMachine("cpu  100 0 50 800 40 5 5 0 30 0\ncpu0 50 0 25 400 20 2 3 0 15 0\n")
	b := parseMachine("cpu  250 10 90 1300 60 10 10 70 90 0\ncpu0 1 2 3 4 5 6 7 8 9 10\n")
	if want := (Times{Total: 10 * time.Second, Idle: 8400 * time.Millisecond}); a != want {
		t.Fatalf("first read %+v, want %+v", a, want)
	}
	// Between them: 1800 - 1000 = 800 ticks, 520 idle (500 + 20 iowait), 70 stolen.
	idle, stolen := b.Since(a)
	if idle != 65 || stolen != 8.75 {
		t.Errorf("idle %.2f %%, stolen %.2f %%; want 65 and 8.75", idle, stolen)
	}
	if got := parseMachine("intr 1 2 3\n"); got != (Times{}) {
		t.Errorf("a stat without a cpu line read as %+v", got)
	}
	if idle, stolen := a.Since(a); idle != 0 || stolen != 0 {
		t.Errorf("no time passed, yet %.2f %% idle and %.2f %% stolen", idle, stolen)
	}
	if m := Machine(); runtime.GOOS == "linux" && (m.Total <= 0 || m.Idle > m.Total) {
		t.Errorf("this machine reads as %+v", m)
	}
}
