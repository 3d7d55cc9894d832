package sdk_test

import (
	"bytes"
	"os"
	"path/filepath"
	"strconv"
	"testing"

	"github.com/hookgate/hookgate/plugins/sdk"
)

// TestStartProfiling: each variable set starts its own file, named with
// the process id, and stopping writes a CPU profile and a
// runtime trace (their headers); one that cannot start (its folder is
// missing) is skipped without stopping the other.
func TestStartProfiling(t *testing.T) {
	dir := t.TempDir()
	t.Setenv("TEST_CPUPROFILE", filepath.Join(dir, "cpu"))
	t.Setenv("TEST_TRACE", filepath.Join(dir, "trace"))
	stop := sdk.StartProfiling("TEST_CPUPROFILE", "TEST_TRACE")
	stop()
	pid := "." + strconv.Itoa(os.Getpid())
	// pprof writes its profile gzipped.
	if cpu, err := os.ReadFile(filepath.Join(dir, "cpu"+pid)); err != nil || !bytes.HasPrefix(cpu, []byte{0x1f, 0x8b}) {
		t.Errorf("the CPU profile starts %x, %v; want gzip", cpu[:min(len(cpu), 4)], err)
	}
	tr, err := os.ReadFile(filepath.Join(dir, "trace"+pid))
	if err != nil || !bytes.HasPrefix(tr, []byte("go 1.")) {
		t.Errorf("the trace starts %q, %v; want a runtime trace's header", tr[:min(len(tr), 16)], err)
	}

	t.Setenv("TEST_CPUPROFILE", filepath.Join(dir, "missing", "cpu"))
	t.Setenv("TEST_TRACE", filepath.Join(dir, "trace2"))
	sdk.StartProfiling("TEST_CPUPROFILE", "TEST_TRACE")()
	if _, err := os.Stat(filepath.Join(dir, "trace2"+pid)); err != nil {
		t.Errorf("the trace did not start beside a profile that could not: %v", err)
	}
	t.Setenv("TEST_CPUPROFILE", "")
	t.Setenv("TEST_TRACE", "")
	sdk.StartProfiling("TEST_CPUPROFILE", "TEST_TRACE")() // nothing set: nothing to do
}
