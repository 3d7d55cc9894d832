package main

import (
	"bytes"
	"context"
	"encoding/json"
	"fmt"
	"io"
	"net"
	"net/http"
	"net/http/httptest"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"sync"
	"syscall"
	"testing"
	"time"

	"github.com/hookgate/hookgate/internal/benchrun"
	"github.com/hookgate/hookgate/internal/procstat"
)

// binary is the hookgate executable built once for these tests: the crash
// test must kill a real process, sink subprocesses and all.
var binary string

func TestMain(m *testing.M) {
	dir, err := os.MkdirTemp("", "hookgate-bin")
	if err != nil {
		panic(err)
	}
	binary = filepath.Join(dir, "hookgate")
	out, err := exec.Command("go", "build", "-o", binary, ".").CombinedOutput()
	if err != nil {
		fmt.Fprintf(os.Stderr, "building hookgate: %v\n%s", err, out)
		os.Exit(1)
	}
	code := m.Run()
	os.RemoveAll(dir)
	os.Exit(code)
}

func freePort(t testing.TB) string {
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		panic(err)
	}
	defer ln.Close()
	return ln.Addr().String()
}

// acmePublisher is the one producer of the real-binary tests and
// benchmarks: company 100, allowed to publish (child.token signs in as it).
const acmePublisher = `auth {
  client "acme" {
    secret     = "acme-secret"
    company_id = 100
    scopes     = ["events:publish"]
  }
}
`

const crashConfig = `
server  { listen = "%s" }
storage { path = "%s" }
delivery {
  timeout = "5s"
  workers = 8
  allow_http = true
  allow_private_networks = true
}
` + acmePublisher + `webhook "receiver" {
  company_id = 100
  url        = "%s/hook"
  events     = ["workorder.created"]
  secret     = "01999f51-5c66-4449-b441-6b4a053fee6a"
}
`

type child struct {
	cmd  *exec.Cmd
	base string
	logs *bytes.Buffer
}

func startChild(t *testing.T, cfgPath, addr string) *child { return startChildTB(t, cfgPath, addr) }

func startChildTB(t testing.TB, cfgPath, addr string) *child {
	t.Helper()
	logs := &bytes.Buffer{}
	cmd := exec.Command(binary, "serve", "--config", cfgPath)
	cmd.Stderr, cmd.Stdout = logs, logs
	c := &child{cmd: cmd, base: "http://" + addr, logs: logs}
	if err := benchrun.StartProcess(context.Background(), cmd, c.base, 30*time.Second); err != nil {
		t.Fatalf("%v:\n%s", err, logs)
	}
	return c
}

func (c *child) token(t testing.TB) string { return c.tokenFor(t, "acme", "acme-secret") }

// tokenFor signs in as another client of the child's config.
func (c *child) tokenFor(t testing.TB, client, secret string) string {
	tok, err := benchrun.Token(context.Background(), c.base, client, secret)
	if err != nil {
		panic(err)
	}
	return tok
}

// publish returns the trace id of an accepted event, or "" if not accepted.
func (c *child) publish(tok string, i int) string {
	env := fmt.Sprintf(`{"event":{"name":"workorder.created","params":{"work_order_id":%d,"work_order_company_id":100}},`+
		`"timestamp":"2026-01-20T08:55:58-06:00","triggered_by_user":{"id":1068},"workorder":{"id":%d,"title":"wo"}}`, i, i)
	req, _ := http.NewRequest("POST", c.base+"/api/v1/events", strings.NewReader(env))
	req.Header.Set("Authorization", "Bearer "+tok)
	req.Header.Set("Content-Type", "application/json")
	resp, err := http.DefaultClient.Do(req)
	if err != nil {
		return ""
	}
	defer resp.Body.Close()
	if resp.StatusCode != 202 {
		return ""
	}
	var b struct {
		Result struct {
			TraceID string `json:"traceId"`
		} `json:"result"`
	}
	json.NewDecoder(resp.Body).Decode(&b)
	return b.Result.TraceID
}

// crashReceiver records every trace id it is sent; while hold is set it
// keeps requests open so deliveries stay in flight.
type crashReceiver struct {
	mu        sync.Mutex
	seen      map[string]int // trace id -> times received
	ids       map[string]string
	hold      chan struct{}
	inflight  chan struct{}
	delivered chan struct{}
}

// holdOpen reads req's body, tells busy that a request is in (when
// someone is listening) and keeps it open until hold is closed. false: the
// client went away first (its gateway died), so nothing was acknowledged.
func holdOpen(req *http.Request, busy chan<- struct{}, hold <-chan struct{}) bool {
	io.Copy(io.Discard, req.Body)
	select {
	case busy <- struct{}{}:
	default:
	}
	select {
	case <-hold:
		return true
	case <-req.Context().Done():
		return false
	}
}

func (r *crashReceiver) ServeHTTP(w http.ResponseWriter, req *http.Request) {
	if !holdOpen(req, r.inflight, r.hold) {
		return // the gateway died: this one was not delivered
	}
	r.mu.Lock()
	trace := req.Header.Get("X-FN-Event-Trace-Id")
	r.seen[trace]++
	uuid, _, _ := strings.Cut(req.Header.Get("X-FN-Delivery-Id"), ":")
	if prev, ok := r.ids[trace]; ok && prev != uuid {
		r.ids[trace] = "MISMATCH " + prev + " " + uuid
	} else if !ok {
		r.ids[trace] = uuid
	}
	r.mu.Unlock()
	w.WriteHeader(200)
	select {
	case r.delivered <- struct{}{}:
	default:
	}
}

