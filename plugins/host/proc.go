package host

import (
	"context"
	"errors"
	"fmt"
	"os/exec"
	"sync"
	"sync/atomic"
	"time"

	"github.com/hashicorp/go-plugin"
	"google.golang.org/grpc"
	"google.golang.org/grpc/status"

	"github.com/hookgate/hookgate/plugins/internal/batch"
	sinkpb "github.com/hookgate/hookgate/plugins/proto"
	"github.com/hookgate/hookgate/plugins/sdk"
)

var errHostClosed = errors.New("plugin host closed")

// maxBatchBytes keeps a request batch far below sdk.MaxMessageSize.
const maxBatchBytes = 4 << 20

// proc is one running sink process and its delivery stream. When anything
// goes wrong with either it becomes dead for good; the supervisor replaces
// it with a new proc.
type proc struct {
	name     string
	protocol int // the contract version negotiated in the handshake
	client   *plugin.Client
	cmd      *exec.Cmd
	stream   grpc.BidiStreamingClient[sinkpb.HostBatch, sinkpb.SinkBatch]
	cancel   context.CancelFunc // ends the stream
	started  time.Time

	sendq  chan outMsg
	nextID atomic.Uint64
	grace  time.Duration // how long past its Timeout a request may go unanswered (Options.HungGrace)

	mu      sync.Mutex
	pending map[uint64]*waiter
	closed  bool // set by fail: no new waiter, every waiter told

	once    sync.Once
	dead    chan struct{} // closed by fail
	deadErr error         // why; set before dead is closed

	wg sync.WaitGroup // sendLoop, recvLoop and watchdog
}

// waiter is a caller waiting for its result. Exactly one value is sent on
// ch, by whoever takes the waiter out of pending under mu: the result
// (recvLoop), or nil when the process died (fail). Waiting on ch alone
// (and the caller's context) costs a delivery much less than a select
// over the process's death and a timer of its own.
type waiter struct {
	ch       chan *sinkpb.DeliverResult
	deadline time.Time // hung past it (watchdog)
	req      *sdk.Request
}

// outMsg is one item for the sender: a request, or the id of a request to
// cancel.
type outMsg struct {
	req    *sinkpb.DeliverRequest
	cancel uint64
}

func newProc(name string, client *plugin.Client, cmd *exec.Cmd, sc sinkpb.SinkClient, limits batch.Limits, grace time.Duration) (*proc, error) {
	ctx, cancel := context.WithCancel(context.Background())
	stream, err := sc.Deliveries(ctx)
	if err != nil {
		cancel()
		return nil, err
	}
	p := &proc{
		name:     name,
		protocol: client.NegotiatedVersion(),
		client:   client,
		cmd:      cmd,
		stream:   stream,
		cancel:   cancel,
		started:  time.Now(),
		sendq:    make(chan outMsg, 1024),
		grace:    grace,
		pending:  make(map[uint64]*waiter),
		dead:     make(chan struct{}),
	}
	limits.Bytes = maxBatchBytes
	requests := &batch.Collector[outMsg]{Q: p.sendq, Limits: limits, Size: msgSize, Busy: p.othersPending}
	p.wg.Add(3)
	go p.sendLoop(requests)
	go p.recvLoop()
	go p.watchdog()
	return p, nil
}

func (p *proc) isDead() bool {
	select {
	case <-p.dead:
		return true
	default:
		return false
	}
}

// fail marks the process dead (first reason wins) and ends the stream,
// which wakes every caller waiting on it.
func (p *proc) fail(err error) {
	p.once.Do(func() {
		p.deadErr = err
		close(p.dead)
		p.cancel()
		p.mu.Lock()
		p.closed = true
		for id, w := range p.pending {
			delete(p.pending, id)
			w.ch <- nil // buffered, and this waiter's only value
		}
		p.mu.Unlock()
	})
}

// watchdog fails the process when a request goes unanswered past its
// Timeout plus the grace: the sink is hung (it ignores its context, or
// its process stopped answering). It looks every grace/4, so a hung sink
// is found at most a quarter of the grace late.
func (p *proc) watchdog() {
	defer p.wg.Done()
	tick := time.NewTicker(max(p.grace/4, time.Millisecond))
	defer tick.Stop()
	for {
		select {
		case <-p.dead:
			return
		case now := <-tick.C:
			if w := p.overdue(now); w != nil {
				p.fail(fmt.Errorf("killed: no answer to delivery %s within %s (timeout %s + grace %s); the sink is hung",
					w.req.ID, w.req.Timeout+p.grace, w.req.Timeout, p.grace))
				p.kill()
				return
			}
		}
	}
}

// overdue returns a waiter past its deadline at now, or nil.
func (p *proc) overdue(now time.Time) *waiter {
	p.mu.Lock()
	defer p.mu.Unlock()
	for _, w := range p.pending {
		if now.After(w.deadline) {
			return w
		}
	}
	return nil
}

