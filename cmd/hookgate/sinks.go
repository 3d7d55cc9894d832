package main

import (
	"context"
	"errors"
	"flag"
	"fmt"
	"io"
	"log/slog"
	"os"
	"slices"
	"sort"
	"strings"
	"sync"
	"time"

	"github.com/hookgate/hookgate/config"
	"github.com/hookgate/hookgate/gateway"
	"github.com/hookgate/hookgate/plugins/host"
	"github.com/hookgate/hookgate/plugins/sdk"
	"github.com/hookgate/hookgate/transforms"
)

// sinkPosition prefixes msg with the file:line:col of the named sink block,
// the form `hookgate validate` uses for every problem.
func sinkPosition(cfg *config.Config, name string) string {
	for _, s := range cfg.Sinks {
		if s.Name == name && s.Range.Filename != "" {
			return fmt.Sprintf("%s:%d:%d: ", s.Range.Filename, s.Range.Start.Line, s.Range.Start.Column)
		}
	}
	return ""
}

// checkSinks runs each declared sink's own validation (start, Configure,
// stop), in parallel, and returns one line per rejected sink in file order.
func checkSinks(ctx context.Context, cfg *config.Config, log *slog.Logger) []string {
	opts := host.Options{AllowHTTP: cfg.Delivery.AllowHTTP, AllowPrivateNetworks: cfg.Delivery.AllowPrivateNetworks, Logger: log}
	lines := make([]string, len(cfg.Sinks))
	var wg sync.WaitGroup
	for i, s := range cfg.Sinks {
		wg.Add(1)
		go func() {
			defer wg.Done()
			if err := host.Check(ctx, opts, gateway.SinkSpec(s)); err != nil {
				lines[i] = sinkPosition(cfg, s.Name) + err.Error()
			}
		}()
	}
	wg.Wait()
	return slices.DeleteFunc(lines, func(l string) bool { return l == "" })
}

// describeStartError gives a sink that failed to start its config position.
func describeStartError(cfg *config.Config, err error) (string, bool) {
	var se *host.SinkError
	if !errors.As(err, &se) {
		return "", false
	}
	return sinkPosition(cfg, se.Sink) + se.Error(), true
}

func sinkUsage(w io.Writer) {
	fmt.Fprint(w, `usage:
  hookgate sink list [--config FILE]
  hookgate sink test NAME --config FILE --payload FILE [--webhook NAME] [--timeout 30s]
  hookgate sink TYPE        run a built-in sink in plugin mode (started by serve)
`)
}

// sinkList prints the built-in sink types and, with a config, its sinks.
func sinkList(args []string, stdout, stderr io.Writer) int {
	fs := flag.NewFlagSet("sink list", flag.ContinueOnError)
	fs.SetOutput(stderr)
	path := fs.String("config", "", "config file whose sinks to list")
	if pos, err := parseArgs(fs, args); err != nil || len(pos) != 0 {
		sinkUsage(stderr)
		return 2
	}
	types := make([]string, 0, len(builtinSinks()))
	for t := range builtinSinks() {
		types = append(types, t)
	}
	sort.Strings(types)
	fmt.Fprintln(stdout, "built-in sink types:", strings.Join(types, ", "))
	if *path == "" {
		return 0
	}
	cfg, diags := config.Load(*path)
	if diags.HasErrors() {
		fmt.Fprint(stderr, config.FormatDiagnostics(diags))
		return 1
	}
	fmt.Fprintf(stdout, "sinks in %s:\n", *path)
	if !slices.ContainsFunc(cfg.Sinks, func(s config.Sink) bool { return s.Name == config.BuiltinSink }) {
		fmt.Fprintf(stdout, "  %-16s type http (implicit)\n", config.BuiltinSink)
	}
	for _, s := range cfg.Sinks {
		// Settings are listed by name only: their values may be secrets.
		keys := make([]string, 0, len(s.Settings))
		for k := range s.Settings {
			keys = append(keys, k)
		}
		sort.Strings(keys)
		what := "type " + s.Type
		if s.Command != "" {
			what = "command " + s.Command
			if s.SHA256 != "" {
				what += " (sha256 pinned)"
			}
		}
		who := "every company"
		if !s.Open() {
			who = "companies " + config.FormatCompanies(s.Companies)
		}
		fmt.Fprintf(stdout, "  %-16s %s; settings: %s; used by %s\n", s.Name, what, strings.Join(keys, ", "), who)
	}
	return 0
}

