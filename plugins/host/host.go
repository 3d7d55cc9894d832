// Package host launches sink plugin processes, keeps them running and
// delivers requests to them.
//
// Each sink runs in its own process (go-plugin over gRPC). The host keeps
// one long-lived delivery stream per process and multiplexes every
// concurrent Deliver call onto it. A process that dies, or does not answer
// within the request's timeout plus a grace period, is killed and restarted
// with backoff; the requests that were in flight on it fail as retryable.
package host

import (
	"context"
	"errors"
	"fmt"
	"log/slog"
	"os"
	"os/exec"
	"sync"
	"time"

	"github.com/hookgate/hookgate/plugins/sdk"
	"github.com/hookgate/hookgate/telemetry"
)

// Spec describes one sink to run.
type Spec struct {
	Name     string            // the sink block's label; Deliver addresses it by this name
	Type     string            // a built-in sink ("http"); exclusive with Command
	Command  string            // path of a custom sink binary; exclusive with Type
	SHA256   string            // when set, the binary's hex SHA-256 must match before it is run
	Settings map[string]string // passed to Sink.Configure
	// CPUs, when above 0, is the process's GOMAXPROCS, set in its
	// environment over any the gateway's environment holds.
	CPUs int
}

// Options configures a Host. The zero value is usable.
type Options struct {
	// BuiltinCommand returns the command that runs built-in sink typ in
	// plugin mode; default: this executable with args "sink", typ.
	BuiltinCommand func(typ string) *exec.Cmd
	// AllowHTTP and AllowPrivateNetworks are the network policy every sink
	// is configured with.
	AllowHTTP, AllowPrivateNetworks bool
	// Logger receives the host's and the sinks' logs (with sink=<name>);
	// default slog.Default().
	Logger *slog.Logger
	// HungGrace is how long past a request's Timeout the host waits for an
	// answer before it declares the sink hung and restarts it; default 5s.
	HungGrace time.Duration
	// RestartBackoff is the first delay before restarting a sink that
	// exited, doubling up to MaxRestartBackoff; defaults 50ms and 30s.
	RestartBackoff, MaxRestartBackoff time.Duration
	// StartTimeout bounds launching one process and its Configure call;
	// default 30s.
	StartTimeout time.Duration
	// BatchMax and BatchLinger batch the delivery stream both ways: at
	// most BatchMax requests (results) per message, and a request (a
	// result) waits at most BatchLinger for others to share its message,
	// only while others are in flight. The sink applies them to its
	// results when it speaks protocol 3. Zero: no count limit, no
	// linger (a message carries whatever is queued).
	BatchMax    int
	BatchLinger time.Duration
	// Telemetry is where each sink exports its own spans (sent in
	// Configure); a sink's service name is Telemetry.ServiceName +
	// "-sink-" + its name. Zero: tracing off.
	Telemetry telemetry.Settings
}

func (o *Options) setDefaults() {
	if o.Logger == nil {
		o.Logger = slog.Default()
	}
	if o.BuiltinCommand == nil {
		o.BuiltinCommand = selfCommand
	}
	def := func(d *time.Duration, v time.Duration) {
		if *d <= 0 {
			*d = v
		}
	}
	def(&o.HungGrace, 5*time.Second)
	def(&o.RestartBackoff, 50*time.Millisecond)
	def(&o.MaxRestartBackoff, 30*time.Second)
	def(&o.StartTimeout, 30*time.Second)
}

// selfCommand runs a built-in sink from this very executable, so a fresh
// install is one binary yet every sink is its own process.
func selfCommand(typ string) *exec.Cmd {
	exe, err := os.Executable()
	if err != nil {
		exe = os.Args[0]
	}
	return exec.Command(exe, "sink", typ)
}

// ErrClosed is returned by Deliver and Start after Close.
var ErrClosed = errors.New("plugin host closed")

// Host runs a set of sinks. Its methods are safe for concurrent use.
type Host struct {
	opts Options

	mu      sync.Mutex
	sinks   map[string]*supervisor
	started bool
	closed  bool

	ctx    context.Context // canceled by Close; parent of every supervisor
	cancel context.CancelFunc
	wg     sync.WaitGroup // supervisors
}

// New returns a Host that has started nothing yet.
func New(opts Options) *Host {
	opts.setDefaults()
	ctx, cancel := context.WithCancel(context.Background())
	return &Host{opts: opts, sinks: map[string]*supervisor{}, ctx: ctx, cancel: cancel}
}

// Start launches every sink and configures it. It returns the first error,
// a *SinkError naming the sink (`sink "snow": instance_url: must be https`),
// after stopping whatever it had started. Start may be called once.
func (h *Host) Start(ctx context.Context, specs []Spec) error {
	if err := validateSpecs(specs); err != nil {
		return err
	}
	h.mu.Lock()
	defer h.mu.Unlock()
	switch {
	case h.closed:
		return ErrClosed
	case h.started:
		return errors.New("plugin host already started")
	}
	h.started = true
	sups := make([]*supervisor, 0, len(specs))
	for _, spec := range specs {
		s := newSupervisor(spec, &h.opts, h.ctx.Done())
		if err := s.start(ctx); err != nil {
			for _, started := range sups {
				started.stop()
			}
			return &SinkError{Sink: spec.Name, Err: err}
		}
		sups = append(sups, s)
	}
	for _, s := range sups {
		h.sinks[s.spec.Name] = s
		h.wg.Add(1)
		go func() {
			defer h.wg.Done()
			s.supervise(h.ctx)
		}()
	}
	return nil
}

func validateSpecs(specs []Spec) error {
	seen := map[string]bool{}
	for _, s := range specs {
		switch {
		case s.Name == "":
			return errors.New("a sink has no name")
		case seen[s.Name]:
			return fmt.Errorf("sink %q: defined twice", s.Name)
		case (s.Type == "") == (s.Command == ""):
			return fmt.Errorf("sink %q: set exactly one of type (a built-in sink) or command (a custom binary)", s.Name)
		}
		seen[s.Name] = true
	}
	return nil
}

// Deliver sends req to the named sink and waits for its result. Whatever
// happens to the sink (exit, hang, restart) is reported as a failed Result;
// the error is for the caller's mistakes and for ctx ending: an unknown
// sink, a request without a Timeout, a closed host.
func (h *Host) Deliver(ctx context.Context, sink string, req *sdk.Request) (*sdk.Result, error) {
	h.mu.Lock()
	s, closed := h.sinks[sink], h.closed
	h.mu.Unlock()
	switch {
	case closed:
		return nil, ErrClosed
	case s == nil:
		return nil, fmt.Errorf("unknown sink %q", sink)
	case req.Timeout <= 0:
		return nil, errors.New("request has no Timeout")
	case len(req.Body) > sdk.MaxRequestBody:
		return &sdk.Result{Error: fmt.Sprintf("request body of %d bytes exceeds the %d-byte limit", len(req.Body), sdk.MaxRequestBody)}, nil
	}
	return s.deliver(ctx, req)
}

// Close stops every sink process (gracefully, then by force) and every
// goroutine the host owns. Requests in flight fail as retryable.
func (h *Host) Close() error {
	h.mu.Lock()
	if h.closed {
		h.mu.Unlock()
		return nil
	}
	h.closed = true
	h.mu.Unlock()

	h.cancel()
	h.wg.Wait() // supervisors stop restarting before the processes go
	var wg sync.WaitGroup
	for _, s := range h.sinks {
		wg.Add(1)
		go func() {
			defer wg.Done()
			s.stop()
		}()
	}
	wg.Wait()
	return nil
}