// kill ends a process that stopped answering, without go-plugin's
// graceful shutdown: a hung process would not honour it anyway.
func (p *proc) kill() {
	if p.cmd.Process != nil {
		_ = p.cmd.Process.Kill()
	}
}

// shutdown stops the process (gracefully if it still runs) and waits for
// the stream goroutines. Only the owner calls it, after fail.
func (p *proc) shutdown() {
	p.client.Kill()
	p.wg.Wait()
}

// broken handles a stream error: it waits briefly for the process to be
// reaped so the reason says how it ended, then fails the process.
func (p *proc) broken(err error) {
	if p.isDead() {
		return
	}
	deadline := time.Now().Add(exitPoll)
	for !p.client.Exited() && time.Now().Before(deadline) {
		time.Sleep(10 * time.Millisecond)
	}
	// ProcessState is set by cmd.Wait before go-plugin records the exit
	// under its lock, which Exited takes: reading it now is safe.
	if p.client.Exited() && p.cmd.ProcessState != nil {
		p.fail(errors.New(p.cmd.ProcessState.String()))
		return
	}
	if s, ok := status.FromError(err); ok {
		err = errors.New(s.Message())
	}
	p.fail(fmt.Errorf("delivery stream broke: %w", err))
	p.kill()
}

// sendLoop sends the queued requests and cancellations in batches (see
// batch.Collector): under load many share one message, when idle a request
// goes out at once.
func (p *proc) sendLoop(requests *batch.Collector[outMsg]) {
	defer p.wg.Done()
	var buf []outMsg
	for {
		msgs, open := requests.Next(p.dead, buf)
		if !open {
			return
		}
		hb := &sinkpb.HostBatch{Requests: make([]*sinkpb.DeliverRequest, 0, len(msgs))}
		for _, m := range msgs {
			if m.req == nil {
				hb.Cancel = append(hb.Cancel, m.cancel)
			} else {
				hb.Requests = append(hb.Requests, m.req)
			}
		}
		if err := p.stream.Send(hb); err != nil {
			p.broken(err)
			return
		}
		clear(msgs)
		buf = msgs
	}
}

// othersPending reports whether requests beyond the n of the batch being
// gathered wait for results: only then may the batch linger, since the
// sink is busy and its answers will come back together anyway.
func (p *proc) othersPending(n int) bool {
	p.mu.Lock()
	defer p.mu.Unlock()
	return len(p.pending) > n
}

func msgSize(m outMsg) int {
	if m.req == nil {
		return 8
	}
	n := len(m.req.Body) + len(m.req.Url) + 64
	for _, s := range m.req.Headers {
		n += len(s)
	}
	return n
}

// recvLoop hands each result to the caller waiting for its id.
func (p *proc) recvLoop() {
	defer p.wg.Done()
	for {
		batch, err := p.stream.Recv()
		if err != nil {
			p.broken(err)
			return
		}
		for _, r := range batch.GetResults() {
			p.mu.Lock()
			w := p.pending[r.GetId()]
			delete(p.pending, r.GetId())
			p.mu.Unlock()
			if w != nil {
				w.ch <- r // buffered: never blocks
			}
		}
	}
}

func (p *proc) forget(id uint64) {
	p.mu.Lock()
	delete(p.pending, id)
	p.mu.Unlock()
}

// deliver sends one request on the stream and waits for its result, the
// process's death (fail), or ctx. A request unanswered past its Timeout
// plus grace fails the process (watchdog), which ends the wait too.
func (p *proc) deliver(ctx context.Context, req *sdk.Request) (*sdk.Result, error) {
	id := p.nextID.Add(1)
	w := &waiter{ch: make(chan *sinkpb.DeliverResult, 1), deadline: time.Now().Add(req.Timeout + p.grace), req: req}
	p.mu.Lock()
	if p.closed {
		p.mu.Unlock()
		return p.exited(), nil
	}
	p.pending[id] = w
	p.mu.Unlock()

	m := outMsg{req: requestToProto(id, req)}
	select {
	case p.sendq <- m: // the usual case: room in the queue
	default:
		select {
		case p.sendq <- m:
		case <-p.dead:
			p.forget(id)
			return p.exited(), nil
		case <-ctx.Done():
			p.forget(id)
			return nil, ctx.Err()
		}
	}

	select {
	case r := <-w.ch:
		if r == nil {
			return p.exited(), nil
		}
		return resultFromProto(r), nil
	case <-ctx.Done():
		p.forget(id)
		select {
		case p.sendq <- outMsg{cancel: id}:
		default: // queue full: the sink's own deadline will end it
		}
		return nil, ctx.Err()
	}
}

func (p *proc) exited() *sdk.Result {
	return &sdk.Result{Error: fmt.Sprintf("sink %s exited: %v", p.name, p.deadErr), Retryable: true}
}
