package sdk

import (
	"errors"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	"google.golang.org/grpc"

	"github.com/hookgate/hookgate/plugins/internal/batch"
	sinkpb "github.com/hookgate/hookgate/plugins/proto"
)

// fakeResults is the sink's end of a delivery stream, recording what is
// sent; send, when set, decides each Send's fate.
type fakeResults struct {
	grpc.ServerStream
	mu   sync.Mutex
	sent [][]uint64
	send func(n int) error
}

func (f *fakeResults) Send(b *sinkpb.SinkBatch) error {
	f.mu.Lock()
	n := len(f.sent)
	var ids []uint64
	for _, r := range b.GetResults() {
		ids = append(ids, r.GetId())
	}
	f.sent = append(f.sent, ids)
	f.mu.Unlock()
	if f.send != nil {
		return f.send(n)
	}
	return nil
}

func (f *fakeResults) Recv() (*sinkpb.HostBatch, error) { return nil, errors.New("not used") }

// TestResultSenderWorkersSendTheirOwn: while one worker sends, the others
// queue their results and return at once; that worker then sends them all
// too, within the count limit, none lost.
func TestResultSenderWorkersSendTheirOwn(t *testing.T) {
	release := make(chan struct{})
	stream := &fakeResults{send: func(n int) error {
		if n == 0 {
			<-release // the first send is slow
		}
		return nil
	}}
	s := &resultSender{stream: stream, limits: batch.Limits{Max: 4}, busy: func() bool { return false }, broken: func() { t.Error("broken") }}
	first := make(chan struct{})
	go func() { s.add(&sinkpb.DeliverResult{Id: 1}); close(first) }()
	for deadline := time.Now().Add(5 * time.Second); ; {
		stream.mu.Lock()
		started := len(stream.sent) == 1
		stream.mu.Unlock()
		if started {
			break
		}
		if time.Now().After(deadline) {
			t.Fatal("the first result was never sent")
		}
		time.Sleep(time.Millisecond)
	}
	for id := uint64(2); id <= 10; id++ {
		s.add(&sinkpb.DeliverResult{Id: id}) // returns at once: worker 1 is sending
	}
	close(release)
	<-first
	var all []uint64
	for i, ids := range stream.sent {
		if len(ids) > 4 {
			t.Errorf("message %d has %d results, the limit is 4", i, len(ids))
		}
		all = append(all, ids...)
	}
	if len(all) != 10 || len(stream.sent) != 4 { // 1, then 2-5, 6-9, 10
		t.Fatalf("sent %v, want the 10 results in 4 messages", stream.sent)
	}
	for i, id := range all {
		if id != uint64(i+1) {
			t.Fatalf("sent %v, want 1..10 in order", stream.sent)
		}
	}
}

// TestResultSenderFailedSend: a failed send reports the stream broken
// once, and later results are dropped, not sent.
func TestResultSenderFailedSend(t *testing.T) {
	stream := &fakeResults{send: func(int) error { return errors.New("host gone") }}
	var broken atomic.Int32
	s := &resultSender{stream: stream, busy: func() bool { return false }, broken: func() { broken.Add(1) }}
	for id := uint64(1); id <= 3; id++ {
		s.add(&sinkpb.DeliverResult{Id: id})
	}
	if broken.Load() != 1 || len(stream.sent) != 1 || s.failed() == nil {
		t.Fatalf("broken %d times, %d sends, err %v; want 1, 1, the error", broken.Load(), len(stream.sent), s.failed())
	}
}

// TestResultSenderLingersOnlyWhileBusy: with requests still running a
// result waits the linger for others; with none it goes at once, however
// long the linger.
func TestResultSenderLingersOnlyWhileBusy(t *testing.T) {
	idle := &resultSender{stream: &fakeResults{}, limits: batch.Limits{Linger: time.Hour}, busy: func() bool { return false }, broken: func() {}}
	done := make(chan struct{})
	go func() { idle.add(&sinkpb.DeliverResult{Id: 1}); close(done) }()
	select {
	case <-done:
	case <-time.After(5 * time.Second):
		t.Fatal("a result lingered with no request running")
	}
	busy := &resultSender{stream: &fakeResults{}, limits: batch.Limits{Linger: 20 * time.Millisecond}, busy: func() bool { return true }, broken: func() {}}
	start := time.Now()
	busy.add(&sinkpb.DeliverResult{Id: 1})
	if waited := time.Since(start); waited < 20*time.Millisecond {
		t.Fatalf("sent after %v with requests running, want the 20ms linger", waited)
	}
}
