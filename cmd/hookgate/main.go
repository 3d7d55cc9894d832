// Command hookgate is the whole gateway in one binary:
//
//	hookgate serve [--config FILE]   run the gateway (default ./gateway.hcl)
//	hookgate reload [--config FILE]  check the config, have the running gateway apply its webhooks, print what it applied
//	hookgate secret [--config FILE] WEBHOOK  print the signing secret(s) of a webhook of the running gateway
//	hookgate migrate [--config FILE] apply PostgreSQL schema migrations (storage.driver "postgres")
//	hookgate validate [--offline] FILE  check a config, print every problem as file:line:col
//	hookgate sink list [--config FILE]  list built-in sink types and a config's sinks
//	hookgate sink test NAME --config FILE --payload FILE [--webhook NAME]  try a sink once
//	hookgate sink TYPE               run a built-in sink in plugin mode (started by serve)
//	hookgate bench [flags]           measure the gateway end to end on this machine
//	hookgate version
package main

import (
	"context"
	"errors"
	"flag"
	"fmt"
	"io"
	"log/slog"
	"net"
	"os"
	"os/signal"
	"strconv"
	"strings"
	"sync"
	"syscall"
	"time"

	"github.com/hookgate/hookgate/config"
	"github.com/hookgate/hookgate/control"
	"github.com/hookgate/hookgate/gateway"
	httpsink "github.com/hookgate/hookgate/plugins/http"
	"github.com/hookgate/hookgate/plugins/salesforce"
	"github.com/hookgate/hookgate/plugins/sdk"
	"github.com/hookgate/hookgate/plugins/servicenow"
)

// version is set at build time with -ldflags "-X main.version=...".
var version = "dev"

func main() {
	os.Exit(run(os.Args[1:], os.Stdout, os.Stderr))
}

func run(args []string, stdout, stderr io.Writer) int {
	if len(args) == 0 {
		usage(stderr)
		return 2
	}
	switch args[0] {
	case "serve":
		return serve(args[1:], stderr)
	case "validate":
		return validate(args[1:], stdout, stderr)
	case "reload":
		return reload(args[1:], stdout, stderr)
	case "migrate":
		return migrate(args[1:], stdout, stderr)
	case "secret":
		return secret(args[1:], stdout, stderr)
	case "sink":
		return sink(args[1:], stdout, stderr)
	case "bench":
		return bench(args[1:], stdout, stderr)
	case "version":
		fmt.Fprintln(stdout, "hookgate", version)
		return 0
	case "help", "-h", "--help":
		usage(stdout)
		return 0
	default:
		fmt.Fprintf(stderr, "hookgate: unknown command %q\n", args[0])
		usage(stderr)
		return 2
	}
}

func usage(w io.Writer) {
	fmt.Fprint(w, `usage:
  hookgate serve [--config FILE]   run the gateway (default ./gateway.hcl)
  hookgate reload [--config FILE]  check the config, have the running gateway apply its webhook
                                   blocks, and print what it applied and what needs a restart
                                   (exit 0 all applied, 1 nothing applied, 3 restart needed)
  hookgate secret [--config FILE] WEBHOOK
                                   print a webhook's signing secret (a block name or webhookId)
  hookgate migrate [--config FILE] apply the PostgreSQL schema migrations (driver "postgres";
                                   serve also applies them on start, under an advisory lock)
  hookgate validate [--offline] FILE
                                   check a config file; prints file:line:col: message per problem;
                                   also starts each sink to run its own settings check (not --offline)
  hookgate sink list [--config FILE]
  hookgate sink test NAME --config FILE --payload FILE [--webhook NAME] [--timeout 30s]
                                   send one delivery through a sink and print the result
  hookgate sink TYPE               run a built-in sink (http, servicenow, salesforce) in plugin mode
  hookgate bench [--events N] [--connections N] [--payload-size BYTES] [--fanout N] [--rate N] [--json]
                                   measure this machine: a plain client, then the gateway end to end
  hookgate version
`)
}

func validate(args []string, stdout, stderr io.Writer) int {
	fs := flag.NewFlagSet("validate", flag.ContinueOnError)
	fs.SetOutput(stderr)
	offline := fs.Bool("offline", false, "do not start the sinks (their own settings checks are skipped)")
	pos, err := parseArgs(fs, args)
	if err != nil || len(pos) != 1 {
		fmt.Fprintln(stderr, "usage: hookgate validate [--offline] FILE")
		return 2
	}
	file := pos[0]
	cfg, diags := config.Load(file)
	if diags.HasErrors() {
		fmt.Fprint(stderr, config.FormatDiagnostics(diags))
		return 1
	}
	if !*offline {
		// Each sink judges its own settings (a Configure call), so a
		// custom sink's rules are checked as well as the built-in ones.
		ctx, cancel := context.WithTimeout(context.Background(), 2*time.Minute)
		defer cancel()
		log := slog.New(slog.NewTextHandler(stderr, &slog.HandlerOptions{Level: slog.LevelWarn}))
		if lines := checkSinks(ctx, cfg, log); len(lines) > 0 {
			fmt.Fprintln(stderr, strings.Join(lines, "\n"))
			return 1
		}
	}
	fmt.Fprint(stderr, config.FormatDiagnostics(diags)) // warnings
	fmt.Fprintf(stdout, "%s: ok\n", file)
	return 0
}

// builtinSinks are the sinks `hookgate sink NAME` can serve.
func builtinSinks() map[string]func() sdk.Sink {
	return map[string]func() sdk.Sink{
		"http":       func() sdk.Sink { return httpsink.New() },
		"servicenow": func() sdk.Sink { return servicenow.New() },
		"salesforce": func() sdk.Sink { return salesforce.New() },
	}
}

