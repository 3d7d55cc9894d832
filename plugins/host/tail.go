package host

import (
	"strings"
	"sync"
)

// tail keeps the last few KiB a sink wrote to stderr, so that a sink that
// dies while starting ("This binary is a plugin...", a config panic) can be
// explained in the error Start returns, not only in the log.
type tail struct {
	mu  sync.Mutex
	buf []byte
}

const tailSize = 4 << 10

func (t *tail) Write(p []byte) (int, error) {
	t.mu.Lock()
	defer t.mu.Unlock()
	t.buf = append(t.buf, p...)
	if len(t.buf) > tailSize {
		t.buf = append(t.buf[:0], t.buf[len(t.buf)-tailSize:]...)
	}
	return len(p), nil
}

// lastLines returns up to n non-empty lines, joined with " | ".
func (t *tail) lastLines(n int) string {
	t.mu.Lock()
	lines := strings.Split(strings.TrimSpace(string(t.buf)), "\n")
	t.mu.Unlock()
	var out []string
	for i := len(lines) - 1; i >= 0 && len(out) < n; i-- {
		if l := strings.TrimSpace(lines[i]); l != "" {
			out = append([]string{l}, out...)
		}
	}
	return strings.Join(out, " | ")
}
