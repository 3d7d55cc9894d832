package benchrun

import (
	"bytes"
	"context"
	"fmt"
	"net/http"
	"os/exec"
	"sync"
	"syscall"
	"time"

	"github.com/hookgate/hookgate/internal/childproc"
	"github.com/hookgate/hookgate/internal/procstat"
)

// StartProcess starts cmd (a `hookgate serve`) and waits until base/readyz
// answers 200, at most limit; on failure the process is killed. A process
// that exits first (a config error) fails it at once, not at the limit.
func StartProcess(ctx context.Context, cmd *exec.Cmd, base string, limit time.Duration) error {
	if err := cmd.Start(); err != nil {
		return err
	}
	ctx, cancel := context.WithTimeout(ctx, limit)
	defer cancel()
	t := time.NewTicker(20 * time.Millisecond)
	defer t.Stop()
	for {
		req, _ := http.NewRequestWithContext(ctx, "GET", base+"/readyz", nil)
		if resp, err := http.DefaultClient.Do(req); err == nil {
			resp.Body.Close()
			if resp.StatusCode == 200 {
				return nil
			}
		}
		if procstat.Exited(cmd.Process.Pid) {
			err := cmd.Wait()
			return fmt.Errorf("the gateway exited before it was ready (%v)", err)
		}
		select {
		case <-ctx.Done():
			cmd.Process.Kill()
			cmd.Wait()
			return fmt.Errorf("the gateway did not become ready within %v", limit)
		case <-t.C:
		}
	}
}

// gateway is one `hookgate serve` subprocess with its config in a temp
// folder; its sinks are its child processes.
type gateway struct {
	cmd  *exec.Cmd
	base string
	logs *tailBuffer
}

// startGateway runs binary serve with the config text written to dir.
func startGateway(ctx context.Context, binary, dir, config, addr string) (*gateway, error) {
	path := dir + "/gateway.hcl"
	if err := writeFile(path, config); err != nil {
		return nil, err
	}
	logs := &tailBuffer{max: 64 << 10}
	cmd := exec.Command(binary, "serve", "--config", path, "--log-level", "warn")
	cmd.Stdout, cmd.Stderr = logs, logs
	// A bench killed outright (a closed terminal's SIGHUP is handled, not
	// a SIGKILL) would leave the gateway serving and its sinks running.
	childproc.DieWithParent(cmd)
	g := &gateway{cmd: cmd, base: "http://" + addr, logs: logs}
	if err := StartProcess(ctx, cmd, g.base, time.Minute); err != nil {
		return nil, fmt.Errorf("%w; its log:\n%s", err, logs)
	}
	return g, nil
}

// stop ends the gateway gracefully (SIGTERM), which also stops its sinks.
func (g *gateway) stop() {
	if g.cmd.ProcessState != nil {
		return
	}
	g.cmd.Process.Signal(syscall.SIGTERM)
	done := make(chan struct{})
	go func() { g.cmd.Wait(); close(done) }()
	select {
	case <-done:
	case <-time.After(30 * time.Second):
		g.cmd.Process.Kill()
		<-done
	}
}

// cpu is the CPU time used so far by the gateway process and by its sink
// subprocesses together.
func (g *gateway) cpu() (gw, sinks time.Duration) {
	pid := g.cmd.Process.Pid
	for _, c := range procstat.Children(pid) {
		sinks += procstat.CPU(c)
	}
	return procstat.CPU(pid), sinks
}

// tailBuffer keeps the last max bytes written to it (a process's log).
type tailBuffer struct {
	mu  sync.Mutex
	buf bytes.Buffer
	max int
}

func (t *tailBuffer) Write(p []byte) (int, error) {
	t.mu.Lock()
	defer t.mu.Unlock()
	t.buf.Write(p)
	if over := t.buf.Len() - t.max; over > 0 {
		t.buf.Next(over)
	}
	return len(p), nil
}

func (t *tailBuffer) String() string {
	t.mu.Lock()
	defer t.mu.Unlock()
	return t.buf.String()
}
