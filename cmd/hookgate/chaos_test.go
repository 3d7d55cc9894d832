package main

// The chaos harness (make chaos; a trimmed run in make test): the real
// binary under steady load to several loopback receivers while faults are
// injected one after another. It then checks that every accepted event
// reached every subscribed receiver at least once and prints the figures.

import (
	"bytes"
	"context"
	"fmt"
	"io"
	"net"
	"net/http"
	"os"
	"os/exec"
	"path/filepath"
	"strconv"
	"strings"
	"sync"
	"sync/atomic"
	"syscall"
	"testing"
	"time"
)

// chaosReceivers is how many receivers (one webhook each) every event goes to.
const chaosReceivers = 4

// Receiver modes, switched by the fault schedule.
const (
	modeOK int32 = iota
	mode500
	modeReset
	modeStall
)

// chaosConfig retries quickly and often: faults last seconds, and a
// delivery must outlive any of them. The dynamic budget is pinned at 10
// retries, because under chaos every webhook's success rate drops.
const chaosConfig = `
server  { listen = "%s" }
storage { path = "%s" }
delivery {
  timeout = "2s"
  workers = 16
  backoff = ["250ms", "500ms", "1s", "1s", "2s", "2s", "2s", "2s", "2s", "2s"]
  retries_high = 10
  retries_medium = 10
  retries_low = 10
  allow_http = true
  allow_private_networks = true
}
` + acmePublisher + `%s
`

// chaosReceiver answers per its mode and records what it acknowledged.
type chaosReceiver struct {
	mode atomic.Int32
	mu   sync.Mutex
	got  map[string]int // trace id -> times acknowledged with 200
	last *atomic.Int64  // unix nanos of the last acknowledgement, shared
}

func (r *chaosReceiver) ServeHTTP(w http.ResponseWriter, req *http.Request) {
	// Read the body first: then net/http notices a hang-up and ends the
	// request's context.
	io.Copy(io.Discard, req.Body)
	switch r.mode.Load() {
	case mode500:
		w.WriteHeader(500)
		return
	case modeReset:
		if hj, ok := w.(http.Hijacker); ok {
			if conn, _, err := hj.Hijack(); err == nil {
				if tc, ok := conn.(*net.TCPConn); ok {
					tc.SetLinger(0) // close with RST
				}
				conn.Close()
				return
			}
		}
	case modeStall:
		select { // past the 2 s delivery timeout
		case <-time.After(3 * time.Second):
		case <-req.Context().Done():
		}
	}
	if req.Context().Err() != nil {
		return // the gateway gave up: not acknowledged
	}
	r.mu.Lock()
	r.got[req.Header.Get("X-FN-Event-Trace-Id")]++
	r.mu.Unlock()
	r.last.Store(time.Now().UnixNano())
	w.WriteHeader(200)
}

// chaosRun is one harness run: the gateway, its receivers and the tally.
type chaosRun struct {
	t       *testing.T
	cfgPath string
	addr    string
	dataDir string
	rcv     []*chaosReceiver
	last    atomic.Int64

	mu       sync.Mutex
	logs     *lockedWriter // the current gateway's output
	gw       *child
	exited   chan struct{}
	accepted []string
	restarts int
	orphans  int
	faults   []string
}

