package delivery

import (
	"context"
	"errors"
	"slices"
	"strconv"
	"testing"
	"time"

	"github.com/google/uuid"

	"github.com/hookgate/hookgate/config"
	"github.com/hookgate/hookgate/store"
	"github.com/hookgate/hookgate/store/badger"
)

// TestGatherWaitsForABatchOfIdleWorkers: with most workers busy the claimer
// waits for an eighth of them to be idle before it claims, but not when
// enough are idle already, not when something new is due, and never past
// its linger.
func TestGatherWaitsForABatchOfIdleWorkers(t *testing.T) {
	cfg := config.Defaults().Delivery
	cfg.Workers = 64 // batch: 64/claimShare = 16 idle workers
	d := New(Options{Delivery: cfg, Poll: time.Second})
	d.linger = time.Hour // only frees or a wake end the wait
	timer := time.NewTimer(time.Hour)
	defer timer.Stop()
	ctx := context.Background()
	gather := func() <-chan struct{} {
		done := make(chan struct{})
		go func() { d.gather(ctx, timer); close(done) }()
		return done
	}
	ended := func(done <-chan struct{}) bool {
		select {
		case <-done:
			return true
		case <-time.After(5 * time.Second):
			return false
		}
	}

	d.sending.Store(10) // 54 idle: no wait at all
	if !ended(gather()) {
		t.Fatal("gather waited with 54 idle workers")
	}

	batch := int64(cfg.Workers / claimShare)
	d.sending.Store(62)
	done := gather()
	for busy := int64(61); busy > 64-batch; busy-- { // up to batch-1 idle: still waiting
		d.sending.Store(busy)
		d.freedCh <- struct{}{}
	}
	select {
	case <-done:
		t.Fatalf("gather returned with %d idle workers", batch-1)
	case <-time.After(10 * time.Millisecond): // a negative check: no timing to race
	}
	d.sending.Store(64 - batch)
	select { // drop a signal gather has not taken yet; the next one counts
	case <-d.freedCh:
	default:
	}
	d.freedCh <- struct{}{}
	if !ended(done) {
		t.Fatalf("gather still waiting with %d idle workers", batch)
	}

	d.sending.Store(63)
	done = gather()
	d.Wake() // something new is due: no holding it back
	if !ended(done) {
		t.Fatal("gather did not return on a wake")
	}

	d.linger = time.Millisecond
	if !ended(gather()) {
		t.Fatal("gather waited past its linger")
	}
}

// TestRecentEventsServeWithoutTheStore: an event added at accept time is
// served from memory; a miss goes to the store.
func TestRecentEventsServeWithoutTheStore(t *testing.T) {
	r := NewEventCache(config.Defaults().Delivery.EventCacheBytes)
	ev := &store.Event{ID: "ev1", Payload: []byte(`{}`)}
	r.Add(ev)
	// A nil store: a hit must not touch it.
	got, err := r.Get(context.Background(), nil, "ev1")
	if err != nil || got != ev {
		t.Fatalf("cached event: %v, %v", got, err)
	}
	defer func() {
		if recover() == nil {
			t.Fatal("a miss did not go to the store")
		}
	}()
	_, _ = r.Get(context.Background(), nil, "ev2")
}

// TestEventCacheSkipsLargeEvents: an event over a sixteenth of the cache is
// not cached at all (moved from gateway's TestEventCacheBoundedByBytes,
// which drives the bound through publishes).
func TestEventCacheSkipsLargeEvents(t *testing.T) {
	small := NewEventCache(1 << 20)
	small.Add(&store.Event{ID: "big", Payload: make([]byte, 1<<16)})
	small.Add(&store.Event{ID: "fits", Payload: make([]byte, 1<<15)})
	if b, n := small.Size(); n != 1 || b != 1<<15+eventOverhead {
		t.Errorf("1 MiB cache after a 64 KiB and a 32 KiB event: %d events, %d bytes; want only the 32 KiB one", n, b)
	}
}

// eventReads counts the store's event reads.
type eventReads struct {
	Queue
	one  int
	many [][]string
}

func (q *eventReads) GetEvent(ctx context.Context, id string) (*store.Event, error) {
	q.one++
	return q.Queue.GetEvent(ctx, id)
}

func (q *eventReads) GetEvents(ctx context.Context, ids []string) (map[string]*store.Event, error) {
	q.many = append(q.many, ids)
	return q.Queue.GetEvents(ctx, ids)
}

