package badger

import (
	"bytes"
	"context"
	"encoding/binary"
	"errors"
	"io"
	"log/slog"
	"slices"
	"testing"
	"time"

	badger "github.com/dgraph-io/badger/v4"

	"github.com/hookgate/hookgate/store"
)

// format2Keys are the keys a format-2 store (before the marker) wrote
// besides the format-3 ones for d: its per-webhook index key in every state.
func format2Keys(d *store.Delivery) [][]byte {
	bucket := map[store.DeliveryState]byte{store.DeliveryPending: bucketOpen, store.DeliverySucceeded: bucketSucceeded}[d.State]
	if bucket == 0 {
		return nil // dead: format 3 keeps the same key
	}
	k := append(append(append([]byte(pDelByHook), d.WebhookID...), 0, bucket), u64(timeKey(d.CreatedAt))...)
	return [][]byte{append(k, d.ID...)}
}

// TestMigrateFromFormat2: a data folder as format 2 left it (deliveries
// indexed by webhook in every state, attempts by webhook too, no format
// marker) opens as format 3: the open and succeeded index keys are gone,
// every listing still answers as before, and dead-lettering a webhook's
// pending deliveries finds them without their index.
func TestMigrateFromFormat2(t *testing.T) {
	dir := t.TempDir()
	quiet := slog.New(slog.NewTextHandler(io.Discard, nil))
	ctx, now := context.Background(), time.Date(2026, 3, 1, 12, 0, 0, 0, time.UTC)
	s, err := Open(Options{Path: dir, Logger: quiet, Clock: func() time.Time { return now }})
	if err != nil {
		t.Fatal(err)
	}
	var ds []*store.Delivery
	for i, id := range []string{"d-pending", "d-succeeded", "d-dead", "d-other"} {
		hook := "wh-1"
		if id == "d-other" {
			hook = "wh-2"
		}
		ev := &store.Event{ID: "ev-" + id, TraceID: "tr", Name: "workorder.created", CompanyID: 7, Payload: []byte(`{}`), ReceivedAt: now}
		d := &store.Delivery{ID: id, EventID: ev.ID, WebhookID: hook, CompanyID: 7, EventName: ev.Name, Priority: 1,
			DueAt: now, CreatedAt: now.Add(time.Duration(i) * time.Second)}
		if _, err := s.Ingest(ctx, nil, []store.IngestItem{{Event: ev, Deliveries: []*store.Delivery{d}}}); err != nil {
			t.Fatal(err)
		}
		ds = append(ds, d)
	}
	claimed, err := s.ClaimDue(ctx, 1, now, 10)
	if err != nil || len(claimed) != 4 {
		t.Fatalf("claimed %d, %v", len(claimed), err)
	}
	for _, d := range claimed {
		next := *d
		next.Attempts, next.UpdatedAt = 1, now
		outcome := store.OutcomeRetry
		switch d.ID {
		case "d-succeeded":
			next.State, outcome = store.DeliverySucceeded, store.OutcomeSuccess
		case "d-dead":
			next.State, outcome = store.DeliveryDead, store.OutcomeFailed
		default:
			next.State, next.DueAt = store.DeliveryPending, now.Add(time.Hour)
		}
		a := &store.Attempt{Attempt: 1, WebhookID: d.WebhookID, CompanyID: 7, EventID: d.EventID, EventName: d.EventName,
			ResponseStatus: 500, Outcome: outcome, CreatedAt: now}
		if err := s.RecordAttempt(ctx, &next, a); err != nil {
			t.Fatal(err)
		}
		for i := range ds {
			if ds[i].ID == d.ID {
				ds[i] = &next
			}
		}
	}
	if err := s.Close(); err != nil {
		t.Fatal(err)
	}

	// Make it format 2: the index keys it wrote besides, and no marker.
	db, err := badger.Open(badger.DefaultOptions(dir).WithLogger(nil))
	if err != nil {
		t.Fatal(err)
	}
	err = db.Update(func(txn *badger.Txn) error {
		for _, d := range ds {
			for _, k := range format2Keys(d) {
				if err := txn.Set(k, nil); err != nil {
					return err
				}
			}
			a := &store.Attempt{DeliveryID: d.ID, Attempt: 1, WebhookID: d.WebhookID, CompanyID: 7, EventName: d.EventName,
				ResponseStatus: 500, CreatedAt: now}
			byHook := append(append([]byte(pAttemptByHk), d.WebhookID...), 0)
			byHook = binary.BigEndian.AppendUint64(byHook, timeKey(now))
			byHook = binary.BigEndian.AppendUint32(append(append(byHook, a.DeliveryID...), 0), uint32(a.Attempt))
			if err := txn.Set(byHook, encodeAttemptIndex(a)); err != nil {
				return err
			}
		}
		return txn.Delete(keyFormat)
	})
	if err == nil {
		err = db.Close()
	}
	if err != nil {
		t.Fatal(err)
	}
	if n := countRaw(t, dir, []byte(pDelByHook)); n != 3+1 { // o, o, s + the dead one's x
		t.Fatalf("format 2 folder: %d D/ keys, want 4", n)
	}

	s, err = Open(Options{Path: dir, Logger: quiet, Clock: func() time.Time { return now }})
	if err != nil {
		t.Fatal(err)
	}
	list := func(hook string, state store.DeliveryState) []string {
		got, err := s.ListDeliveries(ctx, hook, state, time.Time{}, time.Time{})
		if err != nil {
			t.Fatal(err)
		}
		var ids []string
		for _, d := range got {
			ids = append(ids, d.ID)
		}
		return ids
	}
	if got := list("wh-1", ""); !slices.Equal(got, []string{"d-pending", "d-succeeded", "d-dead"}) {
		t.Fatalf("all of wh-1 = %v", got)
	}
	if got := list("wh-1", store.DeliveryDead); !slices.Equal(got, []string{"d-dead"}) {
		t.Fatalf("dead of wh-1 = %v", got)
	}
	if got := list("wh-1", store.DeliverySucceeded); !slices.Equal(got, []string{"d-succeeded"}) {
		t.Fatalf("succeeded of wh-1 = %v", got)
	}
	as, total, err := s.ListAttempts(ctx, store.AttemptFilter{CompanyID: 7, WebhookID: "wh-1"})
	if err != nil || total != 3 || len(as) != 3 {
		t.Fatalf("attempts of wh-1: %d (total %d), %v", len(as), total, err)
	}
	if n, err := s.DeadLetterPending(ctx, "wh-1", "webhook deactivated", now); err != nil || n != 1 {
		t.Fatalf("DeadLetterPending = %d, %v; want the pending one", n, err)
	}
	if got := list("wh-1", store.DeliveryDead); !slices.Equal(got, []string{"d-pending", "d-dead"}) {
		t.Fatalf("dead of wh-1 after dead-lettering = %v", got)
	}
	if got := list("wh-2", store.DeliveryPending); !slices.Equal(got, []string{"d-other"}) {
		t.Fatalf("pending of wh-2 = %v (another webhook's delivery was touched)", got)
	}
	if err := s.Close(); err != nil {
		t.Fatal(err)
	}
	if n := countRaw(t, dir, []byte(pDelByHook)); n != 2 {
		t.Fatalf("after the migration: %d D/ keys, want the 2 dead ones", n)
	}
	if v := getRaw(t, dir, keyFormat); !bytes.Equal(v, binary.AppendUvarint(nil, currentFormat)) {
		t.Fatalf("format marker %v, want %d", v, currentFormat)
	}
}

