package sdk

import (
	"context"
	"errors"
	"fmt"
	"io"
	"log/slog"
	"runtime/debug"
	"sync"
	"sync/atomic"
	"time"

	"go.opentelemetry.io/otel/trace"
	"google.golang.org/grpc"

	"github.com/hookgate/hookgate/plugins/internal/batch"
	sinkpb "github.com/hookgate/hookgate/plugins/proto"
)

// server is the sink side of sinkpb: it adapts the gRPC service to a Sink.
type server struct {
	sinkpb.UnimplementedSinkServer
	impl       Sink
	protocol   int // the negotiated contract version
	configured atomic.Bool
	// limits batch the results (protocol 3: set by Configure).
	limits atomic.Pointer[batch.Limits]
	// tracer records the sink's span of each call; nil when the gateway's
	// tracing is off (set by Configure, before any delivery).
	tracer trace.Tracer
}

func newServer(impl Sink, protocol int) *server {
	s := &server{impl: impl, protocol: protocol}
	s.limits.Store(&batch.Limits{Bytes: maxBatchBytes})
	return s
}

// Configure calls Sink.Configure; a rejection travels in the response so
// the host can tell bad settings from a broken process.
func (s *server) Configure(ctx context.Context, in *sinkpb.ConfigureRequest) (*sinkpb.ConfigureResponse, error) {
	cfg := Config{
		Name:                 in.GetName(),
		Settings:             in.GetSettings(),
		AllowHTTP:            in.GetAllowHttp(),
		AllowPrivateNetworks: in.GetAllowPrivateNetworks(),
	}
	if cfg.Settings == nil {
		cfg.Settings = map[string]string{}
	}
	if err := s.safeConfigure(ctx, cfg); err != nil {
		return &sinkpb.ConfigureResponse{Error: err.Error()}, nil
	}
	s.tracer = startTelemetry(ctx, in)
	if s.protocol >= ProtocolV3 {
		s.limits.Store(&batch.Limits{Bytes: maxBatchBytes, Max: int(in.GetBatchMax()),
			Linger: time.Duration(in.GetBatchLingerNs())})
	}
	s.configured.Store(true)
	return &sinkpb.ConfigureResponse{}, nil
}

func (s *server) safeConfigure(ctx context.Context, cfg Config) (err error) {
	defer func() {
		if p := recover(); p != nil {
			slog.Error("sink Configure panicked", "panic", fmt.Sprint(p), "stack", string(debug.Stack()))
			err = fmt.Errorf("sink panicked while configuring: %v", p)
		}
	}()
	return s.impl.Configure(ctx, cfg)
}

// Deliveries serves the delivery stream: each request runs on a worker
// goroutine (see workerPool); results are sent back in batches by the
// workers themselves (see resultSender).
func (s *server) Deliveries(stream grpc.BidiStreamingServer[sinkpb.HostBatch, sinkpb.SinkBatch]) error {
	// Request contexts hang off a shallow base, not off the stream's
	// context: that one carries gRPC's metadata, peer and transport values,
	// and net/http looks values up in a request's context several times
	// per request, walking the whole chain each time. The base still ends
	// when the stream does.
	ctx, cancel := context.WithCancel(context.Background())
	defer cancel()
	defer context.AfterFunc(stream.Context(), cancel)()

	var (
		handlers sync.WaitGroup
		flight   inflight
		results  = &resultSender{stream: stream, limits: *s.limits.Load(), busy: flight.running, broken: cancel}
		pool     = workerPool{run: func(j job) { s.run(j, results, &handlers, &flight) }}
	)
	recvErr := s.receive(ctx, stream, &pool, &handlers, &flight)
	if !errors.Is(recvErr, io.EOF) {
		// The host is gone: nobody will read the results.
		cancel()
	}
	// On a clean EOF the host stopped sending but still reads: let the
	// requests in flight finish and send their results (a worker returns
	// only once its result is sent or with the worker sending it).
	handlers.Wait()
	flushTelemetry()
	pool.stop()
	if errors.Is(recvErr, io.EOF) {
		return results.failed()
	}
	return recvErr
}

