package sdk

import (
	"io"
	"log/slog"
	"os"
	"runtime/debug"
	"runtime/pprof"
	"runtime/trace"
	"strconv"

	"github.com/hashicorp/go-hclog"
	"github.com/hashicorp/go-plugin"
	"google.golang.org/grpc"
)

// Serve runs s as a hookgate sink plugin and blocks until the gateway stops
// it. Call it from main: func main() { sdk.Serve(mySink{}) }.
//
// Run by hand (not by the gateway), the binary prints that it is a plugin
// and exits with status 1.
func Serve(s Sink) { serve(VersionedPlugins(s)) }

// ServeProtocol serves s speaking only the given protocol version, as a
// sink built with an older SDK does; sdktest uses it to check the host
// against such sinks. A sink's main calls Serve.
func ServeProtocol(s Sink, version int) {
	serve(map[int]plugin.PluginSet{version: {PluginName: &GRPCPlugin{Impl: s, Protocol: version}}})
}

func serve(versions map[int]plugin.PluginSet) {
	// go-plugin replaces os.Stderr with a pipe the host does not read, so
	// keep the real stderr: the host turns each JSON line on it into a
	// record in the gateway's log.
	stderr := os.Stderr
	slog.SetDefault(slog.New(NewLogHandler(stderr, slog.LevelDebug)))
	setGCPercent()
	defer StartProfiling(EnvCPUProfile, EnvTrace)()
	plugin.Serve(&plugin.ServeConfig{
		HandshakeConfig:  Handshake,
		VersionedPlugins: versions,
		GRPCServer:       newGRPCServer,
		Logger: hclog.New(&hclog.LoggerOptions{
			Output:     stderr,
			Level:      hclog.Info,
			JSONFormat: true,
		}),
	})
	stopTelemetry()
}

// EnvCPUProfile names an environment variable for profiling a sink: when it
// is set, Serve writes a CPU profile of the process to its value plus
// "." and the process id, from start until the gateway stops the sink
// gracefully (a killed sink leaves an empty or partial file). Read it with
// `go tool pprof -top <sink binary> <file>`.
const EnvCPUProfile = "HOOKGATE_SINK_CPUPROFILE"

// EnvTrace is EnvCPUProfile for a runtime trace (runtime/trace): what each
// goroutine waited for and when, which a CPU profile cannot say. Read it
// with `go tool trace <file>`; a trace grows by megabytes a second under load.
const EnvTrace = "HOOKGATE_SINK_TRACE"

// StartProfiling starts a CPU profile when the environment variable cpuEnv
// is set and a runtime trace when traceEnv is, each into the variable's
// value plus "." and the process id, and returns what stops and writes
// them. One that cannot start is logged and skipped, never fatal. Serve
// uses it with EnvCPUProfile and EnvTrace, the gateway with its own
// HOOKGATE_CPUPROFILE and HOOKGATE_TRACE.
func StartProfiling(cpuEnv, traceEnv string) (stop func()) {
	var stops []func()
	for _, p := range []struct {
		env   string
		start func(string) func()
	}{{cpuEnv, StartCPUProfile}, {traceEnv, startTrace}} {
		if path := os.Getenv(p.env); path != "" {
			stops = append(stops, p.start(path+"."+strconv.Itoa(os.Getpid())))
		}
	}
	return func() {
		for _, s := range stops {
			s()
		}
	}
}

// StartCPUProfile starts a CPU profile into path and returns what stops it;
// a profile that cannot start is logged and skipped, never fatal.
func StartCPUProfile(path string) (stop func()) {
	return startWriting(path, "cpu profile", pprof.StartCPUProfile, pprof.StopCPUProfile)
}

func startTrace(path string) (stop func()) {
	return startWriting(path, "runtime trace", trace.Start, trace.Stop)
}

// startWriting creates path and starts writing what into it.
func startWriting(path, what string, start func(io.Writer) error, stopWriting func()) (stop func()) {
	f, err := os.Create(path)
	if err == nil {
		if err = start(f); err != nil {
			_ = f.Close()
		}
	}
	if err != nil {
		slog.Error(what+" not started", "path", path, "error", err.Error())
		return func() {}
	}
	return func() {
		stopWriting()
		_ = f.Close()
	}
}

// DefaultGCPercent is the garbage collector's GOGC that Serve sets unless
// the sink chose one itself (the GOGC environment variable, or
// debug.SetGCPercent before Serve). A sink keeps a live heap of a few MiB
// but allocates a few KiB per delivery, so with Go's default of 100 it
// collects every couple of hundred deliveries and spends a fifth of its
// CPU doing so; at 400 the heap may grow to five times the live data
// instead of twice, a few MiB more for a typical sink.
const DefaultGCPercent = 400

func setGCPercent() {
	if os.Getenv("GOGC") != "" {
		return
	}
	if prev := debug.SetGCPercent(DefaultGCPercent); prev != 100 {
		debug.SetGCPercent(prev) // set by the sink itself: keep it
	}
}

func newGRPCServer(opts []grpc.ServerOption) *grpc.Server {
	return plugin.DefaultGRPCServer(append(opts, GRPCServerOptions()...))
}

// GRPCServerOptions are the options Serve gives the sink's gRPC server:
// the message size limits and the delivery stream's codec. A test or
// benchmark that serves a sink on a gRPC server of its own uses them to
// get the same server.
func GRPCServerOptions() []grpc.ServerOption {
	return []grpc.ServerOption{
		grpc.MaxRecvMsgSize(MaxMessageSize),
		grpc.MaxSendMsgSize(MaxMessageSize),
		grpc.ForceServerCodecV2(newStreamCodec()),
	}
}

// hclogTime is the timestamp layout go-plugin's host parses; a line with
// any other layout is logged as an opaque debug string.
const hclogTime = "2006-01-02T15:04:05.000000Z07:00"

// NewLogHandler returns a slog handler that writes records as the JSON
// lines go-plugin's host understands (@level, @message, @timestamp), so a
// sink's logs keep their level and attributes in the gateway's log. Serve
// installs one as the default logger; use it only to build your own.
func NewLogHandler(w io.Writer, level slog.Leveler) slog.Handler {
	return slog.NewJSONHandler(w, &slog.HandlerOptions{
		Level: level,
		ReplaceAttr: func(groups []string, a slog.Attr) slog.Attr {
			if len(groups) > 0 {
				return a
			}
			switch a.Key {
			case slog.TimeKey:
				return slog.String("@timestamp", a.Value.Time().Format(hclogTime))
			case slog.LevelKey:
				return slog.String("@level", hclogLevel(a.Value.Any()))
			case slog.MessageKey:
				a.Key = "@message"
			}
			return a
		},
	})
}

func hclogLevel(v any) string {
	l, _ := v.(slog.Level)
	switch {
	case l < slog.LevelInfo:
		return "debug"
	case l < slog.LevelWarn:
		return "info"
	case l < slog.LevelError:
		return "warn"
	default:
		return "error"
	}
}