func countRaw(t *testing.T, dir string, prefix []byte) int {
	t.Helper()
	db, err := badger.Open(badger.DefaultOptions(dir).WithLogger(nil))
	if err != nil {
		t.Fatal(err)
	}
	defer db.Close()
	n := 0
	_ = db.View(func(txn *badger.Txn) error {
		it := txn.NewIterator(badger.IteratorOptions{Prefix: prefix})
		defer it.Close()
		for it.Rewind(); it.Valid(); it.Next() {
			n++
		}
		return nil
	})
	return n
}

func getRaw(t *testing.T, dir string, k []byte) []byte {
	t.Helper()
	db, err := badger.Open(badger.DefaultOptions(dir).WithLogger(nil))
	if err != nil {
		t.Fatal(err)
	}
	defer db.Close()
	var v []byte
	_ = db.View(func(txn *badger.Txn) error {
		v, _ = getValue(txn, k)
		return nil
	})
	return v
}

// TestMigrateFromFormat3: a data folder whose sole deliveries finished as
// format 3 left them (the event's x/ marker naming its expiry block, the
// record without a clock) opens as format 5 and keeps its retention: a
// requeue of such a delivery takes its event out of the block and deletes
// the marker, the sweep deletes the other event on time, and the requeued
// one, finished again, keeps its clock in its record (no x/ marker) and is
// swept an hour after that.
func TestMigrateFromFormat3(t *testing.T) {
	dir := t.TempDir()
	quiet := slog.New(slog.NewTextHandler(io.Discard, nil))
	ctx, now := context.Background(), time.Date(2026, 3, 1, 12, 0, 0, 0, time.UTC)
	clock := func() time.Time { return now }
	opts := Options{Path: dir, Logger: quiet, Clock: clock, LogRetention: time.Hour}
	s, err := Open(opts)
	if err != nil {
		t.Fatal(err)
	}
	for _, id := range []string{"kept", "swept"} {
		ev := &store.Event{ID: "ev-" + id, TraceID: "tr", Name: "workorder.created", CompanyID: 7, Payload: []byte(`{}`), ReceivedAt: now}
		d := &store.Delivery{ID: "d-" + id, EventID: ev.ID, WebhookID: "wh-1", CompanyID: 7, EventName: ev.Name, Priority: 1, DueAt: now, CreatedAt: now}
		if _, err := s.Ingest(ctx, nil, []store.IngestItem{{Event: ev, Deliveries: []*store.Delivery{d}}}); err != nil {
			t.Fatal(err)
		}
	}
	claimed, err := s.ClaimDue(ctx, 1, now, 10)
	if err != nil || len(claimed) != 2 {
		t.Fatalf("claimed %d, %v", len(claimed), err)
	}
	// Finish both as format 3 did: one group, one block, an x/ marker per
	// event naming it, the records without a clock.
	err = s.submit(ctx, 1024, func(w *wtx) error {
		for _, d := range claimed {
			old, flags, err := getDeliveryRec(w.txn, d.ID)
			if err != nil {
				return err
			}
			next := *old
			next.State, next.Attempts, next.UpdatedAt = store.DeliverySucceeded, 1, now
			if err := errors.Join(w.move(old, &next, flags), w.set(deliveryKey(next.ID), encodeDelivery(&next, flags)),
				w.set(eventExpKey(d.EventID), w.expiryRef())); err != nil {
				return err
			}
		}
		return nil
	})
	if err == nil {
		err = s.db.Update(func(txn *badger.Txn) error { return txn.Set(keyFormat, binary.AppendUvarint(nil, 3)) })
	}
	if err == nil {
		err = s.Close()
	}
	if err != nil {
		t.Fatal(err)
	}
	if n := countRaw(t, dir, []byte(pEventExp)); n != 2 {
		t.Fatalf("format 3 folder: %d x/ markers, want 2", n)
	}

	if s, err = Open(opts); err != nil {
		t.Fatal(err)
	}
	if _, err := s.Requeue(ctx, "d-kept", now); err != nil {
		t.Fatal(err)
	}
	if n := countKeys(t, s, []byte(pEventExp)); n != 1 {
		t.Fatalf("after the requeue: %d x/ markers, want the swept one's", n)
	}
	if n, err := s.sweepEvents(ctx, now.Add(time.Hour)); err != nil || n != 1 {
		t.Fatalf("sweep after the hour: %d, %v; want 1 (ev-swept)", n, err)
	}
	if _, err := s.GetEvent(ctx, "ev-kept"); err != nil {
		t.Fatalf("the requeued delivery's event was swept: %v", err)
	}
	now = now.Add(2 * time.Hour)
	claimed, err = s.ClaimDue(ctx, 1, now, 10)
	if err != nil || len(claimed) != 1 {
		t.Fatalf("claimed %d after the requeue, %v", len(claimed), err)
	}
	next := *claimed[0]
	next.State, next.Attempts = store.DeliverySucceeded, 2
	if err := s.RecordAttempt(ctx, &next, &store.Attempt{Attempt: 2, Outcome: store.OutcomeSuccess, CreatedAt: now}); err != nil {
		t.Fatal(err)
	}
	if n := countKeys(t, s, []byte(pEventExp)); n != 0 {
		t.Fatalf("finished as format 5: %d x/ markers, want 0 (the record holds the clock)", n)
	}
	if n, err := s.sweepEvents(ctx, now.Add(time.Hour-time.Second)); err != nil || n != 0 {
		t.Fatalf("sweep before its new hour: %d, %v; want 0", n, err)
	}
	if n, err := s.sweepEvents(ctx, now.Add(time.Hour)); err != nil || n != 1 {
		t.Fatalf("sweep after its new hour: %d, %v; want 1", n, err)
	}
	if n := countKeys(t, s, []byte(pExpiry)) + countKeys(t, s, []byte(pEventExp)); n != 0 {
		t.Fatalf("%d expiry markers left", n)
	}
	closeAsCurrent(t, s, dir)
}

