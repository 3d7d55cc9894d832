package badger

import (
	"context"
	"encoding/binary"
	"errors"
	"fmt"
	"io"
	"log/slog"
	"slices"
	"testing"
	"time"

	badger "github.com/dgraph-io/badger/v4"

	"github.com/hookgate/hookgate/store"
)

// laneFixture is a store with a settable clock and ordered deliveries of
// one webhook, ingested event k of every work order before event k+1 of
// any (as the ordering benchmark does).
type laneFixture struct {
	t   *testing.T
	s   *Store
	ctx context.Context
	now time.Time
	// ids[wo][seq-1] is the delivery of work order wo with sequence seq.
	ids map[int64][]string
}

func newLaneFixture(t *testing.T, dir string) *laneFixture {
	f := &laneFixture{t: t, ctx: context.Background(), now: time.Date(2026, 3, 1, 12, 0, 0, 0, time.UTC), ids: map[int64][]string{}}
	f.open(dir)
	return f
}

func (f *laneFixture) open(dir string) {
	f.t.Helper()
	opts := Options{InMemory: dir == "", Path: dir, Logger: slog.New(slog.NewTextHandler(io.Discard, nil)),
		Clock: func() time.Time { return f.now }}
	s, err := Open(opts)
	if err != nil {
		f.t.Fatal(err)
	}
	f.s = s
	f.t.Cleanup(func() { _ = s.Close() })
}

// ingest queues perWO ordered events for each of workOrders to webhook wh-o.
func (f *laneFixture) ingest(workOrders, perWO int) {
	f.t.Helper()
	var items []store.IngestItem
	for k := range perWO {
		for wo := int64(1); wo <= int64(workOrders); wo++ {
			id := fmt.Sprintf("d-%d-%d", wo, k+1)
			ev := &store.Event{ID: "ev-" + id, TraceID: "tr", Name: "workorder.created", CompanyID: 7, WorkOrderID: wo,
				Payload: []byte(`{}`), ReceivedAt: f.now}
			d := &store.Delivery{ID: id, EventID: ev.ID, WebhookID: "wh-o", CompanyID: 7, EventName: ev.Name, WorkOrderID: wo,
				Priority: 1, State: store.DeliveryPending, DueAt: f.now, CreatedAt: f.now, UpdatedAt: f.now, Ordered: true}
			items = append(items, store.IngestItem{Event: ev, Deliveries: []*store.Delivery{d}})
			f.ids[wo] = append(f.ids[wo], id)
		}
	}
	if _, err := f.s.Ingest(f.ctx, nil, items); err != nil {
		f.t.Fatal(err)
	}
}

// claim claims every due delivery of priority 1 and returns them by id,
// with how many queue keys the scan visited.
func (f *laneFixture) claim() (map[string]*store.Delivery, uint64) {
	f.t.Helper()
	f.s.claims.mu.Lock()
	before := f.s.claims.iterated
	f.s.claims.mu.Unlock()
	got, err := f.s.ClaimDue(f.ctx, 1, f.now, 1000)
	if err != nil {
		f.t.Fatal(err)
	}
	out := map[string]*store.Delivery{}
	for _, d := range got {
		out[d.ID] = d
	}
	f.s.claims.mu.Lock()
	defer f.s.claims.mu.Unlock()
	return out, f.s.claims.iterated - before
}

// record records one attempt of the claimed d: a success, a retry due in
// an hour, or a dead letter (holding its lane when hold).
func (f *laneFixture) record(d *store.Delivery, outcome store.Outcome, hold bool) {
	f.t.Helper()
	next := *d
	next.Attempts, next.UpdatedAt = d.Attempts+1, f.now
	switch outcome {
	case store.OutcomeSuccess:
		next.State = store.DeliverySucceeded
	case store.OutcomeRetry:
		next.State, next.DueAt = store.DeliveryPending, f.now.Add(time.Hour)
	default:
		next.State, next.HoldsLane = store.DeliveryDead, hold
	}
	a := &store.Attempt{DeliveryID: d.ID, Attempt: next.Attempts, WebhookID: d.WebhookID, CompanyID: d.CompanyID,
		EventID: d.EventID, EventName: d.EventName, Outcome: outcome, CreatedAt: f.now}
	if err := f.s.RecordAttempt(f.ctx, &next, a); err != nil {
		f.t.Fatal(err)
	}
}

// queued returns the ids under q/, in queue order.
func (f *laneFixture) queued() []string {
	f.t.Helper()
	var ids []string
	if err := f.s.db.View(func(txn *badger.Txn) error {
		it := txn.NewIterator(badger.IteratorOptions{Prefix: []byte(pQueue)})
		defer it.Close()
		for it.Rewind(); it.Valid(); it.Next() {
			ids = append(ids, string(it.Item().Key()[len(pQueue)+1+8:]))
		}
		return nil
	}); err != nil {
		f.t.Fatal(err)
	}
	return ids
}

