package main

import (
	"bufio"
	"net/http"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"syscall"
	"testing"
	"time"
)

// TestTryIt runs the README's "Try it" path for real: the binary serves
// examples/receiver/gateway.hcl (a copy, so the data folder beside it is a
// temporary one), `hookgate secret receiver` prints the secret the gateway
// generated, examples/receiver (built from source) verifies X-FN-Signature
// with it, and the README's event, published as the demo client, arrives
// there verified.
func TestTryIt(t *testing.T) {
	dir := t.TempDir()
	src, err := os.ReadFile(filepath.Join("..", "..", "examples", "receiver", "gateway.hcl"))
	if err != nil {
		t.Fatal(err)
	}
	cfgPath := filepath.Join(dir, "gateway.hcl")
	if err := os.WriteFile(cfgPath, src, 0o600); err != nil {
		t.Fatal(err)
	}
	addr, rcvAddr := freePort(t), freePort(t)
	// The file's env() overrides: free ports instead of 8080 and 9000.
	t.Setenv("HOOKGATE_LISTEN", addr)
	t.Setenv("RECEIVER_URL", "http://"+rcvAddr+"/hooks")
	gw := startChild(t, cfgPath, addr)
	defer func() {
		gw.cmd.Process.Signal(syscall.SIGTERM)
		gw.cmd.Wait()
	}()

	code, secret, errs := hookgateIn(t, t.TempDir(), "secret", "receiver", "--config", cfgPath)
	secret = strings.TrimSpace(secret)
	if code != 0 || len(secret) != 36 {
		t.Fatalf("hookgate secret receiver: exit %d %q %s", code, secret, errs)
	}

	rcvBin := filepath.Join(dir, "receiver")
	if out, err := exec.Command("go", "build", "-o", rcvBin, "../../examples/receiver").CombinedOutput(); err != nil {
		t.Fatalf("building examples/receiver: %v\n%s", err, out)
	}
	rcv := exec.Command(rcvBin, "-listen", rcvAddr)
	rcv.Env = append(os.Environ(), "HOOKGATE_WEBHOOK_SECRETS="+secret)
	logs, err := rcv.StderrPipe()
	if err != nil {
		t.Fatal(err)
	}
	if err := rcv.Start(); err != nil {
		t.Fatal(err)
	}
	defer func() {
		rcv.Process.Kill()
		rcv.Wait()
	}()
	lines := make(chan string, 16)
	go func() { // ends when the receiver is killed (its stderr closes)
		defer close(lines)
		sc := bufio.NewScanner(logs)
		for sc.Scan() {
			lines <- sc.Text()
		}
	}()
	waitLine := func(want string) string {
		t.Helper()
		timeout := time.After(30 * time.Second)
		for {
			select {
			case l, ok := <-lines:
				if !ok {
					t.Fatalf("receiver exited before %q\ngateway:\n%s", want, gw.logs)
				}
				if strings.Contains(l, want) {
					return l
				}
			case <-timeout:
				t.Fatalf("receiver never logged %q\ngateway:\n%s", want, gw.logs)
			}
		}
	}
	waitLine("receiving on")

	token := gw.tokenFor(t, "demo", "demo-secret-change-me")
	envelope, err := os.Open(filepath.Join("..", "..", "transforms", "testdata", "seed-envelope.json"))
	if err != nil {
		t.Fatal(err)
	}
	defer envelope.Close()
	req, _ := http.NewRequest("POST", gw.base+"/api/v1/events", envelope)
	req.Header.Set("Authorization", "Bearer "+token)
	req.Header.Set("Content-Type", "application/json")
	resp, err := http.DefaultClient.Do(req)
	if err != nil {
		t.Fatal(err)
	}
	resp.Body.Close()
	if resp.StatusCode != http.StatusAccepted {
		t.Fatalf("publish: %d", resp.StatusCode)
	}
	// The receiver logs a delivery only once its signature verified.
	if l := waitLine("verified delivery"); !strings.Contains(l, "workorder.status.published") {
		t.Errorf("receiver logged %q", l)
	}
	if _, err := os.Stat(filepath.Join(dir, "data")); err != nil {
		t.Errorf("the data folder is not beside the config: %v", err)
	}
}
