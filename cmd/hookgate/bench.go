package main

import (
	"context"
	"encoding/json"
	"errors"
	"flag"
	"fmt"
	"io"
	"os"
	"os/signal"
	"strings"
	"syscall"

	"github.com/hookgate/hookgate/internal/benchrun"
)

// bench is `hookgate bench`: measures this machine (internal/benchrun).
func bench(args []string, stdout, stderr io.Writer) int {
	fs := flag.NewFlagSet("bench", flag.ContinueOnError)
	fs.SetOutput(stderr)
	events := fs.Int("events", benchrun.DefaultEvents, fmt.Sprintf("deliveries in each throughput run (plain client, drain, publish), 1 to %d", benchrun.MaxEvents))
	conns := fs.Int("connections", benchrun.DefaultConnections, fmt.Sprintf("concurrent connections of the plain client and of the producers, 1 to %d", benchrun.MaxConnections))
	size := fs.Int("payload-size", benchrun.DefaultPayloadSize, fmt.Sprintf("bytes of each published envelope, %d to %d (server.body_limit)", benchrun.MinPayloadSize, benchrun.MaxPayloadSize))
	fanOut := fs.Int("fanout", benchrun.DefaultFanOut, fmt.Sprintf("webhooks subscribed to each event in the publish run, 1 to %d and at most --events", benchrun.MaxFanOut))
	rate := fs.Int("rate", benchrun.DefaultRate, fmt.Sprintf("events/s of the paced latency run, on a gateway of its own (0 skips it; rate × paced at most %d events)", benchrun.MaxPacedEvents))
	paced := fs.Duration("paced", benchrun.DefaultPaced, "how long the paced run publishes")
	delivery := fs.String("delivery", "", `extra attributes of the gateway's delivery block, e.g. 'workers = 128'`)
	asJSON := fs.Bool("json", false, "print the report as JSON")
	gw := fs.String("gateway-binary", "", "measure this hookgate executable instead of this one (another build)")
	compare := fs.String("compare", "", "also measure this hookgate executable, in rounds alternating with the first, and print each figure's change per round")
	rounds := fs.Int("rounds", benchrun.DefaultRounds, "rounds of --compare (one run of each build per round)")
	if pos, err := parseArgs(fs, args); err != nil || len(pos) != 0 || *rounds < 1 {
		fmt.Fprintln(stderr, "usage: hookgate bench [--events N] [--connections N] [--payload-size BYTES] [--fanout N] [--rate N] [--paced 30s] [--delivery HCL] [--gateway-binary PATH] [--compare PATH [--rounds N]] [--json]")
		return 2
	}
	if *compare == "" && flagSet(fs, "rounds") {
		fmt.Fprintln(stderr, "hookgate bench: --rounds is the number of rounds of --compare; give --compare PATH too")
		return 2
	}
	// SIGHUP too: a closed terminal stops the run the way Ctrl-C does, its
	// gateways stopped and its temp folder removed.
	ctx, stop := signal.NotifyContext(context.Background(), syscall.SIGINT, syscall.SIGTERM, syscall.SIGHUP)
	defer stop()
	o := benchrun.Options{Events: *events, Connections: *conns,
		PayloadSize: *size, FanOut: *fanOut, Rate: *rate, Paced: *paced, Delivery: *delivery}
	// Every value as given, before a run that takes minutes: 0 is not
	// "the default" here, and a wrong executable is found now, not after
	// the first build's runs.
	err := o.Validate()
	for _, path := range []string{*gw, *compare} {
		if path != "" {
			err = errors.Join(err, benchrun.CheckBinary(ctx, path))
		}
	}
	if err != nil {
		for _, line := range strings.Split(err.Error(), "\n") {
			fmt.Fprintf(stderr, "hookgate bench: %s\n", line)
		}
		return 2
	}
	bin := *gw
	if bin == "" {
		self, err := os.Executable()
		if err != nil {
			fmt.Fprintf(stderr, "hookgate bench: %v\n", err)
			return 1
		}
		bin = self
	}
	// The progress line is rewritten in place: only on a terminal, so a
	// redirected stderr does not fill with carriage returns.
	var progress io.Writer
	if fi, err := os.Stderr.Stat(); err == nil && fi.Mode()&os.ModeCharDevice != 0 && stderr == os.Stderr {
		progress = stderr
	}
	o.Binary, o.Progress = bin, progress
	var rep interface{ Print(io.Writer) }
	if *compare != "" {
		rep, err = benchrun.Compare(ctx, o, bin, *compare, *rounds)
	} else {
		rep, err = benchrun.Run(ctx, o)
	}
	if err != nil {
		fmt.Fprintf(stderr, "hookgate bench: %v\n", err)
		return 1
	}
	if *asJSON {
		enc := json.NewEncoder(stdout)
		enc.SetIndent("", "  ")
		enc.Encode(rep)
		return 0
	}
	rep.Print(stdout)
	return 0
}