func TestChaos(t *testing.T) {
	if testing.Short() {
		t.Skip("chaos: not in -short")
	}
	duration := 35 * time.Second // the trimmed run inside go test
	if v := os.Getenv("HOOKGATE_CHAOS_DURATION"); v != "" {
		d, err := time.ParseDuration(v)
		if err != nil {
			t.Fatalf("HOOKGATE_CHAOS_DURATION: %v", err)
		}
		duration = d
	}
	dir := t.TempDir()
	r := &chaosRun{t: t, addr: freePort(t), dataDir: filepath.Join(dir, "data"), cfgPath: filepath.Join(dir, "gateway.hcl")}
	diskFull := r.mountSmallDisk(dir)

	var hooks strings.Builder
	for i := range chaosReceivers {
		rc := &chaosReceiver{got: map[string]int{}, last: &r.last}
		r.rcv = append(r.rcv, rc)
		srv := httptestServer(rc)
		t.Cleanup(srv.Close)
		fmt.Fprintf(&hooks, "webhook \"r%d\" {\n  company_id = 100\n  url = \"%s/hook\"\n  events = [\"workorder.created\"]\n}\n", i, srv.URL)
	}
	os.WriteFile(r.cfgPath, []byte(fmt.Sprintf(chaosConfig, r.addr, r.dataDir, hooks.String())), 0o600)
	r.start()
	t.Cleanup(r.stop)

	ctx, cancel := context.WithCancel(context.Background())
	var load sync.WaitGroup
	load.Add(1)
	go func() { defer load.Done(); r.produce(ctx) }()

	started := time.Now()
	r.last.Store(started.UnixNano())
	stallMax := r.watchStalls()
	r.schedule(started.Add(duration), diskFull)
	cancel()
	load.Wait()

	for _, rc := range r.rcv {
		rc.mode.Store(modeOK)
	}
	r.ensureUp()
	lost, dup, delivered := r.drain(90 * time.Second)
	cancelStalls := stallMax()
	t.Logf("chaos %s: faults %s", duration, strings.Join(r.faults, ", "))
	report := fmt.Sprintf("accepted %d events × %d receivers; delivered %d; lost %d; duplicated %d; longest stall %s; gateway restarts %d; orphaned sinks %d",
		len(r.accepted), chaosReceivers, delivered, lost, dup, cancelStalls.Round(time.Millisecond), r.restarts, r.orphans)
	t.Log(report)
	fmt.Println("chaos:", report)
	if len(r.accepted) == 0 {
		t.Fatal("no event was accepted")
	}
	if lost != 0 {
		t.Errorf("%d accepted deliveries never arrived\n%s", lost, r.logs)
	}
}

// mountSmallDisk puts the data folder on a 256 MB tmpfs when running as
// root, so the disk-full fault is a real ENOSPC; otherwise that fault is
// skipped (and said so).
func (r *chaosRun) mountSmallDisk(dir string) bool {
	if os.Geteuid() != 0 {
		r.t.Log("disk-full fault skipped: mounting a small tmpfs needs root")
		return false
	}
	os.MkdirAll(r.dataDir, 0o700)
	if out, err := exec.Command("mount", "-t", "tmpfs", "-o", "size=256m", "tmpfs", r.dataDir).CombinedOutput(); err != nil {
		r.t.Logf("disk-full fault skipped: mount tmpfs: %v %s", err, out)
		return false
	}
	r.t.Cleanup(func() { exec.Command("umount", "-l", r.dataDir).Run() })
	return true
}

// start launches the gateway and waits until it is ready; a start that
// fails (e.g. on a full disk) is retried until it succeeds or a minute ends.
func (r *chaosRun) start() {
	deadline := time.Now().Add(time.Minute)
	for {
		logs := &bytes.Buffer{}
		lw := &lockedWriter{w: logs}
		cmd := exec.Command(binary, "serve", "--config", r.cfgPath)
		cmd.Stdout, cmd.Stderr = lw, lw
		if err := cmd.Start(); err != nil {
			r.t.Fatal(err)
		}
		exited := make(chan struct{})
		go func() {
			if err := cmd.Wait(); err != nil {
				fmt.Fprintf(lw, "chaos: gateway exited: %v\n", err)
			}
			close(exited)
		}()
		c := &child{cmd: cmd, base: "http://" + r.addr, logs: logs}
		if waitReady(c.base, exited, 20*time.Second) {
			r.mu.Lock()
			r.gw, r.exited, r.logs = c, exited, lw
			r.mu.Unlock()
			return
		}
		cmd.Process.Kill()
		<-exited
		if time.Now().After(deadline) {
			r.t.Fatalf("gateway does not start:\n%s", lw)
		}
		time.Sleep(500 * time.Millisecond)
	}
}

func waitReady(base string, exited chan struct{}, limit time.Duration) bool {
	deadline := time.Now().Add(limit)
	client := &http.Client{Timeout: time.Second}
	for time.Now().Before(deadline) {
		select {
		case <-exited:
			return false
		default:
		}
		if resp, err := client.Get(base + "/readyz"); err == nil {
			resp.Body.Close()
			if resp.StatusCode == 200 {
				return true
			}
		}
		time.Sleep(50 * time.Millisecond)
	}
	return false
}

