package sdk

import (
	"runtime"
	"sync"
	"time"

	"google.golang.org/grpc"

	"github.com/hookgate/hookgate/plugins/internal/batch"
	sinkpb "github.com/hookgate/hookgate/plugins/proto"
)

// resultSender sends a delivery stream's results in batches, without a
// goroutine of its own: the worker that queues a result while no send is
// under way sends it, with whatever the others queue meanwhile (they
// return at once). Handing each result to a sender goroutine cost a
// wake-up of that goroutine per message. Batches are bounded and linger
// as batch.Limits says, as the host's are.
type resultSender struct {
	stream grpc.BidiStreamingServer[sinkpb.HostBatch, sinkpb.SinkBatch]
	limits batch.Limits
	// busy reports whether requests are still running: a result lingers
	// for others only then.
	busy func() bool
	// broken is called once when a send fails: the host is gone, so the
	// requests in flight can stop.
	broken func()

	mu      sync.Mutex
	queue   []*sinkpb.DeliverResult
	spare   []*sinkpb.DeliverResult // the last sent queue, for reuse
	sending bool                    // a worker is sending: it takes what is queued
	err     error                   // the first failed send; later results are dropped
}

// add queues r and, unless another worker is sending, sends it and all
// that is queued until the queue is empty. It returns when r is sent, or
// handed to the worker that is sending, or dropped after a failed send.
func (s *resultSender) add(r *sinkpb.DeliverResult) {
	s.mu.Lock()
	if s.err != nil {
		s.mu.Unlock()
		return
	}
	s.queue = append(s.queue, r)
	if s.sending {
		s.mu.Unlock()
		return
	}
	s.sending = true
	s.mu.Unlock()
	// Let the workers about to queue a result run first, so that under
	// load they share this message; when nothing else is runnable this
	// returns at once. Then linger only while more results are coming.
	runtime.Gosched()
	if s.limits.Linger > 0 && s.busy() && !s.full() {
		time.Sleep(s.limits.Linger)
	}
	s.mu.Lock()
	for len(s.queue) > 0 && s.err == nil {
		rs := s.queue
		s.queue = s.spare[:0]
		s.mu.Unlock()
		err := s.send(rs)
		clear(rs) // sent (marshalled) or dropped: the slice can be reused
		s.mu.Lock()
		s.spare = rs[:0]
		if err != nil {
			s.err = err
			clear(s.queue)
			s.queue = s.queue[:0]
			s.mu.Unlock()
			s.broken()
			s.mu.Lock()
		}
	}
	s.sending = false
	s.mu.Unlock()
}

// full reports whether what is queued already makes a whole batch.
func (s *resultSender) full() bool {
	s.mu.Lock()
	defer s.mu.Unlock()
	return len(s.batchOf(s.queue)) < len(s.queue) || (s.limits.Max > 0 && len(s.queue) >= s.limits.Max)
}

// send sends rs in as many messages as the limits make of it.
func (s *resultSender) send(rs []*sinkpb.DeliverResult) error {
	for len(rs) > 0 {
		b := s.batchOf(rs)
		if err := s.stream.Send(&sinkpb.SinkBatch{Results: b}); err != nil {
			return err
		}
		rs = rs[len(b):]
	}
	return nil
}

// batchOf is the first message's worth of rs: at most limits.Max results
// and limits.Bytes approximate bytes, and at least one.
func (s *resultSender) batchOf(rs []*sinkpb.DeliverResult) []*sinkpb.DeliverResult {
	size := 0
	for i, r := range rs {
		if i > 0 && ((s.limits.Max > 0 && i >= s.limits.Max) || (s.limits.Bytes > 0 && size >= s.limits.Bytes)) {
			return rs[:i]
		}
		size += resultSize(r)
	}
	return rs
}

// failed is the first send's error, nil if none failed.
func (s *resultSender) failed() error {
	s.mu.Lock()
	defer s.mu.Unlock()
	return s.err
}

func resultSize(r *sinkpb.DeliverResult) int {
	n := len(r.GetBody()) + len(r.GetError()) + 64
	for _, s := range r.GetHeaders() {
		n += len(s)
	}
	return n
}
