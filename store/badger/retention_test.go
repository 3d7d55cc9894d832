package badger

import (
	"bytes"
	"context"
	"errors"
	"io"
	"log/slog"
	"strings"
	"testing"
	"time"

	badger "github.com/dgraph-io/badger/v4"

	"github.com/hookgate/hookgate/store"
)

// eventTTL reports whether the event's retention clock runs (its expiry
// marker, the clock its sole delivery's record holds, or a TTL written by an
// older version), and the event's count of open deliveries.
func eventTTL(t *testing.T, s *Store, eventID string) (expiring bool, open uint64) {
	t.Helper()
	err := s.db.View(func(txn *badger.Txn) error {
		it, err := txn.Get(eventKey(eventID))
		if err != nil {
			return err
		}
		_, err = txn.Get(eventExpKey(eventID))
		switch {
		case err == nil:
			expiring = true
		case !errors.Is(err, badger.ErrKeyNotFound):
			return err
		}
		expiring = expiring || it.ExpiresAt() != 0
		v, err := it.ValueCopy(nil)
		if err != nil {
			return err
		}
		ev, err := decodeEvent(v)
		if err != nil {
			return err
		}
		for _, id := range ev.Deliveries {
			rv, err := getValue(txn, deliveryKey(id))
			if err == nil {
				rv, err = deliveryRecord(txn, id, rv, false)
			}
			if err != nil {
				return err
			}
			_, _, clock, err := decodeDeliveryClock(rv)
			if err != nil {
				return err
			}
			expiring = expiring || clock != nil
		}
		w := &wtx{s: s, txn: txn}
		open, err = w.getOpen(eventID)
		return err
	})
	if err != nil {
		t.Fatal(err)
	}
	return expiring, open
}

// openQuiet opens a Badger store with opts in a fresh folder, logging
// nowhere, closed when the test ends.
func openQuiet(t *testing.T, opts Options) *Store {
	t.Helper()
	opts.Path, opts.Logger = t.TempDir(), slog.New(slog.NewTextHandler(io.Discard, nil))
	s, err := Open(opts)
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { _ = s.Close() })
	return s
}

// TestEventRetentionStartsWhenLastDeliveryFinishes: the event is kept while
// any delivery is open, expires once all are finished, and is kept again
// when one is requeued.
func TestEventRetentionStartsWhenLastDeliveryFinishes(t *testing.T) {
	s := openQuiet(t, Options{})
	ctx, now := context.Background(), time.Now()
	ev := &store.Event{ID: "ev1", TraceID: "tr1", Name: "workorder.created", CompanyID: 1, Payload: []byte(`{}`), ReceivedAt: now}
	var ds []*store.Delivery
	for _, id := range []string{"d1", "d2", "d3"} {
		ds = append(ds, &store.Delivery{ID: id, EventID: ev.ID, WebhookID: "w", CompanyID: 1, Priority: 1, DueAt: now})
	}
	if _, err := s.Ingest(ctx, nil, []store.IngestItem{{Event: ev, Deliveries: ds}}); err != nil {
		t.Fatal(err)
	}
	if exp, open := eventTTL(t, s, ev.ID); exp || open != 3 {
		t.Fatalf("after ingest: expiring %v open %d, want false 3", exp, open)
	}
	claimed, err := s.ClaimDue(ctx, 1, now, 10)
	if err != nil || len(claimed) != 3 {
		t.Fatalf("claimed %d, %v", len(claimed), err)
	}
	finish := func(d *store.Delivery, state store.DeliveryState) {
		next := *d
		next.State, next.Attempts = state, d.Attempts+1
		if err := s.RecordAttempt(ctx, &next, &store.Attempt{Attempt: next.Attempts, Outcome: store.OutcomeSuccess, CreatedAt: now}); err != nil {
			t.Fatal(err)
		}
	}
	finish(claimed[0], store.DeliverySucceeded)
	finish(claimed[1], store.DeliveryDead)
	if exp, open := eventTTL(t, s, ev.ID); exp || open != 1 {
		t.Fatalf("one open: expiring %v open %d, want false 1", exp, open)
	}
	finish(claimed[2], store.DeliverySucceeded)
	if exp, _ := eventTTL(t, s, ev.ID); !exp {
		t.Fatal("all finished: the event should carry the retention TTL")
	}
	if _, err := s.Requeue(ctx, claimed[1].ID, now); err != nil {
		t.Fatal(err)
	}
	if exp, open := eventTTL(t, s, ev.ID); exp || open != 1 {
		t.Fatalf("after requeue: expiring %v open %d, want false 1", exp, open)
	}
}