// ensureUp restarts the gateway if it exited on its own (e.g. on a full disk).
func (r *chaosRun) ensureUp() {
	r.mu.Lock()
	exited := r.exited
	r.mu.Unlock()
	select {
	case <-exited:
		r.t.Logf("gateway exited on its own; restarting. Why:\n%s", crashReason(r.logs.String()))
		r.restarts++
		r.start()
	default:
	}
}

func (r *chaosRun) stop() {
	r.mu.Lock()
	gw, exited := r.gw, r.exited
	r.mu.Unlock()
	gw.cmd.Process.Signal(syscall.SIGTERM)
	select {
	case <-exited:
	case <-time.After(40 * time.Second):
		gw.cmd.Process.Kill()
		<-exited
	}
}

// killGateway SIGKILLs the gateway, counts sink processes that outlive it,
// and starts it again.
func (r *chaosRun) killGateway() {
	r.mu.Lock()
	gw, exited := r.gw, r.exited
	r.mu.Unlock()
	sinks := childPids(gw.cmd.Process.Pid)
	gw.cmd.Process.Signal(syscall.SIGKILL)
	<-exited
	time.Sleep(500 * time.Millisecond)
	for _, pid := range sinks {
		if syscall.Kill(pid, 0) == nil && !isZombie(pid) {
			r.orphans++
			syscall.Kill(pid, syscall.SIGKILL) // not ours to keep
		}
	}
	r.restarts++
	r.start()
}

// killSinks SIGKILLs every sink subprocess of the gateway; the host restarts them.
func (r *chaosRun) killSinks() {
	r.mu.Lock()
	pid := r.gw.cmd.Process.Pid
	r.mu.Unlock()
	for _, p := range childPids(pid) {
		syscall.Kill(p, syscall.SIGKILL)
	}
}

// childPids lists a process's children (under every thread that forked).
func childPids(pid int) []int {
	tasks, _ := filepath.Glob(fmt.Sprintf("/proc/%d/task/*/children", pid))
	var out []int
	for _, task := range tasks {
		raw, _ := os.ReadFile(task)
		for _, f := range strings.Fields(string(raw)) {
			if p, err := strconv.Atoi(f); err == nil {
				out = append(out, p)
			}
		}
	}
	return out
}

func isZombie(pid int) bool {
	raw, err := os.ReadFile(fmt.Sprintf("/proc/%d/stat", pid))
	if err != nil {
		return true
	}
	// The state follows the command name in parentheses.
	if i := bytes.LastIndexByte(raw, ')'); i >= 0 && i+2 < len(raw) {
		return raw[i+2] == 'Z'
	}
	return false
}

// fillDisk writes a file until the tmpfs is full, holds it, and frees it.
func (r *chaosRun) fillDisk(hold time.Duration) {
	path := filepath.Join(r.dataDir, "filler")
	f, err := os.Create(path)
	if err != nil {
		r.t.Logf("fill disk: %v", err)
		return
	}
	chunk := make([]byte, 1<<20)
	for {
		if _, err := f.Write(chunk); err != nil {
			break // ENOSPC: the disk is full
		}
	}
	f.Close()
	time.Sleep(hold)
	os.Remove(path)
}

// schedule injects one fault after another until the end, with a calm
// second between them, then returns.
func (r *chaosRun) schedule(end time.Time, diskFull bool) {
	receivers := func(mode int32) func() {
		return func() {
			for _, rc := range r.rcv {
				rc.mode.Store(mode)
			}
			time.Sleep(3 * time.Second)
			for _, rc := range r.rcv {
				rc.mode.Store(modeOK)
			}
		}
	}
	type fault struct {
		name string
		do   func()
	}
	faults := []fault{
		{"kill -9 gateway", r.killGateway},
		{"receivers 500", receivers(mode500)},
		{"kill -9 sinks", r.killSinks},
		{"receivers reset", receivers(modeReset)},
		{"receivers stall", receivers(modeStall)},
	}
	if diskFull {
		faults = append(faults, fault{"disk full 4s", func() { r.fillDisk(4 * time.Second) }})
	}
	for i := 0; time.Now().Before(end); i++ {
		time.Sleep(time.Second)
		f := faults[i%len(faults)]
		r.faults = append(r.faults, f.name)
		f.do()
		r.ensureUp()
	}
}