// job is one request handed to a worker, with its context.
type job struct {
	ctx context.Context
	pr  *sinkpb.DeliverRequest
}

// receive reads batches until the stream ends, handing each request to
// the pool. Requests are registered here, before they start, so that a
// cancel arriving in a later batch always finds its request.
func (s *server) receive(ctx context.Context, stream grpc.BidiStreamingServer[sinkpb.HostBatch, sinkpb.SinkBatch],
	pool *workerPool, handlers *sync.WaitGroup, flight *inflight) error {
	for {
		batch, err := stream.Recv()
		if err != nil {
			return err
		}
		for _, id := range batch.GetCancel() {
			flight.cancel(id)
		}
		for _, pr := range batch.GetRequests() {
			rctx, rcancel := requestContext(ctx, time.Duration(pr.GetTimeoutNs()))
			flight.add(pr.GetId(), rcancel)
			handlers.Add(1)
			pool.submit(job{ctx: rctx, pr: pr})
		}
	}
}

// run performs one request and sends its result. The request leaves the
// in-flight set before its result is queued, so that a sender, which
// lingers only while requests are running, never waits on it.
func (s *server) run(j job, results *resultSender, handlers *sync.WaitGroup, flight *inflight) {
	defer handlers.Done()
	res := s.handle(j.ctx, j.pr)
	flight.done(j.pr.GetId())
	results.add(res)
}

// requestContext bounds an attempt by its timeout; the host always sends
// one, but a zero must not mean "already expired".
func requestContext(ctx context.Context, timeout time.Duration) (context.Context, context.CancelFunc) {
	if timeout <= 0 {
		return context.WithCancel(ctx)
	}
	return context.WithTimeout(ctx, timeout)
}

// handle runs one attempt and never panics.
func (s *server) handle(ctx context.Context, pr *sinkpb.DeliverRequest) *sinkpb.DeliverResult {
	start := time.Now()
	var res *Result
	if !s.configured.Load() {
		res = &Result{Error: "sink used before Configure succeeded", Retryable: true}
	} else {
		req := requestFromProto(pr)
		var span trace.Span
		ctx, span = s.startSpan(ctx, req)
		res = s.safeDeliver(ctx, req)
		endSpan(span, res)
	}
	if res.Duration <= 0 {
		res.Duration = time.Since(start)
	}
	return resultToProto(pr.GetId(), res)
}

// safeDeliver turns a panic or an error from Deliver into a retryable
// failure of this attempt: one bad payload must not take down the process
// and every other delivery in flight with it.
func (s *server) safeDeliver(ctx context.Context, req *Request) (res *Result) {
	defer func() {
		if p := recover(); p != nil {
			slog.Error("sink Deliver panicked", "delivery", req.ID, "panic", fmt.Sprint(p), "stack", string(debug.Stack()))
			res = &Result{Error: fmt.Sprintf("sink panicked: %v", p), Retryable: true}
		}
	}()
	res, err := s.impl.Deliver(ctx, req)
	switch {
	case err != nil:
		return &Result{Error: "sink error: " + err.Error(), Retryable: true}
	case res == nil:
		return &Result{Error: "sink returned no result", Retryable: true}
	}
	return res
}

// maxBatchBytes keeps a result batch far below MaxMessageSize.
const maxBatchBytes = 4 << 20

// inflight maps request ids to the cancel funcs of their contexts.
type inflight struct {
	mu sync.Mutex
	m  map[uint64]context.CancelFunc
}

func (f *inflight) add(id uint64, cancel context.CancelFunc) {
	f.mu.Lock()
	if f.m == nil {
		f.m = make(map[uint64]context.CancelFunc)
	}
	f.m[id] = cancel
	f.mu.Unlock()
}

// done releases the request's context.
func (f *inflight) done(id uint64) { f.cancel(id) }

// running reports whether any request is still in flight.
func (f *inflight) running() bool {
	f.mu.Lock()
	defer f.mu.Unlock()
	return len(f.m) > 0
}

func (f *inflight) cancel(id uint64) {
	f.mu.Lock()
	c := f.m[id]
	delete(f.m, id)
	f.mu.Unlock()
	if c != nil {
		c()
	}
}
