package main

import (
	"bytes"
	"encoding/json"
	"errors"
	"fmt"
	"net/http"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"syscall"
	"testing"
	"time"

	"github.com/hookgate/hookgate/control"
	"github.com/hookgate/hookgate/gateway"
)

const reloadConfig = `
server  { listen = "%s" }
storage { path = "data" } # beside the file, whatever the working directory
auth {
  client "admin" {
    secret     = "admin-secret-long-enough"
    company_id = 100
    scopes     = ["webhooks:read", "webhooks:write"]
  }
}
webhook "erp" {
  company_id = 100
  url        = "%s"
  events     = ["workorder.created"]
}
`

// hookgateIn runs the binary in dir (another working directory than the
// config's) and returns its exit status, stdout and stderr.
func hookgateIn(t *testing.T, dir string, args ...string) (int, string, string) {
	t.Helper()
	var out, errb bytes.Buffer
	cmd := exec.Command(binary, args...)
	cmd.Dir, cmd.Stdout, cmd.Stderr = dir, &out, &errb
	err := cmd.Run()
	var exit *exec.ExitError
	if err != nil && !errors.As(err, &exit) {
		t.Fatal(err)
	}
	return cmd.ProcessState.ExitCode(), out.String(), errb.String()
}

// TestReload: `hookgate reload`, run from another folder, applies an
// edited HCL webhook to the running gateway, records it in history and
// prints what it applied; a change to a block read at start only is named
// and exits 3; another file and a broken file are refused (exit 1) and
// change nothing; a plain SIGHUP applies the file too.
func TestReload(t *testing.T) {
	dir := t.TempDir()
	elsewhere := t.TempDir()
	addr := freePort(t)
	cfgPath := filepath.Join(dir, "gateway.hcl")
	write := func(u, extra string) {
		if err := os.WriteFile(cfgPath, []byte(fmt.Sprintf(reloadConfig, addr, u)+extra), 0o600); err != nil {
			t.Fatal(err)
		}
	}
	write("https://erp.example.com/v1", "")
	gw := startChild(t, cfgPath, addr)
	defer func() {
		gw.cmd.Process.Signal(syscall.SIGTERM)
		gw.cmd.Wait()
		for _, f := range []string{pidFileName, control.SocketName} {
			if _, err := os.Stat(filepath.Join(dir, "data", f)); !os.IsNotExist(err) {
				t.Errorf("%s left after exit: %v", f, err)
			}
		}
	}()
	token := gw.tokenFor(t, "admin", "admin-secret-long-enough")
	id := gateway.ConfigWebhookID("erp")
	get := func(path string) map[string]any {
		req, _ := http.NewRequest("GET", gw.base+path, nil)
		req.Header.Set("Authorization", "Bearer "+token)
		resp, err := http.DefaultClient.Do(req)
		if err != nil {
			t.Fatal(err)
		}
		defer resp.Body.Close()
		var m map[string]any
		json.NewDecoder(resp.Body).Decode(&m)
		return m
	}
	url := func() any {
		w, _ := get("/api/v1/webhooks/" + id)["result"].(map[string]any)
		return w["url"]
	}
	if u := url(); u != "https://erp.example.com/v1" {
		t.Fatalf("url at start %v", u)
	}

	// Synchronous: the change is in effect when reload returns.
	write("https://erp.example.com/v2", "")
	code, out, errs := hookgateIn(t, elsewhere, "reload", "--config", cfgPath)
	if code != 0 || out != "reloaded "+cfgPath+"\n  updated:   erp\n" {
		t.Errorf("reload: exit %d\n%s%s", code, out, errs)
	}
	if u := url(); u != "https://erp.example.com/v2" {
		t.Errorf("url after reload %v", u)
	}
	hist := get("/api/v1/webhooks/" + id + "/history?sortDirection=ASC")["result"].([]any)
	last := hist[len(hist)-1].(map[string]any)
	if last["action"] != "url_changed" || last["userId"] != 0.0 {
		t.Errorf("history after reload: %v", last)
	}

	// A block read at start only: named, not applied, exit 3; the
	// webhooks of the same file still apply.
	write("https://erp.example.com/v3", "delivery {\n  workers = 9\n}\n")
	code, out, errs = hookgateIn(t, elsewhere, "reload", "--config", cfgPath)
	if code != exitRestartNeeded || !strings.Contains(out, "updated:   erp") ||
		!strings.Contains(out, "not applied, read at start only (restart hookgate to apply): delivery\n") {
		t.Errorf("restart-only change: exit %d\n%s%s", code, out, errs)
	}
	if u := url(); u != "https://erp.example.com/v3" {
		t.Errorf("url after a reload with a restart-only change %v", u)
	}

	// Another file beside it (same data folder): refused, naming both.
	other := filepath.Join(dir, "other.hcl")
	os.WriteFile(other, []byte(fmt.Sprintf(reloadConfig, addr, "https://erp.example.com/other")), 0o600)
	code, out, errs = hookgateIn(t, elsewhere, "reload", other, "--config", other)
	if code != 2 {
		t.Errorf("a positional argument to reload: exit %d", code)
	}
	code, out, errs = hookgateIn(t, elsewhere, "reload", "--config", other)
	if code != 1 || !strings.Contains(errs, "this gateway serves "+cfgPath+", not "+other+": nothing applied") {
		t.Errorf("another file: exit %d\n%s%s", code, out, errs)
	}
	if u := url(); u != "https://erp.example.com/v3" {
		t.Errorf("another file was applied: %v", u)
	}

	// A broken file: refused at the terminal, nothing applied.
	os.WriteFile(cfgPath, []byte(strings.Replace(fmt.Sprintf(reloadConfig, addr, "https://x"), "workorder.created", "workorder.exploded", 1)), 0o600)
	code, _, errs = hookgateIn(t, elsewhere, "reload", "--config", cfgPath)
	if code != 1 || !strings.Contains(errs, `unknown event "workorder.exploded"`) {
		t.Errorf("reload of a broken file: exit %d %s", code, errs)
	}
	// SIGHUP with the broken file: logged, nothing applied.
	gw.cmd.Process.Signal(syscall.SIGHUP)
	// A plain SIGHUP with a fixed file applies it (asynchronously: its log reports).
	write("https://erp.example.com/v4", "")
	gw.cmd.Process.Signal(syscall.SIGHUP)
	deadline := time.Now().Add(15 * time.Second)
	for url() != "https://erp.example.com/v4" {
		if time.Now().After(deadline) {
			t.Fatalf("SIGHUP never applied the file\n%s", gw.logs)
		}
		time.Sleep(20 * time.Millisecond)
	}

	// The secret of a block without one: generated, and readable by name
	// or webhookId.
	code, byName, errs := hookgateIn(t, elsewhere, "secret", "erp", "--config", cfgPath)
	if code != 0 || len(strings.TrimSpace(byName)) != 36 {
		t.Errorf("secret erp: exit %d %q %s", code, byName, errs)
	}
	if _, byID, _ := hookgateIn(t, elsewhere, "secret", "--config", cfgPath, id); byID != byName {
		t.Errorf("secret by id %q, by name %q", byID, byName)
	}
	if code, _, errs := hookgateIn(t, elsewhere, "secret", "--config", cfgPath, "nope"); code != 1 || !strings.Contains(errs, `no webhook "nope"`) {
		t.Errorf("secret of no webhook: exit %d %s", code, errs)
	}
}

func TestReloadWithoutGateway(t *testing.T) {
	dir := t.TempDir()
	cfgPath := filepath.Join(dir, "gateway.hcl")
	os.WriteFile(cfgPath, []byte(fmt.Sprintf(reloadConfig, "127.0.0.1:1", "https://x.example.com")), 0o600)
	var out, errb bytes.Buffer
	if code := run([]string{"reload", "--config", cfgPath}, &out, &errb); code != 1 || !strings.Contains(errb.String(), "no gateway is running") {
		t.Errorf("exit %d: %s", code, errb.String())
	}
	os.MkdirAll(filepath.Join(dir, "data"), 0o755)
	os.WriteFile(filepath.Join(dir, "data", pidFileName), []byte("999999999\n"), 0o644)
	errb.Reset()
	if code := run([]string{"reload", "--config", cfgPath}, &out, &errb); code != 1 || !strings.Contains(errb.String(), "is not running") {
		t.Errorf("stale pid: exit %d: %s", code, errb.String())
	}
	errb.Reset()
	if code := run([]string{"secret", "erp", "--config", cfgPath}, &out, &errb); code != 1 || !strings.Contains(errb.String(), "is not running") {
		t.Errorf("secret with a stale pid: exit %d: %s", code, errb.String())
	}
}
