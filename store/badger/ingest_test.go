package badger_test

import (
	"bytes"
	"context"
	"errors"
	"fmt"
	"strings"
	"testing"
	"time"

	"github.com/hookgate/hookgate/store"
	"github.com/hookgate/hookgate/store/badger"
)

// TestIngestEachPastOneGroup: a bulk write larger than one commit group
// (IngestEach shares operations among its groups) lands whole after a
// reopen, and every group keeps its own answer: a key repeated far apart
// in the batch replays the first, and a group that fails inside a shared
// operation (an idempotency key past badger's key limit) is refused alone,
// the groups that shared its operation written.
func TestIngestEachPastOneGroup(t *testing.T) {
	ctx := context.Background()
	dir := t.TempDir()
	t0 := time.Date(2026, 12, 5, 12, 0, 0, 0, time.UTC)
	open := func() *badger.Store {
		s, err := badger.Open(badger.Options{Path: dir, Clock: func() time.Time { return t0 }})
		if err != nil {
			t.Fatal(err)
		}
		return s
	}
	s := open()
	defer func() { s.Close() }()

	const n = 3000 // ~2 MB of transaction and ~6 MB of value log: several groups
	const bad, first, repeat = 1234, 10, n - 10
	payload := bytes.Repeat([]byte("x"), 2000)
	groups := make([]store.IngestGroup, n)
	for i := range groups {
		ev := &store.Event{ID: fmt.Sprintf("ev-%d", i), TraceID: "tr", Name: "workorder.created", CompanyID: 7,
			WorkOrderID: int64(i), Payload: payload, ReceivedAt: t0}
		d := &store.Delivery{ID: fmt.Sprintf("del-%d", i), WebhookID: "wh-1", CompanyID: 7, EventName: ev.Name,
			WorkOrderID: int64(i), Priority: 1, DueAt: t0}
		groups[i].Items = []store.IngestItem{{Event: ev, Deliveries: []*store.Delivery{d}}}
		if i%7 == 0 {
			groups[i].Idem = &store.Idempotency{Key: fmt.Sprintf("c\x00k%d", i), Response: []byte(fmt.Sprintf(`{"i":%d}`, i)), TTL: time.Hour}
		}
	}
	groups[first].Idem = &store.Idempotency{Key: "c\x00same", Response: []byte(`{"first":true}`), TTL: time.Hour}
	groups[repeat].Idem = &store.Idempotency{Key: "c\x00same", Response: []byte(`{"first":false}`), TTL: time.Hour}
	groups[bad].Idem = &store.Idempotency{Key: strings.Repeat("k", 70_000), Response: []byte(`{}`), TTL: time.Hour}

	res := s.IngestEach(ctx, groups)
	if len(res) != n {
		t.Fatalf("%d results for %d groups", len(res), n)
	}
	for i, r := range res {
		switch {
		case i == bad:
			if r.Err == nil {
				t.Errorf("group %d (key of 70,000 bytes) was written", i)
			}
		case r.Err != nil:
			t.Errorf("group %d: %v", i, r.Err)
		case i == repeat:
			if string(r.Prior) != `{"first":true}` {
				t.Errorf("group %d repeats group %d's key: prior %q, want the first response", i, first, r.Prior)
			}
		case r.Prior != nil:
			t.Errorf("group %d: prior %q, want a new write", i, r.Prior)
		}
	}
	if err := s.Close(); err != nil {
		t.Fatal(err)
	}
	s = open() // durable when IngestEach returned

	want := n - 2 // all but the refused group and the replayed one
	if depth, err := s.QueueDepth(ctx); err != nil || depth != [3]int{0, want, 0} {
		t.Fatalf("QueueDepth after reopen = %v, %v; want %d at priority 1", depth, err, want)
	}
	for i := range groups {
		_, err := s.GetEvent(ctx, groups[i].Items[0].Event.ID)
		if written := i != bad && i != repeat; written != (err == nil) || (!written && !errors.Is(err, store.ErrNotFound)) {
			t.Errorf("event %d after reopen: %v (written: %v)", i, err, written)
		}
	}
	claimed, err := s.ClaimDue(ctx, 1, t0, n)
	if err != nil || len(claimed) != want {
		t.Fatalf("claimed %d deliveries (%v), want %d", len(claimed), err, want)
	}
}