// crashSetup starts a crashReceiver (closed when the test ends) and writes
// a gateway config delivering to it; it returns the receiver, the config's
// path and the address the gateway is to listen on.
func crashSetup(t *testing.T) (rc *crashReceiver, cfgPath, addr string) {
	rc = &crashReceiver{seen: map[string]int{}, ids: map[string]string{}, hold: make(chan struct{}),
		inflight: make(chan struct{}, 1), delivered: make(chan struct{}, 1)}
	srv := httptest.NewServer(rc)
	t.Cleanup(srv.Close)
	dir := t.TempDir()
	addr = freePort(t)
	cfgPath = filepath.Join(dir, "gateway.hcl")
	if err := os.WriteFile(cfgPath, []byte(fmt.Sprintf(crashConfig, addr, filepath.Join(dir, "data"), srv.URL)), 0o600); err != nil {
		t.Fatal(err)
	}
	return rc, cfgPath, addr
}

// TestKill9LosesNothing: SIGKILL the gateway while deliveries are queued and
// in flight; the restarted gateway delivers every accepted event, re-sending
// with the same delivery uuid.
func TestKill9LosesNothing(t *testing.T) {
	rc, cfgPath, addr := crashSetup(t)
	gw := startChild(t, cfgPath, addr)
	tok := gw.token(t)
	var accepted []string
	for i := 1; i <= 300; i++ {
		if tr := gw.publish(tok, i); tr != "" {
			accepted = append(accepted, tr)
		}
	}
	if len(accepted) != 300 {
		t.Fatalf("accepted %d of 300 before the crash", len(accepted))
	}
	<-rc.inflight // at least one delivery is in flight, the rest queued
	sinks := procstat.Children(gw.cmd.Process.Pid)
	if len(sinks) == 0 {
		t.Fatal("no sink subprocess found")
	}
	if err := gw.cmd.Process.Signal(syscall.SIGKILL); err != nil {
		t.Fatal(err)
	}
	gw.cmd.Wait()
	close(rc.hold)
	// The sinks die with the gateway instead of lingering as orphans.
	for _, pid := range sinks {
		waitGone(t, pid)
	}

	gw = startChild(t, cfgPath, addr)
	defer func() {
		gw.cmd.Process.Signal(syscall.SIGTERM)
		gw.cmd.Wait()
	}()
	deadline := time.Now().Add(60 * time.Second)
	for {
		rc.mu.Lock()
		missing := 0
		for _, tr := range accepted {
			if rc.seen[tr] == 0 {
				missing++
			}
		}
		rc.mu.Unlock()
		if missing == 0 {
			break
		}
		if time.Now().After(deadline) {
			t.Fatalf("%d of %d accepted events never delivered after restart\n%s", missing, len(accepted), gw.logs)
		}
		select {
		case <-rc.delivered:
		case <-time.After(100 * time.Millisecond):
		}
	}
	rc.mu.Lock()
	defer rc.mu.Unlock()
	for tr, id := range rc.ids {
		if strings.HasPrefix(id, "MISMATCH") {
			t.Errorf("event %s re-sent with another delivery uuid: %s", tr, id)
		}
	}
}

// TestSIGTERMFinishesInFlight: SIGTERM stops intake, lets the delivery in
// flight finish, exits 0, and the next start does not send it again.
func TestSIGTERMFinishesInFlight(t *testing.T) {
	rc, cfgPath, addr := crashSetup(t)
	gw := startChild(t, cfgPath, addr)
	trace := gw.publish(gw.token(t), 1)
	<-rc.inflight
	gw.cmd.Process.Signal(syscall.SIGTERM)
	// Intake stops at once while the delivery is still held open.
	deadline := time.Now().Add(5 * time.Second)
	for time.Now().Before(deadline) {
		if _, err := http.Get(gw.base + "/healthz"); err != nil {
			break
		}
		time.Sleep(10 * time.Millisecond)
	}
	close(rc.hold)
	done := make(chan error, 1)
	go func() { done <- gw.cmd.Wait() }()
	select {
	case err := <-done:
		if err != nil {
			t.Fatalf("exit after SIGTERM: %v\n%s", err, gw.logs)
		}
	case <-time.After(30 * time.Second):
		gw.cmd.Process.Kill()
		t.Fatal("gateway did not exit after SIGTERM")
	}
	rc.mu.Lock()
	if rc.seen[trace] != 1 {
		t.Errorf("in-flight delivery received %d times, want 1", rc.seen[trace])
	}
	rc.mu.Unlock()
	// Forget the signal of the delivery already counted.
	select {
	case <-rc.delivered:
	default:
	}

	gw = startChild(t, cfgPath, addr)
	defer func() { gw.cmd.Process.Signal(syscall.SIGTERM); gw.cmd.Wait() }()
	ctx, cancel := context.WithTimeout(context.Background(), 300*time.Millisecond)
	defer cancel()
	select {
	case <-rc.delivered:
		t.Errorf("a delivery finished before shutdown was sent again after restart\n%s", gw.logs)
	case <-ctx.Done():
	}
}

// waitGone waits (bounded) until pid no longer runs.
func waitGone(t *testing.T, pid int) {
	t.Helper()
	deadline := time.Now().Add(5 * time.Second)
	for time.Now().Before(deadline) {
		if err := syscall.Kill(pid, 0); err != nil {
			return
		}
		stat, _ := os.ReadFile(fmt.Sprintf("/proc/%d/stat", pid))
		if f := strings.Fields(string(stat)); len(f) > 2 && f[2] == "Z" {
			return // a zombie is dead; only its parent's wait is missing
		}
		time.Sleep(10 * time.Millisecond)
	}
	t.Errorf("sink process %d outlived the killed gateway", pid)
}
