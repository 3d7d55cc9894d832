package control

import (
	"context"
	"encoding/json"
	"errors"
	"io"
	"log/slog"
	"net"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"
)

func quiet() *slog.Logger { return slog.New(slog.NewTextHandler(io.Discard, nil)) }

func TestCallAnswersAndRefusals(t *testing.T) {
	path := SocketPath(t.TempDir())
	srv, err := Listen(path, map[string]Handler{
		"echo": func(_ context.Context, req json.RawMessage) (any, error) {
			var in struct{ Name string }
			if err := json.Unmarshal(req, &in); err != nil {
				return nil, err
			}
			if in.Name == "" {
				return nil, errors.New("no name given")
			}
			return map[string]string{"hello": in.Name}, nil
		},
	}, quiet())
	if err != nil {
		t.Fatal(err)
	}
	st, err := os.Stat(path)
	if err != nil || st.Mode().Perm() != 0o600 || st.Mode().Type() != os.ModeSocket {
		t.Fatalf("socket %v mode %v, want a 0600 socket", err, st.Mode())
	}
	ctx, cancel := context.WithTimeout(context.Background(), 10*time.Second)
	defer cancel()
	var out map[string]string
	if err := Call(ctx, path, "echo", map[string]string{"name": "erp"}, &out); err != nil || out["hello"] != "erp" {
		t.Errorf("echo: %v %v", out, err)
	}
	var refused *RefusedError
	if err := Call(ctx, path, "echo", map[string]string{}, &out); !errors.As(err, &refused) || refused.Message != "no name given" {
		t.Errorf("refusal: %v", err)
	}
	if err := Call(ctx, path, "nope", nil, &out); err == nil || !strings.Contains(err.Error(), `does not know "nope"`) {
		t.Errorf("unknown operation: %v", err)
	}
	// A request past maxRequest is refused whole; the handler never runs.
	big := map[string]string{"name": strings.Repeat("a", maxRequest)}
	if err := Call(ctx, path, "echo", big, &out); !errors.As(err, &refused) || !strings.Contains(refused.Message, "too large") {
		t.Errorf("oversized request: %v", err)
	}
	// A second gateway on the same data folder is refused while the first answers.
	if _, err := Listen(path, nil, quiet()); err == nil || !strings.Contains(err.Error(), "another gateway answers") {
		t.Errorf("second listener: %v", err)
	}
	if err := srv.Close(ctx); err != nil {
		t.Fatal(err)
	}
	if _, err := os.Lstat(path); !os.IsNotExist(err) {
		t.Errorf("socket file left after Close: %v", err)
	}
	if err := Call(ctx, path, "echo", map[string]string{"name": "x"}, &out); !errors.Is(err, ErrNoGateway) {
		t.Errorf("after Close: %v, want ErrNoGateway", err)
	}
}

// TestStaleSocketIsReplaced: a socket file left by a killed gateway (no
// one listening) does not stop the next one from starting, and a caller
// meanwhile gets ErrNoGateway.
func TestStaleSocketIsReplaced(t *testing.T) {
	path := SocketPath(t.TempDir())
	ln, err := net.Listen("unix", path)
	if err != nil {
		t.Fatal(err)
	}
	ln.(*net.UnixListener).SetUnlinkOnClose(false)
	ln.Close() // the file stays, as after a kill -9
	if _, err := os.Lstat(path); err != nil {
		t.Fatal(err)
	}
	ctx := context.Background()
	if err := Call(ctx, path, "x", nil, nil); !errors.Is(err, ErrNoGateway) {
		t.Errorf("stale socket: %v, want ErrNoGateway", err)
	}
	srv, err := Listen(path, map[string]Handler{"x": func(context.Context, json.RawMessage) (any, error) { return 1, nil }}, quiet())
	if err != nil {
		t.Fatalf("over a stale socket: %v", err)
	}
	defer srv.Close(ctx)
	var n int
	if err := Call(ctx, path, "x", nil, &n); err != nil || n != 1 {
		t.Errorf("call: %d %v", n, err)
	}
}

func TestLongSocketPath(t *testing.T) {
	if _, err := Listen(filepath.Join("/tmp", strings.Repeat("d", 120), SocketName), nil, quiet()); err == nil || !strings.Contains(err.Error(), "shorter storage.path") {
		t.Errorf("long path: %v", err)
	}
}
