package badger_test

import (
	"bytes"
	"context"
	"encoding/binary"
	"encoding/json"
	"reflect"
	"testing"
	"time"

	dgraph "github.com/dgraph-io/badger/v4"

	"github.com/hookgate/hookgate/store"
	"github.com/hookgate/hookgate/store/badger"
)

// v1Record frames a header as version 1 did: 0x01 uvarint(len(json)) json
// {uvarint(len(blob)) blob}.
func v1Record(t *testing.T, hdr any, blobs ...[]byte) []byte {
	j, err := json.Marshal(hdr)
	if err != nil {
		t.Fatal(err)
	}
	b := binary.AppendUvarint([]byte{1}, uint64(len(j)))
	b = append(b, j...)
	for _, bl := range blobs {
		b = binary.AppendUvarint(b, uint64(len(bl)))
		b = append(b, bl...)
	}
	return b
}

func be64(v uint64) []byte { return binary.BigEndian.AppendUint64(nil, v) }

func rawKey(parts ...[]byte) []byte { return bytes.Join(parts, nil) }

// TestBadgerReadsVersion1Records: a data folder written by a release that
// stored JSON records (bare JSON deliveries, 0x01 event and attempt records)
// opens, reads back through the API, and its delivery can be claimed and
// recorded (the records are then rewritten as version 2).
func TestBadgerReadsVersion1Records(t *testing.T) {
	dir := t.TempDir()
	ctx := context.Background()
	created := time.Date(2026, 3, 1, 12, 0, 0, 123456789, time.UTC)
	due := created.Add(time.Minute)
	ev := store.Event{ID: "ev-1", TraceID: "tr-1", Name: "workorder.created", CompanyID: 7, WorkOrderID: 42,
		Payload: []byte(`{"hello":"world"}`), ReceivedAt: created}
	d := store.Delivery{ID: "del-1", EventID: ev.ID, WebhookID: "wh-1", CompanyID: 7, EventName: ev.Name, WorkOrderID: 42,
		Priority: 1, Attempts: 1, State: store.DeliveryPending, DueAt: due, LastStatus: 503, LastError: "HTTP 503",
		CreatedAt: created, UpdatedAt: created.Add(time.Second)}
	a1 := store.Attempt{DeliveryID: d.ID, Attempt: 1, WebhookID: d.WebhookID, CompanyID: 7, EventID: ev.ID, EventName: ev.Name,
		WorkOrderID: 42, RequestURL: "https://example.test/hook", RequestMethod: "POST",
		RequestHeaders: map[string]string{"Content-Type": "application/json"}, RequestBody: ev.Payload,
		ResponseStatus: 503, ResponseBody: []byte("unavailable"), Outcome: store.OutcomeRetry, DurationMs: 12, CreatedAt: created.Add(time.Second)}

	// Version-1 writer, by hand: the key layout of docs/storage.md.
	db, err := dgraph.Open(dgraph.DefaultOptions(dir).WithLogger(nil))
	if err != nil {
		t.Fatal(err)
	}
	evHdr := struct {
		store.Event
		Deliveries []string `json:"deliveries,omitempty"`
	}{ev, []string{d.ID}}
	evHdr.Payload = nil
	aHdr := a1
	aHdr.RequestBody, aHdr.ResponseBody = nil, nil
	dJSON, _ := json.Marshal(&d)
	ref := rawKey([]byte(d.ID), []byte{0}, binary.BigEndian.AppendUint32(nil, 1))
	aCreated := be64(uint64(a1.CreatedAt.UnixNano()))
	idx := rawKey(be64(7), be64(42), binary.BigEndian.AppendUint32(nil, 503), aCreated,
		binary.AppendUvarint(nil, uint64(len(a1.WebhookID))), []byte(a1.WebhookID), []byte(a1.EventName))
	writes := map[string][]byte{
		"e\x00" + ev.ID: v1Record(t, &evHdr, ev.Payload),
		"o\x00" + ev.ID: binary.AppendUvarint(nil, 1),
		"d\x00" + d.ID:  dJSON,
		string(rawKey([]byte("q\x00\x01"), be64(uint64(due.UnixNano())), []byte(d.ID))):          nil,
		string(rawKey([]byte("D\x00wh-1\x00o"), be64(uint64(created.UnixNano())), []byte(d.ID))): nil,
		"c\x00depth":                         rawKey(be64(0), be64(1), be64(0)),
		string(rawKey([]byte("a\x00"), ref)): v1Record(t, &aHdr, a1.RequestBody, a1.ResponseBody),
		string(rawKey([]byte("A\x00"), be64(7), aCreated, ref)): idx,
		string(rawKey([]byte("B\x00wh-1\x00"), aCreated, ref)):  idx,
	}
	if err := db.Update(func(txn *dgraph.Txn) error {
		for k, v := range writes {
			if err := txn.Set([]byte(k), v); err != nil {
				return err
			}
		}
		return nil
	}); err != nil {
		t.Fatal(err)
	}
	if err := db.Close(); err != nil {
		t.Fatal(err)
	}

	s, err := badger.Open(badger.Options{Path: dir, Logger: quietLogger()})
	if err != nil {
		t.Fatal(err)
	}
	defer s.Close()
	gotEv, err := s.GetEvent(ctx, ev.ID)
	if err != nil || gotEv.ID != ev.ID || gotEv.TraceID != ev.TraceID || gotEv.Name != ev.Name || gotEv.CompanyID != 7 ||
		gotEv.WorkOrderID != 42 || !bytes.Equal(gotEv.Payload, ev.Payload) || !gotEv.ReceivedAt.Equal(created) {
		t.Fatalf("GetEvent = %+v, %v", gotEv, err)
	}
	gotD, err := s.GetDelivery(ctx, d.ID)
	if err != nil || !reflect.DeepEqual(*gotD, d) {
		t.Fatalf("GetDelivery = %+v, %v\nwant %+v", gotD, err, d)
	}
	if ds, err := s.ListDeliveries(ctx, "wh-1", store.DeliveryPending, time.Time{}, time.Time{}); err != nil || len(ds) != 1 || !reflect.DeepEqual(*ds[0], d) {
		t.Fatalf("ListDeliveries = %v, %v", ds, err)
	}
	if ds, err := s.ListDeliveries(ctx, "", "", time.Time{}, time.Time{}); err != nil || len(ds) != 1 || !reflect.DeepEqual(*ds[0], d) {
		t.Fatalf("ListDeliveries (scan) = %v, %v", ds, err)
	}
	got1, err := s.GetAttempt(ctx, d.ID, 1)
	if err != nil || got1.Outcome != store.OutcomeRetry || got1.RequestHeaders["Content-Type"] != "application/json" ||
		!bytes.Equal(got1.RequestBody, a1.RequestBody) || !bytes.Equal(got1.ResponseBody, a1.ResponseBody) ||
		!got1.CreatedAt.Equal(a1.CreatedAt) || got1.DurationMs != 12 || got1.ResponseStatus != 503 {
		t.Fatalf("GetAttempt = %+v, %v", got1, err)
	}
	if depth, _ := s.QueueDepth(ctx); depth != [3]int{0, 1, 0} {
		t.Fatalf("QueueDepth = %v", depth)
	}

	claimed, err := s.ClaimDue(ctx, 1, due, 10)
	if err != nil || len(claimed) != 1 || claimed[0].ID != d.ID || claimed[0].Attempts != 1 {
		t.Fatalf("ClaimDue = %v, %v", claimed, err)
	}
	next := *claimed[0]
	at := due.Add(time.Second)
	next.Attempts, next.State, next.LastStatus, next.LastError, next.UpdatedAt = 2, store.DeliverySucceeded, 200, "", at
	a2 := a1
	a2.Attempt, a2.ResponseStatus, a2.ResponseBody, a2.Outcome, a2.CreatedAt = 2, 200, []byte("ok"), store.OutcomeSuccess, at
	if err := s.RecordAttempt(ctx, &next, &a2); err != nil {
		t.Fatal(err)
	}
	if gotD, err := s.GetDelivery(ctx, d.ID); err != nil || gotD.State != store.DeliverySucceeded || gotD.Attempts != 2 || gotD.LastError != "" {
		t.Fatalf("after RecordAttempt: GetDelivery = %+v, %v", gotD, err)
	}
	// The event was rewritten with its TTL as it was stored (version 1).
	if gotEv, err := s.GetEvent(ctx, ev.ID); err != nil || !bytes.Equal(gotEv.Payload, ev.Payload) || gotEv.Name != ev.Name {
		t.Fatalf("after RecordAttempt: GetEvent = %+v, %v", gotEv, err)
	}
	as, n, err := s.ListAttempts(ctx, store.AttemptFilter{CompanyID: 7, WebhookID: "wh-1", OldestFirst: true})
	if err != nil || n != 2 || as[0].Attempt != 1 || as[1].Attempt != 2 || !bytes.Equal(as[1].ResponseBody, []byte("ok")) {
		t.Fatalf("ListAttempts = %v (%d), %v", as, n, err)
	}
	// Requeue clears the TTL again: the version-1 event record is copied back.
	if _, err := s.Requeue(ctx, d.ID, at); err != nil {
		t.Fatal(err)
	}
	if gotEv, err := s.GetEvent(ctx, ev.ID); err != nil || !bytes.Equal(gotEv.Payload, ev.Payload) {
		t.Fatalf("after Requeue: GetEvent = %+v, %v", gotEv, err)
	}
}