// TestEventRetentionSoleDelivery: an event with one delivery keeps no
// open-delivery counter; its retention follows that delivery's state through
// finish, requeue and finish again.
func TestEventRetentionSoleDelivery(t *testing.T) {
	s := openQuiet(t, Options{})
	ctx, now := context.Background(), time.Now()
	ev := &store.Event{ID: "ev1", TraceID: "tr1", Name: "workorder.created", CompanyID: 1, Payload: []byte(`{}`), ReceivedAt: now}
	d := &store.Delivery{ID: "d1", EventID: ev.ID, WebhookID: "w", CompanyID: 1, Priority: 1, DueAt: now}
	if _, err := s.Ingest(ctx, nil, []store.IngestItem{{Event: ev, Deliveries: []*store.Delivery{d}}}); err != nil {
		t.Fatal(err)
	}
	for round := range 2 {
		if exp, open := eventTTL(t, s, ev.ID); exp || open != 0 {
			t.Fatalf("round %d, open: expiring %v counter %d, want false 0 (no counter)", round, exp, open)
		}
		claimed, err := s.ClaimDue(ctx, 1, now, 10)
		if err != nil || len(claimed) != 1 {
			t.Fatalf("claimed %d, %v", len(claimed), err)
		}
		next := *claimed[0]
		next.State, next.Attempts = store.DeliveryDead, claimed[0].Attempts+1
		if err := s.RecordAttempt(ctx, &next, &store.Attempt{Attempt: next.Attempts, Outcome: store.OutcomeFailed, CreatedAt: now}); err != nil {
			t.Fatal(err)
		}
		if exp, open := eventTTL(t, s, ev.ID); !exp || open != 0 {
			t.Fatalf("round %d, finished: expiring %v counter %d, want true 0", round, exp, open)
		}
		// The sole delivery starts the clock without looking for a
		// running one: the requeue must have removed the last one.
		if n := countKeys(t, s, []byte(pExpiry)); n != 1 {
			t.Fatalf("round %d, finished: %d sweep markers, want 1", round, n)
		}
		if _, err := s.Requeue(ctx, d.ID, now); err != nil {
			t.Fatal(err)
		}
		if n := countKeys(t, s, []byte(pExpiry)); n != 0 {
			t.Fatalf("round %d, requeued: %d sweep markers, want 0", round, n)
		}
	}
}

// countKeys counts the stored keys with prefix.
func countKeys(t *testing.T, s *Store, prefix []byte) int {
	t.Helper()
	n := 0
	err := s.db.View(func(txn *badger.Txn) error {
		it := txn.NewIterator(badger.IteratorOptions{Prefix: prefix})
		defer it.Close()
		for it.Rewind(); it.Valid(); it.Next() {
			n++
		}
		return nil
	})
	if err != nil {
		t.Fatal(err)
	}
	return n
}

