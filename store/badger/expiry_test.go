package badger

import (
	"context"
	"encoding/binary"
	"errors"
	"testing"
	"time"

	"github.com/hookgate/hookgate/store"
)

// TestExpiryBlockPerGroup: the events whose clocks one group starts share
// one expiry key; a requeue takes its event out of the block, the sweep
// deletes the others when their time comes, and markers written by format
// 2 (an expiry key per event) are still stopped and swept.
func TestExpiryBlockPerGroup(t *testing.T) {
	now := time.Date(2026, 1, 20, 8, 0, 0, 0, time.UTC)
	s := openQuiet(t, Options{LogRetention: time.Hour, Clock: func() time.Time { return now }})
	ctx := context.Background()
	for _, id := range []string{"e1", "e2", "e3", "old1", "old2"} {
		ev := &store.Event{ID: id, TraceID: "tr", Name: "workorder.created", CompanyID: 1, Payload: []byte(`{}`), ReceivedAt: now}
		d := &store.Delivery{ID: "d-" + id, EventID: id, WebhookID: "w", CompanyID: 1, Priority: 1, DueAt: now}
		if _, err := s.Ingest(ctx, nil, []store.IngestItem{{Event: ev, Deliveries: []*store.Delivery{d}}}); err != nil {
			t.Fatal(err)
		}
	}
	claimed, err := s.ClaimDue(ctx, 1, now, 10)
	if err != nil || len(claimed) != 5 {
		t.Fatalf("claimed %d, %v", len(claimed), err)
	}
	var recs []store.AttemptRecord
	for _, d := range claimed[:3] { // e1..e3: one batch, one group
		next := *d
		next.State, next.Attempts = store.DeliverySucceeded, 1
		recs = append(recs, store.AttemptRecord{Delivery: &next, Attempt: &store.Attempt{Attempt: 1, Outcome: store.OutcomeSuccess, CreatedAt: now}})
	}
	if err := s.RecordAttempts(ctx, recs); err != nil {
		t.Fatal(err)
	}
	if n := countKeys(t, s, []byte(pExpiry)); n != 1 {
		t.Fatalf("%d expiry keys after one group finished three events, want 1", n)
	}
	// old1, old2 finish as format 2 did: the delivery's record (without
	// the clock format 5 adds to it), and an 8-byte x/ marker with an
	// expiry key of their own.
	for _, d := range claimed[3:] {
		next := *d
		next.State, next.Attempts = store.DeliverySucceeded, 1
		at := timeKey(now.Add(time.Hour))
		err := s.submit(ctx, 1024, func(w *wtx) error {
			err := w.move(d, &next, soleDelivery)
			w.expiring = nil // no block: the markers below instead
			return errors.Join(err, w.set(deliveryKey(next.ID), encodeDelivery(&next, soleDelivery)),
				w.set(eventExpKey(d.EventID), binary.BigEndian.AppendUint64(nil, at)),
				w.set(expiryKey(at, d.EventID), nil))
		})
		if err != nil {
			t.Fatal(err)
		}
	}
	if _, err := s.Requeue(ctx, "d-e2", now); err != nil {
		t.Fatal(err)
	}
	if _, err := s.Requeue(ctx, "d-old2", now); err != nil {
		t.Fatal(err)
	}
	if n := countKeys(t, s, []byte(pExpiry)); n != 2 {
		t.Fatalf("%d expiry keys after the requeues, want 2 (the block of e1 and e3, old1's)", n)
	}
	if n, err := s.sweepEvents(ctx, now.Add(time.Hour-time.Second)); err != nil || n != 0 {
		t.Fatalf("sweep before the hour: %d, %v; want 0", n, err)
	}
	if n, err := s.sweepEvents(ctx, now.Add(time.Hour)); err != nil || n != 3 {
		t.Fatalf("sweep after the hour: %d, %v; want 3 (e1, e3, old1)", n, err)
	}
	for id, kept := range map[string]bool{"e1": false, "e2": true, "e3": false, "old1": false, "old2": true} {
		if _, err := s.GetEvent(ctx, id); (err == nil) != kept {
			t.Errorf("event %s after the sweep: %v, want kept %v", id, err, kept)
		}
	}
	if n := countKeys(t, s, []byte(pExpiry)) + countKeys(t, s, []byte(pEventExp)); n != 0 {
		t.Fatalf("%d expiry markers left", n)
	}
}
