package storetest

import (
	"errors"
	"slices"
	"time"

	"github.com/hookgate/hookgate/store"
)

// testOrderedLanes: deliveries ingested Ordered get 1, 2, … per webhook and
// work order; a claim takes a sequenced delivery only at the head of its
// lane and while nothing of its lane is claimed, whatever its priority; a
// retry keeps the lane waiting through its backoff; a dead head lets the
// lane go on unless it holds it (HeldLanes, ReleaseLane); a requeued dead
// delivery waits for its lane's delivery in flight; the lanes survive a
// reopen (a crash: the unrecorded head goes first again).
func testOrderedLanes(e *env) {
	t, now := e.t, e.now()
	lanes, ok := e.s.(store.Lanes)
	if !ok {
		t.Fatal("the store has no held lanes (store.Lanes)")
	}
	w, plain := e.webhook(1, "workorder.created"), e.webhook(1, "workorder.created")
	ordered := func(name string, wo int64, prio int) store.IngestItem {
		it := e.item(name, wo, prio, now, w)
		it.Deliveries[0].Ordered = true
		return it
	}
	e1, f1, e2, e3, f2 := ordered("workorder.created", 1, 1), ordered("workorder.created", 2, 1),
		ordered("workorder.status.approved", 1, 0), ordered("workorder.updated", 1, 1), ordered("workorder.updated", 2, 1)
	u := e.item("workorder.created", 1, 1, now, plain)
	e.ingest(e1, f1, u)
	e.ingest(e2, e3, f2)
	id := func(it store.IngestItem) string { return it.Deliveries[0].ID }
	for it, want := range map[*store.IngestItem]int64{&e1: 1, &e2: 2, &e3: 3, &f1: 1, &f2: 2, &u: 0} {
		if got := e.delivery(id(*it)).Sequence; got != want {
			t.Errorf("delivery %s has sequence %d, want %d", id(*it), got, want)
		}
	}
	claimAll := func(at time.Time) map[string]*store.Delivery {
		t.Helper()
		out := map[string]*store.Delivery{}
		for p := range 3 {
			for _, d := range e.claim(p, at, 10) {
				out[d.ID] = d
			}
		}
		return out
	}
	expect := func(step string, got map[string]*store.Delivery, want ...store.IngestItem) {
		t.Helper()
		var g, w []string
		for k := range got {
			g = append(g, k)
		}
		for _, it := range want {
			w = append(w, id(it))
		}
		slices.Sort(g)
		slices.Sort(w)
		if !slices.Equal(g, w) {
			var names []string
			for _, d := range got {
				names = append(names, d.EventName)
			}
			t.Fatalf("%s: claimed %v %v, want %v", step, g, names, w)
		}
	}

	// The high-priority e2 waits behind e1; the unordered u and the other
	// work order's head go at once.
	c := claimAll(now)
	expect("first claim", c, e1, f1, u)
	// A crash before anything is recorded: the same heads go again.
	e.reopen()
	if _, err := e.s.ReleaseInFlight(e.ctx, now); err != nil {
		t.Fatal(err)
	}
	lanes = e.s.(store.Lanes)
	c = claimAll(now)
	expect("after a reopen", c, e1, f1, u)

	// A retry of the head keeps its lane waiting through the backoff.
	e.record(c[id(e1)], 503, store.OutcomeRetry, now)
	e.record(c[id(f1)], 200, store.OutcomeSuccess, now)
	e.record(c[id(u)], 200, store.OutcomeSuccess, now)
	c = claimAll(now)
	expect("during e1's backoff", c, f2)
	e.record(c[id(f2)], 200, store.OutcomeSuccess, now)
	c = claimAll(now.Add(time.Hour))
	expect("after e1's backoff", c, e1)
	if c[id(e1)].Attempts != 1 {
		t.Errorf("e1 after its retry has %d attempts, want 1", c[id(e1)].Attempts)
	}

	// A dead head without hold: the lane goes on.
	e.record(c[id(e1)], 404, store.OutcomeFailed, now.Add(time.Hour))
	c = claimAll(now.Add(time.Hour))
	expect("after e1 is dead", c, e2)

	// A dead head that holds: the lane waits, across a reopen, until released.
	d2 := c[id(e2)]
	d2.HoldsLane = true
	e.record(d2, 404, store.OutcomeFailed, now.Add(time.Hour))
	expect("while e2 holds the lane", claimAll(now.Add(time.Hour)))
	e.reopen()
	lanes = e.s.(store.Lanes)
	held, err := lanes.HeldLanes(e.ctx, w.WebhookID)
	if err != nil {
		t.Fatal(err)
	}
	if len(held) != 1 || held[0].WorkOrderID != 1 || held[0].DeliveryID != id(e2) || held[0].Waiting != 1 || held[0].Sequence != 2 {
		t.Fatalf("held lanes %+v, want work order 1 held by %s (sequence 2) with 1 waiting", held, id(e2))
	}
	expect("after a reopen, still held", claimAll(now.Add(time.Hour)))
	if _, err := lanes.ReleaseLane(e.ctx, w.WebhookID, 2, now); !errors.Is(err, store.ErrNotFound) {
		t.Errorf("release of a lane not held: %v, want ErrNotFound", err)
	}
	rel, err := lanes.ReleaseLane(e.ctx, w.WebhookID, 1, now.Add(time.Hour))
	if err != nil || rel.ID != id(e2) || rel.State != store.DeliveryDead || rel.HoldsLane {
		t.Fatalf("ReleaseLane: %+v, %v; want %s still dead, no longer holding", rel, err, id(e2))
	}
	if held, _ = lanes.HeldLanes(e.ctx, w.WebhookID); len(held) != 0 {
		t.Errorf("held lanes after release: %+v", held)
	}
	c = claimAll(now.Add(time.Hour))
	expect("after the release", c, e3)

	// A retried dead delivery rejoins its lane at its place: it waits for
	// the lane's delivery in flight, then goes before anything later.
	if _, err := e.s.Requeue(e.ctx, id(e1), now.Add(time.Hour)); err != nil {
		t.Fatal(err)
	}
	expect("requeued e1 while e3 is in flight", claimAll(now.Add(time.Hour)))
	e.record(c[id(e3)], 200, store.OutcomeSuccess, now.Add(time.Hour))
	c = claimAll(now.Add(time.Hour))
	expect("requeued e1 after e3", c, e1)
	if c[id(e1)].Sequence != 1 {
		t.Errorf("requeued e1 has sequence %d, want 1", c[id(e1)].Sequence)
	}
}
