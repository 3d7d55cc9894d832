package main

import (
	"bytes"
	"context"
	"encoding/json"
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
	"time"

	"github.com/hookgate/hookgate/config"
	"github.com/hookgate/hookgate/control"
	"github.com/hookgate/hookgate/gateway"
)

// pidFileName is written in storage.path by serve.
const pidFileName = "hookgate.pid"

func pidPath(cfg *config.Config) string { return filepath.Join(cfg.Storage.Path, pidFileName) }

// exitRestartNeeded is `hookgate reload`'s status when the webhooks were
// applied but the file changes a block read at start only: the file is
// not wholly in effect until a restart.
const exitRestartNeeded = 3

// reloadTimeout bounds a `hookgate reload` or `hookgate secret` call: a
// reload waits for the lock of the webhook changes (and, on a shared
// store, the other replicas' reconcile).
const reloadTimeout = 5 * time.Minute

// reloader applies the served config file's webhook blocks, on SIGHUP and
// on `hookgate reload` (over the control socket), one reload at a time.
type reloader struct {
	mu   sync.Mutex
	g    *gateway.Gateway
	path string // the config file served, as given to serve
	log  *slog.Logger
}

// reload re-reads the served file and applies it. A file with errors
// changes nothing: the gateway keeps running on what it has.
func (r *reloader) reload(ctx context.Context) (gateway.ReloadReport, error) {
	r.mu.Lock()
	defer r.mu.Unlock()
	cfg, diags := config.Load(r.path)
	if diags.HasErrors() {
		return gateway.ReloadReport{File: r.path}, fmt.Errorf("%s has errors; nothing applied:\n%s", r.path, strings.TrimSpace(config.FormatDiagnostics(diags)))
	}
	return r.g.Reload(ctx, cfg)
}

// reloadRequest is what `hookgate reload` sends: the file it checked.
type reloadRequest struct {
	Config string `json:"config"` // absolute path
}

// handleReload answers `hookgate reload`: the file checked must be the one
// served. Applying another would leave the running webhooks out of step
// with the file the next start reads, so it is refused (decided for issue
// 16; to serve another file, restart with it).
func (r *reloader) handleReload(ctx context.Context) control.Handler {
	return func(_ context.Context, raw json.RawMessage) (any, error) {
		var req reloadRequest
		if err := json.Unmarshal(raw, &req); err != nil {
			return nil, err
		}
		if !sameFile(req.Config, r.path) {
			served, _ := filepath.Abs(r.path)
			return nil, fmt.Errorf("this gateway serves %s, not %s: nothing applied; edit the served file and reload, or restart the gateway with --config %s",
				served, req.Config, req.Config)
		}
		// The serve context, not the request's: a caller that gives up
		// must not cut a reload off halfway through the webhooks.
		rep, err := r.reload(ctx)
		if err != nil {
			r.log.Error("config not reloaded", "file", r.path, "err", err)
			return nil, err
		}
		return rep, nil
	}
}

// sameFile reports whether a and b name the same file (through symlinks
// and relative paths alike).
func sameFile(a, b string) bool {
	sa, err1 := os.Stat(a)
	sb, err2 := os.Stat(b)
	return err1 == nil && err2 == nil && os.SameFile(sa, sb)
}

// watchReload reloads the config on SIGHUP, logging what was applied. The
// returned func stops the watcher and waits for a reload in progress.
func watchReload(ctx context.Context, r *reloader) func() {
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
				r.log.Info("SIGHUP: reloading the config", "file", r.path)
				if _, err := r.reload(ctx); err != nil {
					r.log.Error("config not reloaded: fix it and reload again", "file", r.path, "err", err)
				}
			}
		}
	}()
	return func() {
		signal.Stop(hup)
		cancel()
		wg.Wait()
	}
}

// reload is `hookgate reload [--config FILE]`: check the file here, so
// mistakes are printed at the terminal, then have the gateway serving it
// (found through the control socket in its storage.path) apply it, and
// print what it applied. Exit 0: the file is wholly in effect; 1: nothing
// was applied; 3: the webhooks were applied, but blocks read at start only
// changed and wait for a restart.
func reload(args []string, stdout, stderr io.Writer) int {
	fs := flag.NewFlagSet("reload", flag.ContinueOnError)
	fs.SetOutput(stderr)
	path := fs.String("config", "gateway.hcl", "config file of the running gateway")
	if pos, err := parseArgs(fs, args); err != nil || len(pos) != 0 {
		fmt.Fprintln(stderr, "usage: hookgate reload [--config FILE]")
		return 2
	}
	cfg, diags := config.Load(*path)
	fmt.Fprint(stderr, config.FormatDiagnostics(diags))
	if diags.HasErrors() {
		fmt.Fprintln(stderr, "hookgate: not reloaded: the running gateway keeps its current config")
		return 1
	}
	file, err := filepath.Abs(*path)
	if err != nil {
		fmt.Fprintf(stderr, "hookgate: %v\n", err)
		return 1
	}
	ctx, cancel := context.WithTimeout(context.Background(), reloadTimeout)
	defer cancel()
	var rep gateway.ReloadReport
	if err := callGateway(ctx, cfg, "reload", reloadRequest{Config: file}, &rep); err != nil {
		fmt.Fprintf(stderr, "hookgate: not reloaded: %v\n", err)
		return 1
	}
	rep.File = file // the gateway's may be relative to its own working directory
	printReport(stdout, rep)
	if len(rep.RestartNeeded) > 0 {
		return exitRestartNeeded
	}
	return 0
}

// printReport writes what a reload applied, one line per kind of change.
func printReport(w io.Writer, rep gateway.ReloadReport) {
	fmt.Fprintf(w, "reloaded %s\n", rep.File)
	names := func(what string, ns []string) {
		if len(ns) > 0 {
			fmt.Fprintf(w, "  %-10s %s\n", what+":", strings.Join(ns, ", "))
		}
	}
	names("created", rep.Created)
	names("updated", rep.Updated)
	names("deleted", rep.Deleted)
	if n := len(rep.Unchanged); n > 0 {
		fmt.Fprintf(w, "  %-10s %d webhook block(s)\n", "unchanged:", n)
	}
	if rep.Deactivated > 0 {
		fmt.Fprintf(w, "  deactivated %d API webhook(s) whose company may no longer use their sink\n", rep.Deactivated)
	}
	if len(rep.RestartNeeded) > 0 {
		fmt.Fprintf(w, "not applied, read at start only (restart hookgate to apply): %s\n", strings.Join(rep.RestartNeeded, ", "))
	}
}

// callGateway runs op on the gateway serving cfg, through the control
// socket in its data folder. When none answers, the pid file says whether
// a gateway runs at all (and an older one, without the socket, is told
// apart).
func callGateway(ctx context.Context, cfg *config.Config, op string, req, resp any) error {
	socket := control.SocketPath(cfg.Storage.Path)
	err := control.Call(ctx, socket, op, req, resp)
	if !errors.Is(err, control.ErrNoGateway) {
		return err
	}
	pid, pidErr := runningPID(pidPath(cfg))
	if pidErr != nil {
		return pidErr
	}
	return fmt.Errorf("hookgate (pid %d) runs but does not answer on %s (started by an older hookgate?); "+
		"restart it, or send it SIGHUP to reload (kill -HUP %d: its log reports what changed)", pid, socket, pid)
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