func (f *laneFixture) depth() int {
	f.t.Helper()
	d, err := f.s.QueueDepth(f.ctx)
	if err != nil {
		f.t.Fatal(err)
	}
	return d[0] + d[1] + d[2]
}

func sortedKeys(m map[string]*store.Delivery) []string {
	var out []string
	for k := range m {
		out = append(out, k)
	}
	slices.Sort(out)
	return out
}

func sameIDs(a []string, b ...string) bool {
	a, b = slices.Clone(a), slices.Clone(b)
	slices.Sort(a)
	slices.Sort(b)
	return slices.Equal(a, b)
}

// TestOnlyLaneHeadsAreQueued: of an ordered webhook's pending deliveries
// only each lane's head has a queue key, so a claim scan visits the heads
// alone; the transaction that finishes a head (success, or dead without
// hold) queues the next one due at the store's now, a retry or a holding
// dead letter queues nothing; the queue depth counts every pending
// delivery, waiting or queued.
func TestOnlyLaneHeadsAreQueued(t *testing.T) {
	f := newLaneFixture(t, "")
	f.ingest(4, 5)
	id := func(wo int64, seq int) string { return f.ids[wo][seq-1] }
	if q := f.queued(); !sameIDs(q, id(1, 1), id(2, 1), id(3, 1), id(4, 1)) {
		t.Fatalf("queued after ingest: %v, want the 4 heads", q)
	}
	if n := f.depth(); n != 20 {
		t.Fatalf("queue depth %d, want all 20 pending", n)
	}
	c, visited := f.claim()
	if got := sortedKeys(c); !sameIDs(got, id(1, 1), id(2, 1), id(3, 1), id(4, 1)) {
		t.Fatalf("claimed %v, want the 4 heads", got)
	}
	if visited > 4 {
		t.Errorf("the claim scan visited %d queue keys, want at most the 4 heads", visited)
	}

	f.now = f.now.Add(time.Minute)
	f.record(c[id(1, 1)], store.OutcomeSuccess, false)
	f.record(c[id(2, 1)], store.OutcomeRetry, false)
	f.record(c[id(3, 1)], store.OutcomeFailed, false) // the lane goes on
	f.record(c[id(4, 1)], store.OutcomeFailed, true)  // the lane waits
	if q := f.queued(); !sameIDs(q, id(1, 2), id(2, 1), id(3, 2)) {
		t.Fatalf("queued after the heads' attempts: %v, want 1/2, 2/1 (its retry), 3/2", q)
	}
	if n := f.depth(); n != 17 {
		t.Fatalf("queue depth %d, want 17 (three heads finished)", n)
	}
	c, _ = f.claim()
	if got := sortedKeys(c); !sameIDs(got, id(1, 2), id(3, 2)) {
		t.Fatalf("claimed %v, want 1/2 and 3/2 (2/1 is in its backoff, lane 4 is held)", got)
	}
	if d := c[id(1, 2)]; !d.DueAt.Equal(f.now) {
		t.Errorf("the promoted 1/2 is due at %v, want the finishing transaction's now %v", d.DueAt, f.now)
	}
	held, err := f.s.HeldLanes(f.ctx, "wh-o")
	if err != nil || len(held) != 1 || held[0].WorkOrderID != 4 || held[0].Waiting != 4 {
		t.Fatalf("held lanes %+v, %v; want work order 4 with 4 waiting", held, err)
	}

	// Released, the held lane's next delivery is queued.
	if _, err := f.s.ReleaseLane(f.ctx, "wh-o", 4, f.now); err != nil {
		t.Fatal(err)
	}
	c, _ = f.claim()
	if got := sortedKeys(c); !sameIDs(got, id(4, 2)) {
		t.Fatalf("claimed after the release: %v, want 4/2", got)
	}
}

// TestDeadLetterPendingFindsWaitingDeliveries: dead-lettering a webhook's
// pending deliveries reaches those waiting in their lanes (no queue key)
// as well as the queued heads, and leaves the one in flight to its worker.
func TestDeadLetterPendingFindsWaitingDeliveries(t *testing.T) {
	f := newLaneFixture(t, "")
	f.ingest(3, 4)
	c, _ := f.claim()
	f.record(c[f.ids[2][0]], store.OutcomeRetry, false)
	// Lane 1's head is in flight, lane 2's waits for its retry, lane 3's is
	// claimed too but stays in flight.
	n, err := f.s.DeadLetterPending(f.ctx, "wh-o", "webhook deactivated", f.now)
	if err != nil || n != 10 {
		t.Fatalf("DeadLetterPending = %d, %v; want 10 (all but the two in flight)", n, err)
	}
	if q := f.queued(); !sameIDs(q, f.ids[1][0], f.ids[3][0]) {
		t.Fatalf("queued after dead-lettering: %v, want the two in flight", q)
	}
	if d := f.depth(); d != 0 {
		t.Fatalf("queue depth %d, want 0 (the two left are in flight)", d)
	}
}