// TestMigrateFromFormat4: a folder of format 4 (lane tails already out of
// the queue, records without a clock) opens as the current format, its
// waiting delivery still waiting and its head still claimable.
func TestMigrateFromFormat4(t *testing.T) {
	ctx, now := context.Background(), time.Date(2026, 3, 1, 12, 0, 0, 0, time.UTC)
	s, dir, opts := openQuietAt(t, now)
	for i, id := range []string{"head", "tail"} {
		ev := &store.Event{ID: "ev-" + id, TraceID: "tr", Name: "workorder.created", CompanyID: 7, WorkOrderID: 42, Payload: []byte(`{}`), ReceivedAt: now}
		d := &store.Delivery{ID: "d-" + id, EventID: ev.ID, WebhookID: "wh-1", CompanyID: 7, EventName: ev.Name, WorkOrderID: 42, Ordered: true,
			Priority: 1, DueAt: now.Add(time.Duration(i) * time.Millisecond), CreatedAt: now}
		if _, err := s.Ingest(ctx, nil, []store.IngestItem{{Event: ev, Deliveries: []*store.Delivery{d}}}); err != nil {
			t.Fatal(err)
		}
	}
	s = reopenAfter(t, s, opts, func(txn *badger.Txn) error { return txn.Set(keyFormat, binary.AppendUvarint(nil, 4)) })
	claimed, err := s.ClaimDue(ctx, 1, now.Add(time.Second), 10)
	if err != nil || len(claimed) != 1 || claimed[0].ID != "d-head" {
		t.Fatalf("claimed %v, %v; want the lane's head only", claimed, err)
	}
	closeAsCurrent(t, s, dir)
}

