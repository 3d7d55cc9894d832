// Package control is the running gateway's local control channel: a unix
// socket in the data folder, beside the pid file, that `hookgate reload`
// and `hookgate secret` call. The socket is mode 0600 in a folder only the
// gateway's user can write, so whoever may open it may already read the
// data folder and its key: the file permissions are the authorization, as
// with Docker's and Caddy's local admin sockets. It is plain HTTP over the
// socket (net/http, no Fiber): one POST /v1/OPERATION per call, JSON in and
// out, an error answered as {"error": "..."} with status 409.
package control

import (
	"bytes"
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"log/slog"
	"net"
	"net/http"
	"os"
	"path/filepath"
	"syscall"
	"time"
)

// SocketName is the socket's file name in the data folder (storage.path).
const SocketName = "hookgate.sock"

// maxRequest bounds a request body: operations take a path or a name.
const maxRequest = 64 << 10

// maxSocketPath is the longest socket path Linux accepts (sun_path holds
// 108 bytes with the terminating NUL; macOS 104).
const maxSocketPath = 103

// SocketPath is where the gateway whose data folder is dataDir listens.
func SocketPath(dataDir string) string { return filepath.Join(dataDir, SocketName) }

// Handler answers one operation: req is the request body (JSON); the
// result is encoded as the answer. An error is answered to the caller as
// its message.
type Handler func(ctx context.Context, req json.RawMessage) (any, error)

// Server answers the operations on the socket until Close.
type Server struct {
	path string
	srv  *http.Server
	done chan struct{}
}

// Listen opens the socket at path and serves handlers (by operation name)
// on it. A socket file left by a gateway that was killed is replaced; one
// that another process still answers on is an error.
func Listen(path string, handlers map[string]Handler, log *slog.Logger) (*Server, error) {
	if len(path) > maxSocketPath {
		return nil, fmt.Errorf("control socket %s: the path is longer than the %d bytes a unix socket allows; use a shorter storage.path", path, maxSocketPath)
	}
	if _, err := os.Lstat(path); err == nil {
		if c, err := net.DialTimeout("unix", path, time.Second); err == nil {
			c.Close()
			return nil, fmt.Errorf("control socket %s: another gateway answers on it (two gateways on one data folder?)", path)
		}
		if err := os.Remove(path); err != nil {
			return nil, fmt.Errorf("control socket %s: removing the one left by a stopped gateway: %w", path, err)
		}
	}
	ln, err := net.Listen("unix", path)
	if err != nil {
		return nil, fmt.Errorf("control socket: %w", err)
	}
	// Listen creates the file with the umask's mode; narrow it before the
	// first Accept.
	if err := os.Chmod(path, 0o600); err != nil {
		ln.Close()
		return nil, fmt.Errorf("control socket %s: %w", path, err)
	}
	mux := http.NewServeMux()
	for op, h := range handlers {
		mux.HandleFunc("POST /v1/"+op, func(w http.ResponseWriter, r *http.Request) {
			body, err := io.ReadAll(http.MaxBytesReader(w, r.Body, maxRequest))
			if err != nil {
				// Past the limit the handler never sees a prefix of the request.
				answer(w, http.StatusBadRequest, errorBody{Error: "reading the request: " + err.Error()})
				return
			}
			res, err := h(r.Context(), body)
			if err != nil {
				answer(w, http.StatusConflict, errorBody{Error: err.Error()})
				return
			}
			answer(w, http.StatusOK, res)
		})
	}
	s := &Server{path: path, done: make(chan struct{}),
		srv: &http.Server{Handler: mux, ReadHeaderTimeout: 10 * time.Second, ErrorLog: slog.NewLogLogger(log.Handler(), slog.LevelWarn)}}
	go func() {
		defer close(s.done)
		if err := s.srv.Serve(ln); !errors.Is(err, http.ErrServerClosed) {
			log.Error("control socket stopped", "path", path, "err", err)
		}
	}()
	return s, nil
}

// Close stops answering, waits for calls in progress until ctx ends, and
// removes the socket file.
func (s *Server) Close(ctx context.Context) error {
	err := s.srv.Shutdown(ctx)
	<-s.done
	if rmErr := os.Remove(s.path); rmErr != nil && !errors.Is(rmErr, os.ErrNotExist) {
		err = errors.Join(err, rmErr)
	}
	return err
}

type errorBody struct {
	Error string `json:"error"`
}

func answer(w http.ResponseWriter, status int, v any) {
	w.Header().Set("Content-Type", "application/json")
	w.WriteHeader(status)
	json.NewEncoder(w).Encode(v)
}

// ErrNoGateway is returned by Call when nothing listens on the socket.
var ErrNoGateway = errors.New("no gateway answers")

// RefusedError is an operation the gateway refused, with its reason.
type RefusedError struct{ Message string }

func (e *RefusedError) Error() string { return e.Message }

// Call runs operation op on the gateway listening at socket: req is sent
// as JSON and the answer decoded into resp. Errors: ErrNoGateway (wrapped)
// when no gateway listens, *RefusedError when the gateway refused.
func Call(ctx context.Context, socket, op string, req, resp any) error {
	body, err := json.Marshal(req)
	if err != nil {
		return err
	}
	client := &http.Client{Transport: &http.Transport{
		DialContext: func(ctx context.Context, _, _ string) (net.Conn, error) {
			var d net.Dialer
			return d.DialContext(ctx, "unix", socket)
		},
	}}
	defer client.CloseIdleConnections()
	// The host is a placeholder: the dialer above chooses the socket.
	r, err := http.NewRequestWithContext(ctx, http.MethodPost, "http://hookgate/v1/"+op, bytes.NewReader(body))
	if err != nil {
		return err
	}
	r.Header.Set("Content-Type", "application/json")
	res, err := client.Do(r)
	if err != nil {
		if errors.Is(err, os.ErrNotExist) || errors.Is(err, syscall.ECONNREFUSED) {
			return fmt.Errorf("%w on %s", ErrNoGateway, socket)
		}
		return err
	}
	defer res.Body.Close()
	switch res.StatusCode {
	case http.StatusOK:
		return json.NewDecoder(res.Body).Decode(resp)
	case http.StatusConflict, http.StatusBadRequest:
		var e errorBody
		if err := json.NewDecoder(res.Body).Decode(&e); err != nil {
			return fmt.Errorf("control socket %s: %s", socket, res.Status)
		}
		return &RefusedError{Message: e.Error}
	case http.StatusNotFound, http.StatusMethodNotAllowed:
		return fmt.Errorf("the gateway on %s does not know %q (an older hookgate? restart it with this one)", socket, op)
	default:
		return fmt.Errorf("control socket %s: %s", socket, res.Status)
	}
}