// sinkTest starts one sink of a config and sends it one delivery: the
// payload file as the body, or, with --webhook, the payload file as the
// event envelope rendered through that webhook's templates.
func sinkTest(args []string, stdout, stderr io.Writer) int {
	fs := flag.NewFlagSet("sink test", flag.ContinueOnError)
	fs.SetOutput(stderr)
	path := fs.String("config", "gateway.hcl", "config file")
	payload := fs.String("payload", "", "file with the body to send (or the envelope, with --webhook)")
	webhook := fs.String("webhook", "", "render the payload through this webhook's payload_template and url")
	timeout := fs.Duration("timeout", 0, "delivery timeout (default: delivery.timeout of the config)")
	pos, err := parseArgs(fs, args)
	if err != nil || len(pos) != 1 || *payload == "" {
		sinkUsage(stderr)
		return 2
	}
	name := pos[0]
	cfg, diags := config.Load(*path)
	if diags.HasErrors() {
		fmt.Fprint(stderr, config.FormatDiagnostics(diags))
		return 1
	}
	body, err := os.ReadFile(*payload)
	if err != nil {
		fmt.Fprintf(stderr, "hookgate: --payload: %v\n", err)
		return 1
	}
	req := &sdk.Request{ID: "00000000-0000-0000-0000-000000000000:1", Method: "POST", Body: body, Timeout: cfg.Delivery.Timeout}
	if *timeout > 0 {
		req.Timeout = *timeout
	}
	if *webhook != "" {
		if code := renderFor(cfg, *webhook, req, stderr); code != 0 {
			return code
		}
	}
	return sendOnce(cfg, name, req, stdout, stderr)
}

// renderFor applies a webhook's templates to the envelope in req.Body.
func renderFor(cfg *config.Config, webhook string, req *sdk.Request, stderr io.Writer) int {
	i := slices.IndexFunc(cfg.Webhooks, func(w config.Webhook) bool { return w.Name == webhook })
	if i < 0 {
		fmt.Fprintf(stderr, "hookgate: no webhook %q in %s\n", webhook, cfg.File)
		return 1
	}
	w := cfg.Webhooks[i]
	tr, err := transforms.New(transforms.Options{Engine: cfg.Transforms.Engine, Timeout: cfg.Transforms.Timeout, MaxDepth: cfg.Transforms.MaxDepth})
	if err == nil {
		var p *transforms.Program
		if p, err = tr.Program(w.Name, 1, w.PayloadTemplate, w.URL); err == nil {
			req.Body, req.URL, err = p.Apply(context.Background(), req.Body)
		}
	}
	if err != nil {
		fmt.Fprintf(stderr, "hookgate: webhook %q: %v\n", webhook, err)
		return 1
	}
	req.Method = strings.ToUpper(w.Method)
	req.Headers = w.Headers
	return 0
}

func sendOnce(cfg *config.Config, name string, req *sdk.Request, stdout, stderr io.Writer) int {
	spec := gateway.SinkSpec(config.BuiltinSinkBlock())
	if i := slices.IndexFunc(cfg.Sinks, func(s config.Sink) bool { return s.Name == name }); i >= 0 {
		spec = gateway.SinkSpec(cfg.Sinks[i])
	} else if name != config.BuiltinSink {
		fmt.Fprintf(stderr, "hookgate: no sink %q in %s (see hookgate sink list --config %s)\n", name, cfg.File, cfg.File)
		return 1
	}
	if spec.Type == "http" && req.URL == "" {
		fmt.Fprintln(stderr, "hookgate: the http sink needs a URL: add --webhook NAME")
		return 2
	}
	log := slog.New(slog.NewTextHandler(stderr, &slog.HandlerOptions{Level: slog.LevelWarn}))
	h := host.New(host.Options{AllowHTTP: cfg.Delivery.AllowHTTP, AllowPrivateNetworks: cfg.Delivery.AllowPrivateNetworks, Logger: log})
	defer h.Close()
	ctx, cancel := context.WithTimeout(context.Background(), req.Timeout+time.Minute)
	defer cancel()
	if err := h.Start(ctx, []host.Spec{spec}); err != nil {
		msg, _ := describeStartError(cfg, err)
		fmt.Fprintln(stderr, msg)
		return 1
	}
	res, err := h.Deliver(ctx, spec.Name, req)
	if err != nil {
		fmt.Fprintf(stderr, "hookgate: %v\n", err)
		return 1
	}
	printResult(stdout, res)
	if !res.OK() {
		return 1
	}
	return 0
}

func printResult(w io.Writer, res *sdk.Result) {
	outcome := "ok"
	switch {
	case !res.OK() && res.Retryable:
		outcome = "failed (retryable)"
	case !res.OK():
		outcome = "failed (final)"
	}
	fmt.Fprintf(w, "result:       %s\nstatus:       %d\nexternal ref: %s\nduration:     %s\n", outcome, res.Status, res.ExternalRef, res.Duration.Round(time.Millisecond))
	if res.Error != "" {
		fmt.Fprintf(w, "error:        %s\n", res.Error)
	}
	if res.RetryAfter > 0 {
		fmt.Fprintf(w, "retry after:  %s\n", res.RetryAfter)
	}
	if len(res.Body) > 0 {
		fmt.Fprintf(w, "body:         %s\n", strings.TrimSpace(string(res.Body)))
	}
}
