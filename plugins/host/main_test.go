package host_test

import (
	"bytes"
	"context"
	"fmt"
	"log/slog"
	"os"
	"runtime"
	"strconv"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/hashicorp/go-plugin"

	"github.com/hookgate/hookgate/plugins/host"
	httpsink "github.com/hookgate/hookgate/plugins/http"
	"github.com/hookgate/hookgate/plugins/sdk"
	"github.com/hookgate/hookgate/plugins/sdk/sdktest"
)

// TestMain doubles as every sink process the tests start: sdktest.Command
// re-runs this binary with $HOOKGATE_TEST_SINK naming the sink to serve.
func TestMain(m *testing.M) {
	switch os.Getenv(sdktest.EnvSink) {
	case "wrong-cookie":
		serveWith(plugin.HandshakeConfig{ProtocolVersion: 1, MagicCookieKey: sdk.Handshake.MagicCookieKey, MagicCookieValue: "not-hookgate"})
	case "wrong-version":
		serveWith(plugin.HandshakeConfig{ProtocolVersion: 99, MagicCookieKey: sdk.Handshake.MagicCookieKey, MagicCookieValue: sdk.Handshake.MagicCookieValue})
	}
	sdktest.ServeIfChild(map[string]sdk.Sink{
		"http":    httpsink.New(),
		"panicky": panicSink{},
		"hang":    hangSink{},
		"chatty":  chattySink{},
		"strict":  strictSink{},
		"instant": instantSink{},
		"large":   largeSink{},
		"procs":   procsSink{},
	})
	os.Exit(m.Run())
}

// serveWith serves a sink with a handshake the host must reject.
func serveWith(hs plugin.HandshakeConfig) {
	plugin.Serve(&plugin.ServeConfig{
		HandshakeConfig: hs,
		Plugins:         sdk.PluginSet(panicSink{}),
		GRPCServer:      plugin.DefaultGRPCServer,
	})
	os.Exit(0)
}

// panicSink panics when the body says so and succeeds otherwise.
type panicSink struct{}

func (panicSink) Configure(context.Context, sdk.Config) error { return nil }
func (panicSink) Deliver(_ context.Context, req *sdk.Request) (*sdk.Result, error) {
	if string(req.Body) == "panic" {
		panic("boom: " + req.ID)
	}
	return &sdk.Result{Status: 200, ExternalRef: fmt.Sprint(os.Getpid())}, nil
}

// hangSink ignores its context when asked to, as a broken sink would.
type hangSink struct{}

func (hangSink) Configure(context.Context, sdk.Config) error { return nil }
func (hangSink) Deliver(_ context.Context, req *sdk.Request) (*sdk.Result, error) {
	if string(req.Body) == "hang" {
		select {} // never returns
	}
	return &sdk.Result{Status: 204}, nil
}

// chattySink logs through slog, which must reach the host's logger.
type chattySink struct{}

func (chattySink) Configure(context.Context, sdk.Config) error { return nil }
func (chattySink) Deliver(ctx context.Context, req *sdk.Request) (*sdk.Result, error) {
	slog.WarnContext(ctx, "hello from the sink", "delivery", req.ID)
	return &sdk.Result{Status: 200}, nil
}

// procsSink answers with its process's GOMAXPROCS and $HOOKGATE_TEST_MARK
// in ExternalRef: "<procs>,<mark>".
type procsSink struct{}

func (procsSink) Configure(context.Context, sdk.Config) error { return nil }
func (procsSink) Deliver(context.Context, *sdk.Request) (*sdk.Result, error) {
	return &sdk.Result{Status: 200, ExternalRef: strconv.Itoa(runtime.GOMAXPROCS(0)) + "," + os.Getenv("HOOKGATE_TEST_MARK")}, nil
}

// instantSink answers every request at once as a receiver's 200 would
// come back, without sending anything: the stream's cost alone.
type instantSink struct{}

