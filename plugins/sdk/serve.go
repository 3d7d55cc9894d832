package sdk

import (
	"io"
	"log/slog"
	"os"

	"github.com/hashicorp/go-hclog"
	"github.com/hashicorp/go-plugin"
	"google.golang.org/grpc"
)

// Serve runs s as a hookgate sink plugin and blocks until the gateway stops
// it. Call it from main: func main() { sdk.Serve(mySink{}) }.
//
// Run by hand (not by the gateway), the binary prints that it is a plugin
// and exits with status 1.
func Serve(s Sink) {
	// go-plugin replaces os.Stderr with a pipe the host does not read, so
	// keep the real stderr: the host turns each JSON line on it into a
	// record in the gateway's log.
	stderr := os.Stderr
	slog.SetDefault(slog.New(NewLogHandler(stderr, slog.LevelDebug)))
	plugin.Serve(&plugin.ServeConfig{
		HandshakeConfig: Handshake,
		Plugins:         PluginSet(s),
		GRPCServer:      newGRPCServer,
		Logger: hclog.New(&hclog.LoggerOptions{
			Output:     stderr,
			Level:      hclog.Info,
			JSONFormat: true,
		}),
	})
}

func newGRPCServer(opts []grpc.ServerOption) *grpc.Server {
	opts = append(opts,
		grpc.MaxRecvMsgSize(MaxMessageSize),
		grpc.MaxSendMsgSize(MaxMessageSize),
	)
	return plugin.DefaultGRPCServer(opts)
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