// TestHeldLaneEndsWhenItsDeadDeliveryExpires: a dead delivery holds its
// lane for as long as its record is kept; when its lane key expires with
// it, the held-lane sweep queues the next delivery (no transaction
// removed the head, so nothing else would).
func TestHeldLaneEndsWhenItsDeadDeliveryExpires(t *testing.T) {
	f := newLaneFixture(t, "")
	f.ingest(1, 3)
	c, _ := f.claim()
	head := c[f.ids[1][0]]
	f.record(head, store.OutcomeFailed, true)
	if c, _ = f.claim(); len(c) != 0 {
		t.Fatalf("claimed %v from a held lane", sortedKeys(c))
	}
	// As the key's TTL would, with its record.
	if err := f.s.db.Update(func(txn *badger.Txn) error {
		head.Sequence = 1
		return txn.Delete(laneKey(head))
	}); err != nil {
		t.Fatal(err)
	}
	if err := f.s.sweepHeldLanes(f.ctx); err != nil {
		t.Fatal(err)
	}
	c, _ = f.claim()
	if got := sortedKeys(c); !sameIDs(got, f.ids[1][1]) {
		t.Fatalf("claimed after the sweep: %v, want the lane's second delivery", got)
	}
	f.s.claims.mu.Lock()
	defer f.s.claims.mu.Unlock()
	if len(f.s.claims.held) != 0 {
		t.Errorf("held lanes in memory after the sweep: %v", f.s.claims.held)
	}
}

// TestMigrateLaneTailsFromFormat3: a format-3 folder queued every pending
// delivery of a lane; opened, only the heads stay queued, the rest wait
// (laneWaiting), the depth is unchanged and the lanes drain in order.
func TestMigrateLaneTailsFromFormat3(t *testing.T) {
	dir := t.TempDir()
	f := newLaneFixture(t, dir)
	f.ingest(2, 3)
	c, _ := f.claim()
	f.record(c[f.ids[1][0]], store.OutcomeSuccess, false)
	if err := f.s.Close(); err != nil {
		t.Fatal(err)
	}

	// Make it format 3: every pending delivery queued, no laneWaiting.
	db, err := badger.Open(badger.DefaultOptions(dir).WithLogger(nil))
	if err != nil {
		t.Fatal(err)
	}
	err = db.Update(func(txn *badger.Txn) error {
		for _, ids := range f.ids {
			for _, id := range ids {
				d, flags, err := getDeliveryRec(txn, id)
				if err != nil {
					return err
				}
				if flags&laneWaiting == 0 {
					continue
				}
				v := encodeDelivery(d, flags&^laneWaiting)
				if err := errors.Join(txn.Set(deliveryKey(id), v), txn.Set(queueKey(d.Priority, d.DueAt, id), v)); err != nil {
					return err
				}
			}
		}
		return txn.Set(keyFormat, binary.AppendUvarint(nil, 3))
	})
	if err == nil {
		err = db.Close()
	}
	if err != nil {
		t.Fatal(err)
	}
	if n := countRaw(t, dir, []byte(pQueue)); n != 5 {
		t.Fatalf("format 3 folder: %d queue keys, want the 5 pending", n)
	}

	f.open(dir)
	if q := f.queued(); !sameIDs(q, f.ids[1][1], f.ids[2][0]) {
		t.Fatalf("queued after the migration: %v, want the two heads", q)
	}
	if n := f.depth(); n != 5 {
		t.Fatalf("queue depth %d after the migration, want 5", n)
	}
	var order []string
	for range 10 {
		c, _ := f.claim()
		if len(c) == 0 {
			break
		}
		for _, id := range sortedKeys(c) {
			order = append(order, id)
			f.record(c[id], store.OutcomeSuccess, false)
		}
	}
	want := []string{f.ids[1][1], f.ids[2][0], f.ids[1][2], f.ids[2][1], f.ids[2][2]}
	if !slices.Equal(order, want) {
		t.Fatalf("drained %v, want %v", order, want)
	}
	if n := f.depth(); n != 0 {
		t.Fatalf("queue depth %d after draining, want 0", n)
	}
	if err := f.s.Close(); err != nil {
		t.Fatal(err)
	}
	if v := getRaw(t, dir, keyFormat); v[0] != currentFormat {
		t.Fatalf("format marker %v, want %d", v, currentFormat)
	}
}