// TestClaimReadsItsEventsAtOnce: the claimer reads the events of a claim
// that the cache does not hold with one store call and hands each to its
// worker with the delivery; a cached event is not read again.
func TestClaimReadsItsEventsAtOnce(t *testing.T) {
	now := time.Now()
	st, err := badger.Open(badger.Options{Path: t.TempDir(), Clock: func() time.Time { return now }})
	if err != nil {
		t.Fatal(err)
	}
	defer st.Close()
	ctx := context.Background()
	var items []store.IngestItem
	for i := range 4 {
		ev := &store.Event{ID: uuid.NewString(), TraceID: uuid.NewString(), Name: "workorder.created", CompanyID: 1,
			Payload: []byte(`{"n":` + strconv.Itoa(i) + `}`), ReceivedAt: now}
		items = append(items, store.IngestItem{Event: ev, Deliveries: []*store.Delivery{{ID: uuid.NewString(), EventID: ev.ID,
			WebhookID: "w", CompanyID: 1, EventName: ev.Name, Priority: 1, DueAt: now, CreatedAt: now, UpdatedAt: now}}})
	}
	if _, err := st.Ingest(ctx, nil, items); err != nil {
		t.Fatal(err)
	}
	cache := NewEventCache(1 << 20)
	cache.Add(items[2].Event)
	q := &eventReads{Queue: st}
	cfg := config.Defaults().Delivery
	cfg.Workers = 8
	d := New(Options{Delivery: cfg, Queue: q, Events: cache, Clock: &stepClock{now: now}})
	if n := d.ClaimOnce(ctx); n != 4 {
		t.Fatalf("claimed %d, want 4", n)
	}
	if len(q.many) != 1 || len(q.many[0]) != 3 || q.one != 0 {
		t.Fatalf("event reads: %d one by one, batches %v; want one batch of the 3 not cached", q.one, q.many)
	}
	for range 4 {
		j := <-d.work
		want := items[slices.IndexFunc(items, func(it store.IngestItem) bool { return it.Event.ID == j.del.EventID })].Event
		switch {
		case want.ID == items[2].Event.ID && j.ev != nil:
			t.Error("the cached event was read from the store")
		case want.ID != items[2].Event.ID && (j.ev == nil || string(j.ev.Payload) != string(want.Payload)):
			t.Errorf("delivery of event %s handed over with %+v", want.ID, j.ev)
		}
	}
}

// failingClaims is a store whose filtered claims fail after the filter
// has admitted deliveries, as a PostgreSQL claim does when its connection
// drops after the first page: the store hands none of them out.
type failingClaims struct {
	Queue
	admitted int
}

func (q *failingClaims) ClaimDueFunc(ctx context.Context, priority int, now time.Time, limit int, f store.ClaimFilter) ([]*store.Delivery, error) {
	for i := range limit {
		if f.Admit(&store.Delivery{ID: "d" + strconv.Itoa(priority) + "-" + strconv.Itoa(i), WebhookID: "w", CompanyID: 7, Priority: priority}) {
			q.admitted++
		}
	}
	return nil, errors.New("conn closed")
}

// TestFailedClaimGivesBackItsSlots: deliveries the filter admitted in a
// claim that then failed were never handed out, so their webhook's and
// company's slots are free again, and its rate limit's tokens; kept, every
// such failure would shrink the webhook's limit and the company's share
// until a restart, and cost the webhook its next turns.
func TestFailedClaimGivesBackItsSlots(t *testing.T) {
	st, err := badger.Open(badger.Options{InMemory: true})
	if err != nil {
		t.Fatal(err)
	}
	defer st.Close()
	cfg := config.Defaults().Delivery
	cfg.Workers = 8
	cfg.MaxInFlightPerWebhook = 4
	q := &failingClaims{Queue: st}
	// One delivery a second, a burst of 2: a failed claim admits both.
	d := New(Options{Delivery: cfg, Queue: q, Clock: &stepClock{now: time.Now()}, Webhooks: hookMap{"w": hook("w", "1/s", 2)}})
	for range 3 {
		if n := d.ClaimOnce(context.Background()); n != 0 {
			t.Fatalf("a failed claim handed out %d", n)
		}
	}
	if q.admitted == 0 {
		t.Fatal("the test store admitted nothing: the test tests nothing")
	}
	if n := d.fair.runningOf("w"); n != 0 {
		t.Errorf("webhook w has %d slots taken after failed claims, want 0", n)
	}
	// The clock has not moved: the burst is only there if it was given back.
	for i := range 2 {
		if !d.fair.limits.take("w") {
			t.Errorf("token %d of webhook w's burst is gone after failed claims", i+1)
		}
	}
	d.fair.mu.Lock()
	defer d.fair.mu.Unlock()
	if co := d.fair.companies[7]; co != nil && co.running != 0 {
		t.Errorf("company 7 has %d slots taken after failed claims, want 0", co.running)
	}
}