func (instantSink) Configure(context.Context, sdk.Config) error { return nil }
func (instantSink) Deliver(context.Context, *sdk.Request) (*sdk.Result, error) {
	return &sdk.Result{Status: 200, Headers: map[string]string{"Content-Type": "application/json", "Content-Length": "11"},
		Body: []byte(`{"ok":true}`), BodySize: 11}, nil
}

// largeSink answers with a body of the size the request's body names.
type largeSink struct{}

func (largeSink) Configure(context.Context, sdk.Config) error { return nil }
func (largeSink) Deliver(_ context.Context, req *sdk.Request) (*sdk.Result, error) {
	n, err := strconv.Atoi(string(req.Body))
	if err != nil {
		return nil, err
	}
	return &sdk.Result{Status: 200, Body: bytes.Repeat([]byte("x"), n), BodySize: int64(n)}, nil
}

// strictSink requires an https instance_url setting.
type strictSink struct{}

func (strictSink) Configure(_ context.Context, cfg sdk.Config) error {
	if !strings.HasPrefix(cfg.Settings["instance_url"], "https://") {
		return fmt.Errorf("instance_url: must be an https URL")
	}
	return nil
}
func (strictSink) Deliver(context.Context, *sdk.Request) (*sdk.Result, error) {
	return &sdk.Result{Status: 201}, nil
}

// logBuffer collects log output safely from many goroutines; writing to
// t.Log would panic once a test has returned and a sink logs late.
type logBuffer struct {
	mu  sync.Mutex
	buf bytes.Buffer
}

func (b *logBuffer) Write(p []byte) (int, error) {
	b.mu.Lock()
	defer b.mu.Unlock()
	return b.buf.Write(p)
}

func (b *logBuffer) String() string {
	b.mu.Lock()
	defer b.mu.Unlock()
	return b.buf.String()
}

type testHost struct {
	*host.Host
	logs *logBuffer
}

// startHost starts a host with the given sinks on loopback-friendly policy
// unless opts says otherwise, and closes it when the test ends.
func startHost(t testing.TB, opts host.Options, specs ...host.Spec) *testHost {
	t.Helper()
	logs := &logBuffer{}
	if opts.BuiltinCommand == nil {
		opts.BuiltinCommand = sdktest.Command
	}
	opts.Logger = slog.New(slog.NewTextHandler(logs, &slog.HandlerOptions{Level: slog.LevelInfo}))
	h := host.New(opts)
	ctx, cancel := context.WithTimeout(context.Background(), 30*time.Second)
	defer cancel()
	if err := h.Start(ctx, specs); err != nil {
		t.Fatalf("Start: %v", err)
	}
	t.Cleanup(func() {
		if err := h.Close(); err != nil {
			t.Errorf("Close: %v", err)
		}
		if t.Failed() {
			t.Logf("host log:\n%s", logs.String())
		}
	})
	return &testHost{Host: h, logs: logs}
}

var openPolicy = host.Options{AllowHTTP: true, AllowPrivateNetworks: true}

func httpSpec(name string) host.Spec { return host.Spec{Name: name, Type: "http"} }

func deliver(t testing.TB, h *testHost, sink string, req *sdk.Request) *sdk.Result {
	t.Helper()
	if req.Timeout == 0 {
		req.Timeout = 10 * time.Second
	}
	if req.Method == "" {
		req.Method = "POST"
	}
	if req.ID == "" {
		req.ID = "00000000-0000-0000-0000-000000000000:1"
	}
	res, err := h.Deliver(context.Background(), sink, req)
	if err != nil {
		t.Fatalf("Deliver: %v", err)
	}
	return res
}

func pidOf(t testing.TB, h *testHost, sink string) int {
	t.Helper()
	for _, st := range h.Status() {
		if st.Name == sink {
			return st.PID
		}
	}
	t.Fatalf("no sink %q in Status", sink)
	return 0
}

func discardLogger() *slog.Logger { return slog.New(slog.DiscardHandler) }