// TestMigrateFromFormat5: a folder of format 5 (a queued delivery's record
// in its d/ key and, copied, on its queue key) opens as the current format:
// the delivery reads by id and is claimed as written, and once queued again
// (a retry) its d/ value is a reference to its queue key.
func TestMigrateFromFormat5(t *testing.T) {
	ctx, now, s, dir, opts, ev, d := openWithSoleDelivery(t)
	// Make it format 5: the record in the d/ key too.
	qk := queueKey(d.Priority, d.DueAt, d.ID)
	s = reopenAfter(t, s, opts, func(txn *badger.Txn) error {
		rec, err := getValue(txn, qk)
		if err != nil {
			return err
		}
		return errors.Join(txn.Set(deliveryKey(d.ID), rec), txn.Set(keyFormat, binary.AppendUvarint(nil, 5)))
	})
	if g, err := s.GetDelivery(ctx, d.ID); err != nil || g.State != store.DeliveryPending || g.EventID != ev.ID || !g.DueAt.Equal(now) {
		t.Fatalf("read by id after the migration: %+v, %v", g, err)
	}
	claimed, err := s.ClaimDue(ctx, 1, now, 10)
	if err != nil || len(claimed) != 1 || claimed[0].ID != d.ID {
		t.Fatalf("claimed %v, %v; want %s", claimed, err, d.ID)
	}
	next := *claimed[0]
	next.State, next.Attempts, next.DueAt = store.DeliveryPending, 1, now.Add(time.Minute)
	if err := s.RecordAttempt(ctx, &next, &store.Attempt{Attempt: 1, WebhookID: d.WebhookID, CompanyID: 7, EventID: ev.ID, Outcome: store.OutcomeRetry, CreatedAt: now}); err != nil {
		t.Fatal(err)
	}
	err = s.db.View(func(txn *badger.Txn) error {
		v, err := getValue(txn, deliveryKey(d.ID))
		if err != nil {
			return err
		}
		if k, ok := queueRefKey(v, d.ID); !ok || !bytes.Equal(k, queueKey(1, next.DueAt, d.ID)) {
			t.Errorf("the retry's d/ value is %x, want a reference to its queue key", v)
		}
		return nil
	})
	if err != nil {
		t.Fatal(err)
	}
	if g, err := s.GetDelivery(ctx, d.ID); err != nil || g.Attempts != 1 || !g.DueAt.Equal(next.DueAt) {
		t.Fatalf("the retry read by id: %+v, %v", g, err)
	}
	closeAsCurrent(t, s, dir)
}

