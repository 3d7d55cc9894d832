//go:build logproto

package badger_test

// The lower bound of a delivery path without an LSM, measured beside the
// Store with the same drain (docs/measurements.md, "Stop 29"). Not a store:
// no fairness, retention, listing or recovery beyond rebuilding the queue.
//
//	go test -tags logproto -run '^$' -bench DrainBacklogLogPrototype ./store/badger/
//
// The queue lives in memory over an append-only log of events and
// deliveries, read back through a read-only mapping; outcomes are appended
// to a second log, one write per recorder batch, with an fsync at most
// every 200 ms (the gateway's storage.outcome_sync_delay); the indexes a
// delivery log needs (by delivery, by webhook) are maps in memory. "null"
// is the harness alone: claims from a slice, one event, nothing recorded.

import (
	"context"
	"encoding/binary"
	"fmt"
	"os"
	"path/filepath"
	"strings"
	"sync"
	"syscall"
	"testing"
	"time"

	"github.com/hookgate/hookgate/store"
	"github.com/hookgate/hookgate/store/badger"
)

func BenchmarkDrainBacklogLogPrototype(b *testing.B) {
	// The bench's 1.5 KB envelope, and one of ~500 bytes as `hookgate
	// bench` publishes.
	small := []byte(`{"event":{"name":"workorder.status.published","params":{"workorder_id":12345}},"timestamp":"2026-03-01T12:00:00Z","triggered_by_user":{"id":7},"workorder":{"id":12345,"title":"` +
		strings.Repeat("x", 330) + `"}}`)
	for _, pl := range []struct {
		name    string
		payload []byte
	}{{"1.5KB", payload}, {"0.5KB", small}} {
		for _, kind := range []string{"store", "log", "null"} {
			b.Run(pl.name+"/"+kind, func(b *testing.B) { benchPrototype(b, kind, pl.payload) })
		}
	}
}

func benchPrototype(b *testing.B, kind string, pl []byte) {
	if kind == "store" {
		benchDrainOf(b, true, 200*time.Millisecond, pl)
		return
	}
	const n = 20000
	var cost drainCost
	for range b.N {
		b.StopTimer()
		dir, now := b.TempDir(), time.Now()
		items := make([]store.IngestItem, n)
		for i := range items {
			items[i] = benchItem(1, now.Add(time.Duration(i)*time.Microsecond))
			items[i].Event.Payload = pl
		}
		var s drainStore
		done := func() {}
		if kind == "log" {
			writeLogProto(b, dir, items)
			p := openLogProto(b, dir)
			s, done = p, p.close
		} else {
			np := &nullProto{ev: items[0].Event}
			for _, it := range items {
				np.queue = append(np.queue, it.Deliveries[0])
			}
			s = np
		}
		b.StartTimer()
		cost.drain(b, s, n, now.Add(time.Hour), true)
		b.StopTimer()
		done()
	}
	cost.report(b, n)
}

// logProto is the prototype: see the file's comment.
type logProto struct {
	mu       sync.Mutex
	queue    [][]byte            // encoded deliveries in due order
	head     int                 // the next to claim
	eventAt  map[string][2]int64 // event id: offset and length in events
	events   []byte              // the events log, mapped read-only
	eventsF  *os.File
	outcomes *os.File
	written  int64
	synced   time.Time
	buf      []byte
	// The delivery log's indexes: where each delivery's last attempt and
	// each webhook's attempts are.
	byDelivery map[string]int64
	byWebhook  map[string][]int64
}

func appendFrame(b []byte, kind byte, v []byte) []byte {
	b = append(b, kind)
	b = binary.AppendUvarint(b, uint64(len(v)))
	return append(b, v...)
}

// writeLogProto writes items as an ingest would: each event, then its
// deliveries.
func writeLogProto(b *testing.B, dir string, items []store.IngestItem) {
	var buf []byte
	for _, it := range items {
		buf = appendFrame(buf, 'e', badger.EncodeEventRecord(it.Event, []string{it.Deliveries[0].ID}))
		buf = appendFrame(buf, 'q', badger.EncodeDeliveryRecord(it.Deliveries[0]))
	}
	if err := os.WriteFile(filepath.Join(dir, "events.log"), buf, 0o600); err != nil {
		b.Fatal(err)
	}
}

