package host_test

import (
	"context"
	"crypto/sha256"
	"encoding/hex"
	"errors"
	"io"
	"net/http"
	"net/http/httptest"
	"os"
	"os/exec"
	"strings"
	"syscall"
	"testing"
	"time"

	"github.com/hookgate/hookgate/plugins/host"
	"github.com/hookgate/hookgate/plugins/sdk"
	"github.com/hookgate/hookgate/plugins/sdk/sdktest"
)

func TestKilledSinkFailsInFlightAndRestarts(t *testing.T) {
	arrived := make(chan struct{}, 1)
	release := make(chan struct{})
	rcv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		if r.URL.Path == "/stall" {
			arrived <- struct{}{}
			select {
			case <-release:
			case <-r.Context().Done():
			}
		}
	}))
	defer rcv.Close()
	defer close(release)
	h := startHost(t, openPolicy, httpSpec("web"))
	pid := pidOf(t, h, "web")

	done := make(chan *sdk.Result, 1)
	go func() { done <- deliver(t, h, "web", &sdk.Request{URL: rcv.URL + "/stall"}) }()
	<-arrived
	if err := syscall.Kill(pid, syscall.SIGKILL); err != nil {
		t.Fatal(err)
	}
	res := <-done
	if !res.Retryable || !strings.Contains(res.Error, "sink web exited") {
		t.Fatalf("in-flight result %+v, want a retryable 'sink web exited'", res)
	}
	t.Log(res.Error)

	res = deliver(t, h, "web", &sdk.Request{URL: rcv.URL + "/ok"})
	if !res.OK() {
		t.Fatalf("delivery after restart: %+v", res)
	}
	if st := h.Status()[0]; st.PID == pid || st.Restarts != 1 || !st.Up {
		t.Errorf("status after restart %+v (old pid %d)", st, pid)
	}
}

func TestHungSinkIsKilledAndRestarted(t *testing.T) {
	h := startHost(t, host.Options{HungGrace: 300 * time.Millisecond}, host.Spec{Name: "h", Type: "hang"})
	pid := pidOf(t, h, "h")
	res := deliver(t, h, "h", &sdk.Request{Body: []byte("hang"), Timeout: 100 * time.Millisecond})
	if !res.Retryable || !strings.Contains(res.Error, "sink h exited") || !strings.Contains(res.Error, "hung") {
		t.Fatalf("result %+v, want a retryable hung failure", res)
	}
	if res = deliver(t, h, "h", &sdk.Request{}); res.Status != 204 {
		t.Fatalf("after restart: %+v", res)
	}
	if newPID := pidOf(t, h, "h"); newPID == pid {
		t.Error("hung process was not replaced")
	}
	if syscall.Kill(pid, 0) == nil {
		t.Error("hung process still runs")
	}
}

func TestPanicInDeliverIsRetryableAndProcessSurvives(t *testing.T) {
	h := startHost(t, host.Options{}, host.Spec{Name: "p", Type: "panicky"})
	pid := pidOf(t, h, "p")
	res := deliver(t, h, "p", &sdk.Request{ID: "x:1", Body: []byte("panic")})
	if !res.Retryable || !strings.Contains(res.Error, "panicked") || !strings.Contains(res.Error, "boom: x:1") {
		t.Fatalf("result %+v, want a retryable panic", res)
	}
	res = deliver(t, h, "p", &sdk.Request{Body: []byte("fine")})
	if !res.OK() || pidOf(t, h, "p") != pid {
		t.Fatalf("after panic: %+v, pid %d -> %d", res, pid, pidOf(t, h, "p"))
	}
}

func startErr(t *testing.T, specs ...host.Spec) error {
	t.Helper()
	h := host.New(host.Options{BuiltinCommand: sdktest.Command, Logger: discardLogger()})
	defer h.Close()
	ctx, cancel := context.WithTimeout(context.Background(), 20*time.Second)
	defer cancel()
	err := h.Start(ctx, specs)
	if err == nil {
		t.Fatal("Start succeeded, want an error")
	}
	t.Log(err)
	return err
}

func TestBadConfigNamesSinkAndSetting(t *testing.T) {
	err := startErr(t, host.Spec{Name: "web", Type: "http", Settings: map[string]string{"verify_tls": "false"}})
	if !strings.Contains(err.Error(), `sink "web"`) || !strings.Contains(err.Error(), `"verify_tls"`) {
		t.Errorf("error %q should name the sink and the setting", err)
	}
	err = startErr(t,
		host.Spec{Name: "ok", Type: "http"},
		host.Spec{Name: "snow", Type: "strict", Settings: map[string]string{"instance_url": "http://x"}})
	if err.Error() != `sink "snow": instance_url: must be an https URL` {
		t.Errorf("error %q", err)
	}
}

func TestSHA256Pinning(t *testing.T) {
	exe, err := os.Open(os.Args[0])
	if err != nil {
		t.Fatal(err)
	}
	sum := sha256.New()
	_, _ = io.Copy(sum, exe)
	_ = exe.Close()
	good := hex.EncodeToString(sum.Sum(nil))

	err = startErr(t, host.Spec{Name: "web", Type: "http", SHA256: strings.Repeat("0", 64)})
	if !strings.Contains(err.Error(), `sink "web": sha256 mismatch`) {
		t.Errorf("error %q, want a sha256 mismatch", err)
	}
	err = startErr(t, host.Spec{Name: "web", Type: "http", SHA256: "xyz"})
	if !strings.Contains(err.Error(), "sha256") {
		t.Errorf("error %q", err)
	}
	h := startHost(t, openPolicy, host.Spec{Name: "web", Type: "http", SHA256: good})
	if !h.Status()[0].Up {
		t.Error("sink with the right sha256 is not up")
	}
}

