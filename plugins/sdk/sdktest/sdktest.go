// Package sdktest runs sinks as real plugin subprocesses in tests, without
// building a binary: the test binary re-executes itself in "sink mode".
//
// In the test package's TestMain, serve the sinks the tests need:
//
//	func TestMain(m *testing.M) {
//		sdktest.ServeIfChild(map[string]sdk.Sink{"http": httpsink.New()})
//		os.Exit(m.Run())
//	}
//
// and start them through the host with Command as the built-in command:
//
//	h := host.New(host.Options{BuiltinCommand: sdktest.Command})
//
// Conformance runs the checks every sink must pass (delivery and external
// reference, retryable and final failures, the deadline, bad settings, no
// leaked credential) against a fake of the sink's service, in one call:
//
//	func TestConformance(t *testing.T) {
//		sdktest.Conformance(t, sdktest.Suite{Sink: "mysink", Fake: startFake})
//	}
//
// Configure, Deliver and With serve a sink's in-process tests; package
// fakeserver is the plumbing of a fake service (recorded requests,
// scripted faults, stalls, tokens on a movable clock).
package sdktest

import (
	"fmt"
	"os"
	"os/exec"
	"strconv"
	"strings"

	"github.com/hookgate/hookgate/plugins/sdk"
)

// EnvSink names the sink a re-executed test binary serves.
const EnvSink = "HOOKGATE_TEST_SINK"

// EnvProtocol, when set, is the one contract version the re-executed sink
// speaks (sdk.ServeProtocol), as a sink built with an older SDK would.
const EnvProtocol = "HOOKGATE_TEST_SINK_PROTOCOL"

// ServeIfChild serves the sink named by $HOOKGATE_TEST_SINK and exits when
// this process was started by Command; otherwise it returns at once. Call
// it first thing in TestMain.
func ServeIfChild(sinks map[string]sdk.Sink) {
	name := os.Getenv(EnvSink)
	if name == "" {
		return
	}
	s, ok := sinks[name]
	if !ok {
		fmt.Fprintf(os.Stderr, "sdktest: no sink %q registered in ServeIfChild\n", name)
		os.Exit(2)
	}
	if v, err := strconv.Atoi(os.Getenv(EnvProtocol)); err == nil {
		sdk.ServeProtocol(s, v)
	} else {
		sdk.Serve(s)
	}
	os.Exit(0)
}

// Command returns a command that re-runs the current test binary as the
// sink registered under name. Its signature matches
// host.Options.BuiltinCommand.
func Command(name string) *exec.Cmd { return commandFor(name, 0) }

// CommandProtocol is Command for a sink that speaks only protocol version
// (0: every version this SDK speaks): CommandProtocol(sdk.ProtocolV2) runs
// the sink as one built with an older SDK, to check that the host still
// works with it.
func CommandProtocol(version int) func(name string) *exec.Cmd {
	return func(name string) *exec.Cmd { return commandFor(name, version) }
}

func commandFor(name string, version int) *exec.Cmd {
	// -test.run=^$ makes a child that never reaches ServeIfChild run no
	// tests, so a missing TestMain fails fast instead of recursing.
	cmd := exec.Command(os.Args[0], "-test.run=^$")
	// Under -race a process sleeps 1s at exit (atexit_sleep_ms) by
	// default; every sink restart and Close would pay it.
	gorace := strings.TrimSpace(os.Getenv("GORACE") + " atexit_sleep_ms=0")
	cmd.Env = append(os.Environ(), EnvSink+"="+name, "GORACE="+gorace)
	if version != 0 {
		cmd.Env = append(cmd.Env, EnvProtocol+"="+strconv.Itoa(version))
	}
	return cmd
}