// TestEventSweep: a finished event is deleted once its retention has run
// out by the store's clock, not before; a requeue in between stops the
// clock; and the sweep leaves no marker behind.
func TestEventSweep(t *testing.T) {
	now := time.Date(2026, 1, 20, 8, 0, 0, 0, time.UTC)
	clock := func() time.Time { return now }
	s := openQuiet(t, Options{LogRetention: time.Hour, Clock: clock})
	ctx := context.Background()
	ingest := func(id string) *store.Delivery {
		ev := &store.Event{ID: id, TraceID: "tr-" + id, Name: "workorder.created", CompanyID: 1, Payload: []byte(`{}`), ReceivedAt: now}
		d := &store.Delivery{ID: "d-" + id, EventID: id, WebhookID: "w", CompanyID: 1, Priority: 1, DueAt: now}
		if _, err := s.Ingest(ctx, nil, []store.IngestItem{{Event: ev, Deliveries: []*store.Delivery{d}}}); err != nil {
			t.Fatal(err)
		}
		return d
	}
	finish := func() {
		claimed, err := s.ClaimDue(ctx, 1, now, 10)
		if err != nil {
			t.Fatal(err)
		}
		for _, d := range claimed {
			next := *d
			next.State, next.Attempts = store.DeliverySucceeded, d.Attempts+1
			if err := s.RecordAttempt(ctx, &next, &store.Attempt{Attempt: next.Attempts, Outcome: store.OutcomeSuccess, CreatedAt: now}); err != nil {
				t.Fatal(err)
			}
		}
	}
	ingest("gone")
	kept := ingest("kept")
	ingest("open") // claimed, never recorded: never swept
	claimed, err := s.ClaimDue(ctx, 1, now, 3)
	if err != nil || len(claimed) != 3 {
		t.Fatalf("claimed %d, %v", len(claimed), err)
	}
	for _, d := range claimed {
		if d.ID == "d-open" {
			continue
		}
		next := *d
		next.State, next.Attempts = store.DeliverySucceeded, 1
		if err := s.RecordAttempt(ctx, &next, &store.Attempt{Attempt: 1, Outcome: store.OutcomeSuccess, CreatedAt: now}); err != nil {
			t.Fatal(err)
		}
	}
	if n, err := s.sweepEvents(ctx, now.Add(time.Hour-time.Second)); err != nil || n != 0 {
		t.Fatalf("sweep before the hour: %d, %v; want 0", n, err)
	}
	now = now.Add(30 * time.Minute)
	if _, err := s.Requeue(ctx, kept.ID, now); err != nil {
		t.Fatal(err)
	}
	if n, err := s.sweepEvents(ctx, now.Add(time.Hour)); err != nil || n != 1 {
		t.Fatalf("sweep after the hour: %d, %v; want 1 (gone)", n, err)
	}
	if _, err := s.GetEvent(ctx, "gone"); !errors.Is(err, store.ErrNotFound) {
		t.Fatalf("swept event: %v, want ErrNotFound", err)
	}
	for _, id := range []string{"kept", "open"} {
		if _, err := s.GetEvent(ctx, id); err != nil {
			t.Fatalf("event %s: %v", id, err)
		}
	}
	// The requeued one finishes again, and its new clock runs from then.
	finish()
	if n, err := s.sweepEvents(ctx, now.Add(time.Hour-time.Second)); err != nil || n != 0 {
		t.Fatalf("sweep before the kept event's new hour: %d, %v; want 0", n, err)
	}
	if n, err := s.sweepEvents(ctx, now.Add(time.Hour)); err != nil || n != 1 {
		t.Fatalf("sweep after the kept event's new hour: %d, %v; want 1", n, err)
	}
	err = s.db.View(func(txn *badger.Txn) error {
		for _, p := range []string{pEventExp, pExpiry} {
			it := txn.NewIterator(badger.IteratorOptions{Prefix: []byte(p)})
			it.Rewind()
			valid := it.Valid()
			it.Close()
			if valid {
				t.Errorf("marker keys %q left after the sweep", p)
			}
		}
		return nil
	})
	if err != nil {
		t.Fatal(err)
	}
}