func TestWrongHandshakeIsOneClearError(t *testing.T) {
	err := startErr(t, host.Spec{Name: "old", Type: "wrong-version"})
	if !strings.Contains(err.Error(), `sink "old"`) || !strings.Contains(strings.ToLower(err.Error()), "incompatible api version") {
		t.Errorf("error %q", err)
	}
	err = startErr(t, host.Spec{Name: "alien", Type: "wrong-cookie"})
	if !strings.Contains(err.Error(), `sink "alien"`) || !strings.Contains(err.Error(), "hookgate sink") {
		t.Errorf("error %q", err)
	}
	err = startErr(t, host.Spec{Name: "nobin", Command: "/nonexistent/sink"})
	if !strings.Contains(err.Error(), `sink "nobin"`) {
		t.Errorf("error %q", err)
	}
}

func TestSinkLogsReachHostLogger(t *testing.T) {
	h := startHost(t, host.Options{}, host.Spec{Name: "loud", Type: "chatty"})
	deliver(t, h, "loud", &sdk.Request{ID: "abc:1"})
	deadline := time.Now().Add(5 * time.Second)
	for time.Now().Before(deadline) {
		for _, line := range strings.Split(h.logs.String(), "\n") {
			if strings.Contains(line, "hello from the sink") {
				if !strings.Contains(line, "level=WARN") || !strings.Contains(line, "sink=loud") || !strings.Contains(line, "delivery=abc:1") {
					t.Fatalf("log line %q lacks level, sink or attribute", line)
				}
				return
			}
		}
		time.Sleep(20 * time.Millisecond)
	}
	t.Fatalf("sink log line not found in:\n%s", h.logs.String())
}

func TestCanceledContextCancelsTheAttempt(t *testing.T) {
	gone := make(chan struct{})
	rcv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		<-r.Context().Done() // the sink hung up
		close(gone)
	}))
	defer rcv.Close()
	h := startHost(t, openPolicy, httpSpec("web"))
	ctx, cancel := context.WithTimeout(context.Background(), 200*time.Millisecond)
	defer cancel()
	_, err := h.Deliver(ctx, "web", &sdk.Request{Method: "POST", URL: rcv.URL, Timeout: time.Minute})
	if !errors.Is(err, context.DeadlineExceeded) {
		t.Fatalf("err = %v, want the context's", err)
	}
	select {
	case <-gone:
	case <-time.After(5 * time.Second):
		t.Fatal("the sink did not abandon the request after the host gave up")
	}
}

func TestCloseStopsProcesses(t *testing.T) {
	h := host.New(host.Options{BuiltinCommand: sdktest.Command, Logger: discardLogger()})
	if err := h.Start(context.Background(), []host.Spec{{Name: "a", Type: "http"}, {Name: "b", Type: "panicky"}}); err != nil {
		t.Fatal(err)
	}
	var pids []int
	for _, st := range h.Status() {
		pids = append(pids, st.PID)
	}
	if err := h.Close(); err != nil {
		t.Fatal(err)
	}
	for _, pid := range pids {
		if syscall.Kill(pid, 0) == nil {
			t.Errorf("process %d still runs after Close", pid)
		}
	}
	if _, err := h.Deliver(context.Background(), "a", &sdk.Request{Timeout: time.Second}); !errors.Is(err, host.ErrClosed) {
		t.Errorf("Deliver after Close: %v", err)
	}
}

func TestDeliverCallerErrors(t *testing.T) {
	h := startHost(t, host.Options{}, host.Spec{Name: "p", Type: "panicky"})
	if _, err := h.Deliver(context.Background(), "nope", &sdk.Request{Timeout: time.Second}); err == nil {
		t.Error("unknown sink accepted")
	}
	if _, err := h.Deliver(context.Background(), "p", &sdk.Request{}); err == nil {
		t.Error("request without Timeout accepted")
	}
}

// TestSpecCPUs: a sink's process runs with the GOMAXPROCS its spec names,
// over the one the gateway's environment holds, and with the rest of that
// environment; without one it inherits the environment's, as before.
func TestSpecCPUs(t *testing.T) {
	t.Setenv("GOMAXPROCS", "2")
	t.Setenv("HOOKGATE_TEST_MARK", "kept")
	// As the gateway runs its built-in sinks: a command with no
	// environment of its own, so everything the sink sees comes from the
	// gateway's (here the sink to serve, too).
	t.Setenv(sdktest.EnvSink, "procs")
	// What sdktest.Command gives its sinks: no 1 s sleep at exit under -race.
	t.Setenv("GORACE", strings.TrimSpace(os.Getenv("GORACE")+" atexit_sleep_ms=0"))
	opts := openPolicy
	opts.BuiltinCommand = func(string) *exec.Cmd { return exec.Command(os.Args[0], "-test.run=^$") }
	h := startHost(t, opts,
		host.Spec{Name: "one", Type: "procs", CPUs: 1},
		host.Spec{Name: "three", Type: "procs", CPUs: 3},
		host.Spec{Name: "inherit", Type: "procs"})
	for sink, want := range map[string]string{"one": "1,kept", "three": "3,kept", "inherit": "2,kept"} {
		res, err := h.Deliver(context.Background(), sink, &sdk.Request{ID: "d-" + sink, Timeout: 5 * time.Second})
		if err != nil {
			t.Fatalf("%s: %v", sink, err)
		}
		if res.ExternalRef != want {
			t.Errorf("sink %s runs with GOMAXPROCS,HOOKGATE_TEST_MARK %q, want %q", sink, res.ExternalRef, want)
		}
	}
}
