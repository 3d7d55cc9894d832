package main

import (
	"bytes"
	"context"
	"errors"
	"flag"
	"fmt"
	"io"
	"log/slog"
	"os"
	"os/signal"
	"path/filepath"
	"strconv"
	"strings"
	"sync"
	"syscall"

	"github.com/hookgate/hookgate/config"
	"github.com/hookgate/hookgate/gateway"
)

// pidFileName is written in storage.path by serve.
const pidFileName = "hookgate.pid"

func pidPath(cfg *config.Config) string { return filepath.Join(cfg.Storage.Path, pidFileName) }

// watchReload re-reads the config file on SIGHUP and applies its webhook
// blocks. A file with errors is reported and changes nothing: the gateway
// keeps running on what it has. The returned func stops the watcher and
// waits for a reload in progress.
func watchReload(ctx context.Context, g *gateway.Gateway, path string, log *slog.Logger) func() {
	hup := make(chan os.Signal, 1)
	signal.Notify(hup, syscall.SIGHUP)
	ctx, cancel := context.WithCancel(ctx)
	var wg sync.WaitGroup
	wg.Add(1)
	go func() {
		defer wg.Done()
		for {
			select {
			case <-ctx.Done():
				return
			case <-hup:
				reloadOnce(ctx, g, path, log)
			}
		}
	}()
	return func() {
		signal.Stop(hup)
		cancel()
		wg.Wait()
	}
}

func reloadOnce(ctx context.Context, g *gateway.Gateway, path string, log *slog.Logger) {
	log.Info("SIGHUP: reloading the config", "file", path)
	cfg, diags := config.Load(path)
	if diags.HasErrors() {
		log.Error("config not reloaded: fix these and send SIGHUP again",
			"file", path, "problems", strings.TrimSpace(config.FormatDiagnostics(diags)))
		return
	}
	if _, err := g.Reload(ctx, cfg); err != nil {
		log.Error("config not reloaded", "file", path, "err", err)
	}
}

// reload is `hookgate reload [--config FILE]`: validate the file here, so
// mistakes are printed at the terminal, then send SIGHUP to the gateway
// serving that config (found through the pid file in its storage.path).
func reload(args []string, stdout, stderr io.Writer) int {
	fs := flag.NewFlagSet("reload", flag.ContinueOnError)
	fs.SetOutput(stderr)
	path := fs.String("config", "gateway.hcl", "config file of the running gateway")
	if pos, err := parseArgs(fs, args); err != nil || len(pos) != 0 {
		fmt.Fprintln(stderr, "usage: hookgate reload [--config FILE]")
		return 2
	}
	cfg, diags := config.Load(*path)
	if diags.HasErrors() {
		fmt.Fprint(stderr, config.FormatDiagnostics(diags))
		fmt.Fprintln(stderr, "hookgate: not reloaded: the running gateway keeps its current config")
		return 1
	}
	pid, err := runningPID(pidPath(cfg))
	if err != nil {
		fmt.Fprintf(stderr, "hookgate: %v\n", err)
		return 1
	}
	if err := syscall.Kill(pid, syscall.SIGHUP); err != nil {
		fmt.Fprintf(stderr, "hookgate: signalling process %d: %v\n", pid, err)
		return 1
	}
	fmt.Fprintf(stdout, "sent SIGHUP to hookgate (pid %d); its log reports what changed\n", pid)
	return 0
}

// runningPID reads the pid file and checks the process is alive and, where
// /proc tells, is a hookgate (a pid left by a killed gateway may have been
// reused by another program).
func runningPID(file string) (int, error) {
	raw, err := os.ReadFile(file)
	if errors.Is(err, os.ErrNotExist) {
		return 0, fmt.Errorf("no gateway is running with this config (%s does not exist)", file)
	}
	if err != nil {
		return 0, err
	}
	pid, err := strconv.Atoi(strings.TrimSpace(string(raw)))
	if err != nil || pid <= 0 {
		return 0, fmt.Errorf("%s does not hold a process id", file)
	}
	if err := syscall.Kill(pid, 0); err != nil {
		return 0, fmt.Errorf("the gateway recorded in %s (pid %d) is not running", file, pid)
	}
	if cmdline, err := os.ReadFile(fmt.Sprintf("/proc/%d/cmdline", pid)); err == nil && !bytes.Contains(cmdline, []byte("hookgate")) {
		return 0, fmt.Errorf("pid %d in %s is not a hookgate process (left by a gateway that was killed?)", pid, file)
	}
	return pid, nil
}