// TestAttemptBodyFromEvent: an attempt whose request body is the event's
// payload stores no copy of it, and reads it back from the event through
// GetAttempt and ListAttempts; other bodies are stored as they are.
func TestAttemptBodyFromEvent(t *testing.T) {
	s := openQuiet(t, Options{})
	ctx, now := context.Background(), time.Now()
	payload := []byte(`{"event":{"name":"workorder.created"},"unique":"` + strings.Repeat("p", 200) + `"}`)
	ev := &store.Event{ID: "ev1", TraceID: "tr1", Name: "workorder.created", CompanyID: 1, Payload: payload, ReceivedAt: now}
	ds := []*store.Delivery{
		{ID: "d1", EventID: ev.ID, WebhookID: "w", CompanyID: 1, Priority: 1, DueAt: now},
		{ID: "d2", EventID: ev.ID, WebhookID: "w", CompanyID: 1, Priority: 1, DueAt: now},
	}
	if _, err := s.Ingest(ctx, nil, []store.IngestItem{{Event: ev, Deliveries: ds}}); err != nil {
		t.Fatal(err)
	}
	claimed, err := s.ClaimDue(ctx, 1, now, 2)
	if err != nil || len(claimed) != 2 {
		t.Fatalf("claimed %d, %v", len(claimed), err)
	}
	bodies := map[string][]byte{"d1": payload, "d2": []byte(`{"templated":true}`)}
	for _, d := range claimed {
		next := *d
		next.State, next.Attempts = store.DeliverySucceeded, 1
		a := &store.Attempt{Attempt: 1, EventID: ev.ID, WebhookID: "w", CompanyID: 1, Outcome: store.OutcomeSuccess, CreatedAt: now,
			RequestBody: bodies[d.ID], RequestBodyIsPayload: d.ID == "d1"}
		if err := s.RecordAttempt(ctx, &next, a); err != nil {
			t.Fatal(err)
		}
	}
	err = s.db.View(func(txn *badger.Txn) error {
		for id, wantCopy := range map[string]bool{"d1": false, "d2": true} {
			o, err := attemptsOfDelivery(txn, id)
			if err != nil {
				return err
			}
			r := o.reader(txn, id)
			v, err := r.value(1)
			r.close()
			if err != nil {
				return err
			}
			if got := bytes.Contains(v, bodies[id]); got != wantCopy {
				t.Errorf("attempt %s stores its body: %v, want %v", id, got, wantCopy)
			}
		}
		return nil
	})
	if err != nil {
		t.Fatal(err)
	}
	for id, want := range bodies {
		a, err := s.GetAttempt(ctx, id, 1)
		if err != nil || !bytes.Equal(a.RequestBody, want) {
			t.Errorf("GetAttempt %s: body %q, %v; want %q", id, a.RequestBody, err, want)
		}
	}
	list, _, err := s.ListAttempts(ctx, store.AttemptFilter{CompanyID: 1})
	if err != nil || len(list) != 2 {
		t.Fatalf("ListAttempts: %d, %v", len(list), err)
	}
	for _, a := range list {
		if !bytes.Equal(a.RequestBody, bodies[a.DeliveryID]) {
			t.Errorf("ListAttempts %s: body %q", a.DeliveryID, a.RequestBody)
		}
	}
}

// TestEventClockSurvivesLaneRelease: the retention clock a dead sole
// delivery's record holds (format 5) is kept when releasing its lane
// rewrites the record, so a later requeue still takes the event out of its
// expiry block and the sweep leaves the event of the pending delivery.
func TestEventClockSurvivesLaneRelease(t *testing.T) {
	now := time.Date(2026, 3, 1, 12, 0, 0, 0, time.UTC)
	s := openQuiet(t, Options{LogRetention: time.Hour, Clock: func() time.Time { return now }})
	ctx := context.Background()
	ev := &store.Event{ID: "ev1", TraceID: "tr", Name: "workorder.created", CompanyID: 1, WorkOrderID: 9, Payload: []byte(`{}`), ReceivedAt: now}
	d := &store.Delivery{ID: "d1", EventID: ev.ID, WebhookID: "w", CompanyID: 1, EventName: ev.Name, WorkOrderID: 9, Priority: 1,
		DueAt: now, CreatedAt: now, Ordered: true}
	if _, err := s.Ingest(ctx, nil, []store.IngestItem{{Event: ev, Deliveries: []*store.Delivery{d}}}); err != nil {
		t.Fatal(err)
	}
	claimed, err := s.ClaimDue(ctx, 1, now, 10)
	if err != nil || len(claimed) != 1 {
		t.Fatalf("claimed %d, %v", len(claimed), err)
	}
	next := *claimed[0]
	next.State, next.Attempts, next.HoldsLane = store.DeliveryDead, 1, true
	if err := s.RecordAttempt(ctx, &next, &store.Attempt{Attempt: 1, Outcome: store.OutcomeFailed, CreatedAt: now}); err != nil {
		t.Fatal(err)
	}
	if exp, _ := eventTTL(t, s, ev.ID); !exp {
		t.Fatal("dead: the event's clock does not run")
	}
	if rel, err := s.ReleaseLane(ctx, "w", 9, now); err != nil || rel.HoldsLane {
		t.Fatalf("ReleaseLane: %+v, %v", rel, err)
	}
	if exp, _ := eventTTL(t, s, ev.ID); !exp {
		t.Fatal("the lane's release stopped the event's clock")
	}
	if _, err := s.Requeue(ctx, d.ID, now); err != nil {
		t.Fatal(err)
	}
	if n := countKeys(t, s, []byte(pExpiry)); n != 0 {
		t.Fatalf("requeued after the release: %d expiry blocks, want 0", n)
	}
	if n, err := s.sweepEvents(ctx, now.Add(2*time.Hour)); err != nil || n != 0 {
		t.Fatalf("sweep: %d, %v; want the pending delivery's event kept", n, err)
	}
}
