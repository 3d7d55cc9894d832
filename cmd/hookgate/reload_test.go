package main

import (
	"bytes"
	"encoding/json"
	"fmt"
	"net/http"
	"net/url"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"syscall"
	"testing"
	"time"

	"github.com/hookgate/hookgate/gateway"
)

const reloadConfig = `
server  { listen = "%s" }
storage { path = "%s" }
auth {
  client "admin" {
    secret     = "admin-secret"
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

// TestReload: `hookgate reload` and a plain SIGHUP apply an edited HCL
// webhook to the running gateway and record it in history; a broken file
// is reported and changes nothing.
func TestReload(t *testing.T) {
	dir := t.TempDir()
	addr := freePort(t)
	cfgPath := filepath.Join(dir, "gateway.hcl")
	write := func(u string) {
		if err := os.WriteFile(cfgPath, []byte(fmt.Sprintf(reloadConfig, addr, filepath.Join(dir, "data"), u)), 0o600); err != nil {
			t.Fatal(err)
		}
	}
	write("https://erp.example.com/v1")
	gw := startChild(t, cfgPath, addr)
	defer func() {
		gw.cmd.Process.Signal(syscall.SIGTERM)
		gw.cmd.Wait()
		if _, err := os.Stat(filepath.Join(dir, "data", pidFileName)); !os.IsNotExist(err) {
			t.Errorf("pid file left after exit: %v", err)
		}
	}()
	resp, err := http.PostForm(gw.base+"/authentication/api/oauth/token", url.Values{
		"grant_type": {"client_credentials"}, "client_id": {"admin"}, "client_secret": {"admin-secret"}})
	if err != nil {
		t.Fatal(err)
	}
	var tok struct {
		AccessToken string `json:"access_token"`
	}
	json.NewDecoder(resp.Body).Decode(&tok)
	resp.Body.Close()
	id := gateway.ConfigWebhookID("erp")
	get := func(path string) map[string]any {
		req, _ := http.NewRequest("GET", gw.base+path, nil)
		req.Header.Set("Authorization", "Bearer "+tok.AccessToken)
		resp, err := http.DefaultClient.Do(req)
		if err != nil {
			t.Fatal(err)
		}
		defer resp.Body.Close()
		var m map[string]any
		json.NewDecoder(resp.Body).Decode(&m)
		return m
	}
	waitURL := func(want string) {
		t.Helper()
		deadline := time.Now().Add(15 * time.Second)
		for {
			w, _ := get("/api/v1/webhooks/" + id)["result"].(map[string]any)
			if w != nil && w["url"] == want {
				return
			}
			if time.Now().After(deadline) {
				t.Fatalf("url never became %s (now %v)\n%s", want, w, gw.logs)
			}
			time.Sleep(20 * time.Millisecond)
		}
	}
	waitURL("https://erp.example.com/v1")

	write("https://erp.example.com/v2")
	var out, errb bytes.Buffer
	cmd := exec.Command(binary, "reload", "--config", cfgPath)
	cmd.Stdout, cmd.Stderr = &out, &errb
	if err := cmd.Run(); err != nil {
		t.Fatalf("hookgate reload: %v\n%s%s", err, out.String(), errb.String())
	}
	if !strings.Contains(out.String(), fmt.Sprintf("pid %d", gw.cmd.Process.Pid)) {
		t.Errorf("reload said %q", out.String())
	}
	waitURL("https://erp.example.com/v2")
	hist := get("/api/v1/webhooks/" + id + "/history?sortDirection=ASC")["result"].([]any)
	last := hist[len(hist)-1].(map[string]any)
	if last["action"] != "url_changed" || last["userId"] != 0.0 {
		t.Errorf("history after reload: %v", last)
	}

	// A broken file: reload refuses at the terminal and signals nothing.
	os.WriteFile(cfgPath, []byte(strings.Replace(fmt.Sprintf(reloadConfig, addr, filepath.Join(dir, "data"), "https://x"), "workorder.created", "workorder.exploded", 1)), 0o600)
	out.Reset()
	errb.Reset()
	cmd = exec.Command(binary, "reload", "--config", cfgPath)
	cmd.Stdout, cmd.Stderr = &out, &errb
	if err := cmd.Run(); err == nil || !strings.Contains(errb.String(), `unknown event "workorder.exploded"`) {
		t.Errorf("reload of a broken file: %v\n%s", err, errb.String())
	}
	// SIGHUP with the broken file: logged, nothing applied.
	gw.cmd.Process.Signal(syscall.SIGHUP)
	// A plain SIGHUP with a fixed file applies it.
	write("https://erp.example.com/v3")
	gw.cmd.Process.Signal(syscall.SIGHUP)
	waitURL("https://erp.example.com/v3")
}

func TestReloadWithoutGateway(t *testing.T) {
	dir := t.TempDir()
	cfgPath := filepath.Join(dir, "gateway.hcl")
	os.WriteFile(cfgPath, []byte(fmt.Sprintf(reloadConfig, "127.0.0.1:1", filepath.Join(dir, "data"), "https://x.example.com")), 0o600)
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
}
