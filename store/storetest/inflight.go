package storetest

import (
	"errors"

	"github.com/hookgate/hookgate/store"
)

// testInFlightVisible: a claimed delivery reads as in flight (the API shows
// it so), cannot be requeued under its worker, and reads as pending again
// once its attempt is recorded as a retry.
func testInFlightVisible(e *env) {
	t, now := e.t, e.now()
	w := e.webhook(1, "x")
	e.ingest(e.item("x", 1, 1, now, w))
	d := e.claim(1, now, 1)[0]
	if got := e.delivery(d.ID); got.State != store.DeliveryInFlight || got.Attempts != 0 {
		t.Fatalf("claimed delivery reads %+v, want in flight with 0 attempts", got)
	}
	if _, err := e.s.Requeue(e.ctx, d.ID, now); err == nil {
		t.Fatal("Requeue of an in-flight delivery succeeded, want a refusal")
	}
	e.record(d, 500, store.OutcomeRetry, now)
	if got := e.delivery(d.ID); got.State != store.DeliveryPending || got.Attempts != 1 || !got.DueAt.Equal(d.DueAt) {
		t.Fatalf("after a retry: %+v, want pending with 1 attempt due %v", got, d.DueAt)
	}
}

// testEventWithoutDeliveries: an event that fans out to no webhook is still
// kept (the API can show it) and queues nothing.
func testEventWithoutDeliveries(e *env) {
	t := e.t
	it := e.item("nobody.listens", 9, 1, e.now())
	e.ingest(it)
	ev, err := e.s.GetEvent(e.ctx, it.Event.ID)
	if err != nil || ev.Name != "nobody.listens" || ev.WorkOrderID != 9 {
		t.Fatalf("GetEvent = %+v, %v", ev, err)
	}
	if got := e.depth(); got != [3]int{} {
		t.Fatalf("QueueDepth = %v, want zeros", got)
	}
	if _, err := e.s.GetEvent(e.ctx, newID()); !errors.Is(err, store.ErrNotFound) {
		t.Fatalf("GetEvent of an unknown id: %v, want ErrNotFound", err)
	}
}

// testGetEvents: many events read at once come back whole, keyed by id;
// an unknown id and a repeated one change nothing, and no ids read none.
func testGetEvents(e *env) {
	t := e.t
	a, b := e.item("workorder.created", 1, 1, e.now()), e.item("workorder.updated", 2, 1, e.now())
	e.ingest(a, b)
	got, err := e.s.GetEvents(e.ctx, []string{b.Event.ID, newID(), a.Event.ID, b.Event.ID})
	if err != nil || len(got) != 2 {
		t.Fatalf("GetEvents = %d events, %v; want the 2 ingested", len(got), err)
	}
	for _, want := range []*store.Event{a.Event, b.Event} {
		ev := got[want.ID]
		if ev == nil || ev.ID != want.ID || ev.Name != want.Name || ev.WorkOrderID != want.WorkOrderID ||
			ev.TraceID != want.TraceID || string(ev.Payload) != string(want.Payload) || !ev.ReceivedAt.Equal(want.ReceivedAt) {
			t.Fatalf("GetEvents[%s] = %+v, want %+v", want.ID, ev, want)
		}
	}
	if none, err := e.s.GetEvents(e.ctx, nil); err != nil || len(none) != 0 {
		t.Fatalf("GetEvents of no ids = %v, %v; want none", none, err)
	}
}