func sink(args []string, stdout, stderr io.Writer) int {
	if len(args) > 0 {
		switch args[0] {
		case "list":
			return sinkList(args[1:], stdout, stderr)
		case "test":
			return sinkTest(args[1:], stdout, stderr)
		}
	}
	if len(args) != 1 {
		sinkUsage(stderr)
		return 2
	}
	mk, ok := builtinSinks()[args[0]]
	if !ok {
		fmt.Fprintf(stderr, "hookgate: no built-in sink %q\n", args[0])
		return 2
	}
	sdk.Serve(mk())
	return 0
}

func serve(args []string, stderr io.Writer) int {
	fs := flag.NewFlagSet("serve", flag.ContinueOnError)
	fs.SetOutput(stderr)
	path := fs.String("config", "gateway.hcl", "config file")
	logLevel := fs.String("log-level", "info", "debug, info, warn or error")
	if pos, err := parseArgs(fs, args); err != nil || len(pos) != 0 {
		fmt.Fprintln(stderr, "usage: hookgate serve [--config FILE] [--log-level info]")
		return 2
	}
	var level slog.Level
	if err := level.UnmarshalText([]byte(*logLevel)); err != nil {
		fmt.Fprintf(stderr, "hookgate: --log-level: %v\n", err)
		return 2
	}
	log := slog.New(slog.NewJSONHandler(stderr, &slog.HandlerOptions{Level: level}))
	cfg, diags := config.Load(*path)
	fmt.Fprint(stderr, config.FormatDiagnostics(diags)) // errors, or warnings
	if diags.HasErrors() {
		return 1
	}
	if err := serveConfig(cfg, *path, log); err != nil {
		if msg, ok := describeStartError(cfg, err); ok {
			// A sink that rejects its settings is a config problem:
			// report it like `hookgate validate` does.
			fmt.Fprintln(stderr, msg)
		}
		log.Error("hookgate stopped", "err", err)
		return 1
	}
	return 0
}

func serveConfig(cfg *config.Config, path string, log *slog.Logger) error {
	ctx, stop := signal.NotifyContext(context.Background(), syscall.SIGINT, syscall.SIGTERM)
	defer stop()
	// For performance work: a CPU profile of the whole run into
	// $HOOKGATE_CPUPROFILE.<pid> and a runtime trace into
	// $HOOKGATE_TRACE.<pid>, written when the gateway stops gracefully
	// (docs/delivery.md, "Profiling"); sinks have HOOKGATE_SINK_CPUPROFILE
	// and HOOKGATE_SINK_TRACE.
	defer sdk.StartProfiling("HOOKGATE_CPUPROFILE", "HOOKGATE_TRACE")()
	g, err := gateway.New(ctx, gateway.Options{Config: cfg, Logger: log})
	if err != nil {
		return err
	}
	// Badger locks the data folder, so this process is the only one
	// writing the pid file in it; `hookgate reload` reads it.
	// (A postgres install has no Badger to create the folder.)
	pidFile := pidPath(cfg)
	os.MkdirAll(cfg.Storage.Path, 0o700)
	if err := os.WriteFile(pidFile, []byte(strconv.Itoa(os.Getpid())+"\n"), 0o644); err != nil {
		log.Warn("cannot write the pid file; `hookgate reload` will not find this process", "path", pidFile, "err", err)
	}
	defer os.Remove(pidFile)
	rl := &reloader{g: g, path: path, log: log}
	stopReload := watchReload(ctx, rl)
	defer stopReload()
	stopControl := serveControl(ctx, cfg, rl, g, log)
	defer stopControl()
	ln, err := net.Listen("tcp", cfg.Server.Listen)
	if err != nil {
		g.Shutdown(context.Background())
		return fmt.Errorf("server.listen %s: %w", cfg.Server.Listen, err)
	}
	g.Start()
	serveErr := make(chan error, 1)
	go func() { serveErr <- g.Serve(ln) }()
	log.Info("hookgate listening", "addr", ln.Addr().String(), "public_url", cfg.Server.PublicURL, "config", cfg.File)
	select {
	case <-ctx.Done():
		log.Info("shutting down: intake stopped, finishing in-flight deliveries", "deadline", cfg.Server.ShutdownTimeout.String())
	case err = <-serveErr:
	}
	stopControl() // no reload may run while the gateway shuts down
	stopReload()
	sctx, cancel := context.WithTimeout(context.Background(), cfg.Server.ShutdownTimeout)
	defer cancel()
	return errors.Join(err, g.Shutdown(sctx))
}

// serveControl answers `hookgate reload` and `hookgate secret` on the
// control socket in the data folder until the returned func is called. A
// gateway that cannot open it still serves; only those commands fail.
func serveControl(ctx context.Context, cfg *config.Config, rl *reloader, g *gateway.Gateway, log *slog.Logger) func() {
	socket := control.SocketPath(cfg.Storage.Path)
	srv, err := control.Listen(socket, map[string]control.Handler{
		"reload": rl.handleReload(ctx),
		"secret": handleSecret(g),
	}, log)
	if err != nil {
		log.Warn("no control socket: `hookgate reload` and `hookgate secret` will not reach this gateway (SIGHUP still reloads)", "err", err)
		return func() {}
	}
	var once sync.Once
	return func() {
		once.Do(func() {
			sctx, cancel := context.WithTimeout(context.Background(), reloadTimeout)
			defer cancel()
			if err := srv.Close(sctx); err != nil {
				log.Warn("closing the control socket", "err", err)
			}
		})
	}
}
