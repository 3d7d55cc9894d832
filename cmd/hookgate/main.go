// Command hookgate is the whole gateway in one binary:
//
//	hookgate serve [--config FILE]   run the gateway (default ./gateway.hcl)
//	hookgate validate FILE           check a config, print every problem as file:line:col
//	hookgate sink NAME               run a built-in sink in plugin mode (started by serve)
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
	"syscall"

	"github.com/hookgate/hookgate/config"
	"github.com/hookgate/hookgate/gateway"
	httpsink "github.com/hookgate/hookgate/plugins/http"
	"github.com/hookgate/hookgate/plugins/sdk"
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
	case "sink":
		return sink(args[1:], stderr)
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
  hookgate validate FILE           check a config file; prints file:line:col: message per problem
  hookgate sink NAME               run a built-in sink (http) in plugin mode; started by serve
  hookgate version
`)
}

func validate(args []string, stdout, stderr io.Writer) int {
	if len(args) != 1 {
		fmt.Fprintln(stderr, "usage: hookgate validate FILE")
		return 2
	}
	_, diags := config.Load(args[0])
	if diags.HasErrors() {
		fmt.Fprint(stderr, config.FormatDiagnostics(diags))
		return 1
	}
	fmt.Fprintf(stdout, "%s: ok\n", args[0])
	return 0
}

// builtinSinks are the sinks `hookgate sink NAME` can serve.
func builtinSinks() map[string]func() sdk.Sink {
	return map[string]func() sdk.Sink{
		"http": func() sdk.Sink { return httpsink.New() },
	}
}

func sink(args []string, stderr io.Writer) int {
	if len(args) != 1 {
		fmt.Fprintln(stderr, "usage: hookgate sink NAME")
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
	if err := fs.Parse(args); err != nil {
		return 2
	}
	var level slog.Level
	if err := level.UnmarshalText([]byte(*logLevel)); err != nil {
		fmt.Fprintf(stderr, "hookgate: --log-level: %v\n", err)
		return 2
	}
	log := slog.New(slog.NewJSONHandler(stderr, &slog.HandlerOptions{Level: level}))
	cfg, diags := config.Load(*path)
	if diags.HasErrors() {
		fmt.Fprint(stderr, config.FormatDiagnostics(diags))
		return 1
	}
	if err := serveConfig(cfg, log); err != nil {
		log.Error("hookgate stopped", "err", err)
		return 1
	}
	return 0
}

func serveConfig(cfg *config.Config, log *slog.Logger) error {
	ctx, stop := signal.NotifyContext(context.Background(), syscall.SIGINT, syscall.SIGTERM)
	defer stop()
	g, err := gateway.New(ctx, gateway.Options{Config: cfg, Logger: log})
	if err != nil {
		return err
	}
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
	sctx, cancel := context.WithTimeout(context.Background(), cfg.Server.ShutdownTimeout)
	defer cancel()
	return errors.Join(err, g.Shutdown(sctx))
}