// openWithSoleDelivery opens a store in a new folder (openQuietAt) and
// ingests one event with its only delivery (company 7, webhook wh-1, work
// order 42), due now.
func openWithSoleDelivery(t *testing.T) (context.Context, time.Time, *Store, string, Options, *store.Event, *store.Delivery) {
	t.Helper()
	ctx, now := context.Background(), time.Date(2026, 3, 1, 12, 0, 0, 0, time.UTC)
	s, dir, opts := openQuietAt(t, now)
	ev := &store.Event{ID: "ev-1", TraceID: "tr", Name: "workorder.created", CompanyID: 7, WorkOrderID: 42, Payload: []byte(`{}`), ReceivedAt: now}
	d := &store.Delivery{ID: "d-1", EventID: ev.ID, WebhookID: "wh-1", CompanyID: 7, EventName: ev.Name, WorkOrderID: 42, Priority: 1, DueAt: now, CreatedAt: now}
	if _, err := s.Ingest(ctx, nil, []store.IngestItem{{Event: ev, Deliveries: []*store.Delivery{d}}}); err != nil {
		t.Fatal(err)
	}
	return ctx, now, s, dir, opts, ev, d
}

// reopenAfter makes s's folder what an older build left (change, one
// transaction), closes it and opens it again with opts, migrating it.
func reopenAfter(t *testing.T, s *Store, opts Options, change func(txn *badger.Txn) error) *Store {
	t.Helper()
	err := s.db.Update(change)
	if err == nil {
		err = s.Close()
	}
	if err != nil {
		t.Fatal(err)
	}
	if s, err = Open(opts); err != nil {
		t.Fatal(err)
	}
	return s
}