// openLogProto rebuilds the queue and the events' index from the log, as a
// start after an outage would.
func openLogProto(b *testing.B, dir string) *logProto {
	p := &logProto{eventAt: map[string][2]int64{}, byDelivery: map[string]int64{}, byWebhook: map[string][]int64{}}
	var err error
	if p.eventsF, err = os.Open(filepath.Join(dir, "events.log")); err != nil {
		b.Fatal(err)
	}
	st, err := p.eventsF.Stat()
	if err != nil {
		b.Fatal(err)
	}
	if p.events, err = syscall.Mmap(int(p.eventsF.Fd()), 0, int(st.Size()), syscall.PROT_READ, syscall.MAP_SHARED); err != nil {
		b.Fatal(err)
	}
	for off := 0; off < len(p.events); {
		l, k := binary.Uvarint(p.events[off+1:])
		start := off + 1 + k
		v := p.events[start : start+int(l)]
		switch p.events[off] {
		case 'e':
			ev, err := badger.DecodeEventRecord(v)
			if err != nil {
				b.Fatal(err)
			}
			p.eventAt[ev.ID] = [2]int64{int64(start), int64(l)}
		case 'q':
			p.queue = append(p.queue, v)
		}
		off = start + int(l)
	}
	if p.outcomes, err = os.Create(filepath.Join(dir, "outcomes.log")); err != nil {
		b.Fatal(err)
	}
	p.synced = time.Now()
	return p
}

func (p *logProto) close() {
	_ = p.outcomes.Sync()
	_ = p.outcomes.Close()
	_ = syscall.Munmap(p.events)
	_ = p.eventsF.Close()
}

func (p *logProto) ClaimDue(_ context.Context, _ int, _ time.Time, limit int) ([]*store.Delivery, error) {
	p.mu.Lock()
	defer p.mu.Unlock()
	var out []*store.Delivery
	for ; limit > 0 && p.head < len(p.queue); limit-- {
		d, err := badger.DecodeDeliveryRecord(p.queue[p.head])
		if err != nil {
			return nil, err
		}
		p.queue[p.head] = nil
		p.head++
		out = append(out, d)
	}
	return out, nil
}

func (p *logProto) GetEvent(_ context.Context, id string) (*store.Event, error) {
	p.mu.Lock()
	at, ok := p.eventAt[id]
	p.mu.Unlock()
	if !ok {
		return nil, fmt.Errorf("no event %s", id)
	}
	return badger.DecodeEventRecord(p.events[at[0] : at[0]+at[1]])
}

func (p *logProto) RecordAttempt(ctx context.Context, d *store.Delivery, a *store.Attempt) error {
	return p.RecordAttempts(ctx, []store.AttemptRecord{{Delivery: d, Attempt: a}})
}

// RecordAttempts is called by one recorder at a time, as the gateway's.
func (p *logProto) RecordAttempts(_ context.Context, recs []store.AttemptRecord) error {
	p.buf = p.buf[:0]
	at := make([]int64, len(recs))
	for i, r := range recs {
		at[i] = p.written + int64(len(p.buf))
		p.buf = appendFrame(p.buf, 'a', badger.EncodeAttemptRecord(r.Attempt))
		p.buf = appendFrame(p.buf, 'd', badger.EncodeDeliveryRecord(r.Delivery))
	}
	if _, err := p.outcomes.Write(p.buf); err != nil {
		return err
	}
	p.written += int64(len(p.buf))
	p.mu.Lock()
	for i, r := range recs {
		p.byDelivery[r.Delivery.ID] = at[i]
		p.byWebhook[r.Attempt.WebhookID] = append(p.byWebhook[r.Attempt.WebhookID], at[i])
	}
	p.mu.Unlock()
	if time.Since(p.synced) >= 200*time.Millisecond {
		p.synced = time.Now()
		return p.outcomes.Sync()
	}
	return nil
}

// nullProto is the harness alone.
type nullProto struct {
	mu    sync.Mutex
	queue []*store.Delivery
	ev    *store.Event
}

func (p *nullProto) ClaimDue(_ context.Context, _ int, _ time.Time, limit int) ([]*store.Delivery, error) {
	p.mu.Lock()
	defer p.mu.Unlock()
	limit = min(limit, len(p.queue))
	out := append([]*store.Delivery(nil), p.queue[:limit]...)
	p.queue = p.queue[limit:]
	return out, nil
}

func (p *nullProto) GetEvent(context.Context, string) (*store.Event, error) { return p.ev, nil }

func (p *nullProto) RecordAttempt(context.Context, *store.Delivery, *store.Attempt) error { return nil }

func (p *nullProto) RecordAttempts(context.Context, []store.AttemptRecord) error { return nil }