// produce publishes about 100 events a second from 4 clients and keeps the
// trace id of every one answered 202. Refusals (gateway down, disk full)
// are not accepted and not counted.
func (r *chaosRun) produce(ctx context.Context) {
	var wg sync.WaitGroup
	var n atomic.Int64
	client := &http.Client{Timeout: 10 * time.Second}
	for range 4 {
		wg.Add(1)
		go func() {
			defer wg.Done()
			tick := time.NewTicker(40 * time.Millisecond)
			defer tick.Stop()
			var tok string
			for {
				select {
				case <-ctx.Done():
					return
				case <-tick.C:
				}
				r.mu.Lock()
				gw := r.gw
				r.mu.Unlock()
				if tok == "" {
					tok = chaosToken(client, gw.base)
					if tok == "" {
						continue
					}
				}
				tr, status := chaosPublish(ctx, client, gw.base, tok, int(n.Add(1)))
				if status == 401 {
					tok = ""
				}
				if tr != "" {
					r.mu.Lock()
					r.accepted = append(r.accepted, tr)
					r.mu.Unlock()
				}
			}
		}()
	}
	wg.Wait()
}

func chaosToken(client *http.Client, base string) string {
	resp, err := client.PostForm(base+"/authentication/api/oauth/token", map[string][]string{
		"grant_type": {"client_credentials"}, "client_id": {"acme"}, "client_secret": {"acme-secret"}})
	if err != nil {
		return ""
	}
	defer resp.Body.Close()
	body, _ := io.ReadAll(resp.Body)
	const k = `"access_token":"`
	i := bytes.Index(body, []byte(k))
	if i < 0 {
		return ""
	}
	rest := body[i+len(k):]
	return string(rest[:max(0, bytes.IndexByte(rest, '"'))])
}

func chaosPublish(ctx context.Context, client *http.Client, base, tok string, i int) (string, int) {
	req, _ := http.NewRequestWithContext(ctx, "POST", base+"/api/v1/events", bytes.NewReader(envelopeFor(i)))
	req.Header.Set("Authorization", "Bearer "+tok)
	req.Header.Set("Content-Type", "application/json")
	resp, err := client.Do(req)
	if err != nil {
		return "", 0
	}
	defer resp.Body.Close()
	body, _ := io.ReadAll(resp.Body)
	if resp.StatusCode != 202 {
		return "", resp.StatusCode
	}
	return traceOf(body), 202
}

// watchStalls samples the gap since the last acknowledged delivery while
// the run goes on; the returned func stops it and gives the longest gap.
func (r *chaosRun) watchStalls() func() time.Duration {
	stop := sampleMax(50*time.Millisecond, func() int64 { return time.Now().UnixNano() - r.last.Load() })
	return func() time.Duration { return time.Duration(stop()) }
}

// drain waits until every accepted event reached every receiver, or limit
// passes, and returns the deliveries missing, the duplicates and the total.
func (r *chaosRun) drain(limit time.Duration) (lost, dup, delivered int) {
	deadline := time.Now().Add(limit)
	for {
		lost, dup, delivered = 0, 0, 0
		for _, rc := range r.rcv {
			rc.mu.Lock()
			for _, tr := range r.accepted {
				n := rc.got[tr]
				if n == 0 {
					lost++
				}
				if n > 1 {
					dup += n - 1
				}
				delivered += n
			}
			rc.mu.Unlock()
		}
		if lost == 0 || time.Now().After(deadline) {
			return
		}
		r.ensureUp()
		time.Sleep(200 * time.Millisecond)
	}
}

// crashReason picks the lines of a dead gateway's output that say why it
// died, instead of the whole goroutine dump.
func crashReason(out string) string {
	var why []string
	for _, line := range strings.Split(out, "\n") {
		if strings.Contains(line, "panic") || strings.Contains(line, "fatal") || strings.Contains(line, "SIG") ||
			strings.Contains(line, "no space") || strings.Contains(line, "exited") {
			why = append(why, line)
		}
	}
	return strings.Join(why[max(0, len(why)-8):], "\n")
}

// lockedWriter lets the child's stdout and stderr share one buffer.
type lockedWriter struct {
	mu sync.Mutex
	w  io.Writer
}

func (l *lockedWriter) String() string {
	l.mu.Lock()
	defer l.mu.Unlock()
	return fmt.Sprint(l.w)
}

func (l *lockedWriter) Write(p []byte) (int, error) {
	l.mu.Lock()
	defer l.mu.Unlock()
	return l.w.Write(p)
}