// closeAsCurrent closes s, whose folder is dir, and fails unless the folder
// is marked with the current format.
func closeAsCurrent(t *testing.T, s *Store, dir string) {
	t.Helper()
	if err := s.Close(); err != nil {
		t.Fatal(err)
	}
	if v := getRaw(t, dir, keyFormat); !bytes.Equal(v, binary.AppendUvarint(nil, currentFormat)) {
		t.Fatalf("format marker %v, want %d", v, currentFormat)
	}
}

// openQuietAt opens a store in a new folder, logging nowhere, its clock
// stopped at now; it returns the folder and the options to open it again.
func openQuietAt(t *testing.T, now time.Time) (*Store, string, Options) {
	t.Helper()
	dir := t.TempDir()
	opts := Options{Path: dir, Logger: slog.New(slog.NewTextHandler(io.Discard, nil)), Clock: func() time.Time { return now }}
	s, err := Open(opts)
	if err != nil {
		t.Fatal(err)
	}
	return s, dir, opts
}

// TestMigrateFromFormat7: a folder of format 7 (an attempt's record under
// its a/ key, an index value under its A/ key, delivery records without
// attempt times) opens as the current format: the attempt reads by id, by
// delivery, by company (filtered) and unscoped; the delivery's next attempt
// is written the new way, and both list together.
func TestMigrateFromFormat7(t *testing.T) {
	ctx, now, s, dir, opts, ev, d := openWithSoleDelivery(t)
	attempt := func(n int, at time.Time, state store.DeliveryState, outcome store.Outcome, status int) {
		t.Helper()
		claimed, err := s.ClaimDue(ctx, 1, at, 10)
		if err != nil || len(claimed) != 1 {
			t.Fatalf("claimed %v, %v", claimed, err)
		}
		next := *claimed[0]
		next.State, next.Attempts, next.DueAt = state, n, at.Add(time.Minute)
		a := &store.Attempt{Attempt: n, WebhookID: d.WebhookID, CompanyID: 7, EventID: ev.ID, EventName: ev.Name, WorkOrderID: 42,
			ResponseStatus: status, Outcome: outcome, CreatedAt: at}
		if err := s.RecordAttempt(ctx, &next, a); err != nil {
			t.Fatal(err)
		}
	}
	attempt(1, now, store.DeliveryPending, store.OutcomeRetry, 500)

	// Make it format 7: the record under a/, an index value under A/, and
	// the delivery's record (on its queue key) without the attempt's time.
	first := &store.Attempt{DeliveryID: d.ID, Attempt: 1, WebhookID: d.WebhookID, CompanyID: 7, EventName: ev.Name, WorkOrderID: 42, ResponseStatus: 500, CreatedAt: now}
	s = reopenAfter(t, s, opts, func(txn *badger.Txn) error {
		rec, err := getValue(txn, attemptKey8(first))
		if err != nil {
			return err
		}
		qk := queueKey(1, now.Add(time.Minute), d.ID)
		qv, err := getValue(txn, qk)
		if err != nil {
			return err
		}
		dr, flags, clock, err := decodeDeliveryClock(qv)
		if err != nil {
			return err
		}
		if _, ok := dr.Attempted.Of(1); !ok {
			t.Fatalf("the record has no time for attempt 1: %+v", dr.Attempted)
		}
		dr.Attempted = store.AttemptTimes{}
		return errors.Join(txn.Delete(attemptKey8(first)),
			txn.Set(attemptKey(d.ID, 1), rec),
			txn.Set(attemptRefKey(nil, 7, timeKey(now), d.ID, 1), encodeAttemptIndex(first)),
			txn.Set(qk, encodeDeliveryClock(dr, flags, clock)),
			txn.Set(keyFormat, binary.AppendUvarint(nil, 7)))
	})
	check := func(want ...int) {
		t.Helper()
		for _, n := range want {
			if a, err := s.GetAttempt(ctx, d.ID, n); err != nil || a.Attempt != n || a.DeliveryID != d.ID {
				t.Fatalf("GetAttempt %d: %+v, %v", n, a, err)
			}
		}
		newestFirst := slices.Clone(want)
		slices.Reverse(newestFirst)
		for _, f := range []store.AttemptFilter{
			{CompanyID: 7}, {CompanyID: 7, WebhookID: "wh-1"}, {CompanyID: 7, EventName: ev.Name}, {CompanyID: 7, WorkOrderID: 42},
			{DeliveryID: d.ID}, {}, {CompanyID: 7, Summaries: true},
		} {
			list, total, err := s.ListAttempts(ctx, f)
			var got []int
			for _, a := range list {
				got = append(got, a.Attempt)
			}
			if err != nil || total != len(want) || !slices.Equal(got, newestFirst) {
				t.Errorf("ListAttempts %+v: %v of %d, %v; want %v", f, got, total, err, newestFirst)
			}
			var walked []int
			if err := s.WalkAttempts(ctx, f, func(a *store.Attempt) bool { walked = append(walked, a.Attempt); return true }); err != nil || !slices.Equal(walked, newestFirst) {
				t.Errorf("WalkAttempts %+v: %v, %v; want %v", f, walked, err, newestFirst)
			}
		}
		for _, f := range []store.AttemptFilter{{CompanyID: 7, WebhookID: "wh-2"}, {CompanyID: 8}, {CompanyID: 7, Status: 200, WorkOrderID: 43}} {
			if list, total, err := s.ListAttempts(ctx, f); err != nil || total != 0 || len(list) != 0 {
				t.Errorf("ListAttempts %+v: %d (%d), %v; want none", f, len(list), total, err)
			}
		}
	}
	check(1)
	attempt(2, now.Add(time.Minute), store.DeliverySucceeded, store.OutcomeSuccess, 200)
	check(1, 2)
	if list, total, err := s.ListAttempts(ctx, store.AttemptFilter{CompanyID: 7, Status: 200}); err != nil || total != 1 || list[0].Attempt != 2 {
		t.Errorf("ListAttempts by status: %v (%d), %v; want attempt 2", list, total, err)
	}
	second := &store.Attempt{DeliveryID: d.ID, Attempt: 2, WebhookID: d.WebhookID, CompanyID: 7, EventName: ev.Name, WorkOrderID: 42, ResponseStatus: 200, CreatedAt: now.Add(time.Minute)}
	err := s.db.View(func(txn *badger.Txn) error {
		if _, err := getValue(txn, attemptKey(d.ID, 2)); !errors.Is(err, store.ErrNotFound) {
			t.Errorf("attempt 2 has an a/ key (%v): format 8 writes only its A/ key", err)
		}
		_, err := getValue(txn, attemptKey8(second))
		return err
	})
	if err != nil {
		t.Fatalf("attempt 2's A/ key: %v", err)
	}
	closeAsCurrent(t, s, dir)
}

// encodeAttemptIndex is the value of an attempt's A/ key before format 8
// (and of its B/ key before format 3), as those builds wrote it:
//
//	company8 workOrder8 status4 created8 uvarint(len) webhookID eventName
func encodeAttemptIndex(a *store.Attempt) []byte {
	b := make([]byte, 0, 28+len(a.WebhookID)+len(a.EventName)+2)
	b = binary.BigEndian.AppendUint64(b, uint64(a.CompanyID))
	b = binary.BigEndian.AppendUint64(b, uint64(a.WorkOrderID))
	b = binary.BigEndian.AppendUint32(b, uint32(int32(a.ResponseStatus)))
	b = binary.BigEndian.AppendUint64(b, timeKey(a.CreatedAt))
	b = binary.AppendUvarint(b, uint64(len(a.WebhookID)))
	b = append(b, a.WebhookID...)
	return append(b, a.EventName...)
}
