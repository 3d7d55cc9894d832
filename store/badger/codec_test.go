package badger

import (
	"bytes"
	"encoding/binary"
	"encoding/hex"
	"encoding/json"
	"reflect"
	"testing"
	"time"

	"github.com/hookgate/hookgate/store"
)

// encodeV1 frames a header as version 1 did (JSON + blobs).
func encodeV1(t *testing.T, hdr any, blobs ...[]byte) []byte {
	j, err := json.Marshal(hdr)
	if err != nil {
		t.Fatal(err)
	}
	b := binary.AppendUvarint([]byte{recordJSON}, uint64(len(j)))
	b = append(b, j...)
	for _, bl := range blobs {
		b = appendBlob(b, bl)
	}
	return b
}

// sameRecord compares like reflect.DeepEqual, except that times compare by
// instant, zone name and offset (a FixedZone is a new pointer every decode).
func sameRecord(a, b reflect.Value) bool {
	if t, ok := a.Interface().(time.Time); ok {
		u := b.Interface().(time.Time)
		an, ao := t.Zone()
		bn, bo := u.Zone()
		return t.Equal(u) && an == bn && ao == bo && t.Location().String() == u.Location().String() && t.IsZero() == u.IsZero()
	}
	if a.Kind() == reflect.Struct {
		for i := range a.NumField() {
			if !sameRecord(a.Field(i), b.Field(i)) {
				return false
			}
		}
		return true
	}
	return reflect.DeepEqual(a.Interface(), b.Interface())
}

var codecTimes = []time.Time{
	{},
	time.Date(2026, 3, 1, 12, 0, 0, 123456789, time.UTC),
	time.Date(2026, 3, 1, 12, 0, 0, 1, time.Local),
	time.Date(2026, 3, 1, 12, 0, 0, 999999999, time.FixedZone("IST", 5*3600+1800)),
	time.Date(1969, 12, 31, 23, 59, 59, 5, time.FixedZone("", -7*3600)),
	time.Date(2262, 4, 12, 0, 0, 0, 0, time.UTC), // past UnixNano's range
	time.Now(), // with a monotonic reading, which neither version keeps
}

// TestCodecMatchesVersion1: every record reads back from version 2 exactly
// as the same record read back from version 1 (JSON), which is what callers
// saw before: times by instant and offset, nil and empty maps and bodies.
func TestCodecMatchesVersion1(t *testing.T) {
	testCodecMatches(t, codecTimes)
	// A local zone that is not UTC: its offset reads back as Local, others
	// as fixed zones, as time.Parse does.
	saved := time.Local
	defer func() { time.Local = saved }()
	time.Local = time.FixedZone("CET", 3600)
	testCodecMatches(t, []time.Time{
		time.Date(2026, 3, 1, 12, 0, 0, 5, time.Local),
		time.Date(2026, 3, 1, 12, 0, 0, 5, time.FixedZone("", 3600)),
		time.Date(2026, 3, 1, 12, 0, 0, 5, time.FixedZone("X", 7200)),
		time.Date(2026, 3, 1, 12, 0, 0, 5, time.UTC),
	})
}

func testCodecMatches(t *testing.T, times []time.Time) {
	t.Helper()
	for i, tm := range times {
		other := times[(i+1)%len(times)]
		for _, state := range []store.DeliveryState{store.DeliveryPending, store.DeliveryInFlight, store.DeliverySucceeded, store.DeliveryDead, "unknown"} {
			d := store.Delivery{ID: "d-1", EventID: "e-1", WebhookID: "w-1", CompanyID: -3, EventName: "a.b", WorkOrderID: 1 << 40,
				Priority: 2, Attempts: i, State: state, DueAt: tm, LastStatus: 500 * i, LastError: []string{"", "é", "\x00x", "a\"b\\"}[i%4],
				DeadReason: "r", CreatedAt: other, UpdatedAt: tm}
			var want store.Delivery
			j, _ := json.Marshal(&d)
			if err := json.Unmarshal(j, &want); err != nil {
				t.Fatal(err)
			}
			flags := deliveryFlags(i % 2)
			got, gotFlags, err := decodeDelivery(encodeDelivery(&d, flags))
			if err != nil || gotFlags != flags || !sameRecord(reflect.ValueOf(*got), reflect.ValueOf(want)) {
				t.Fatalf("delivery %d %s: got %+v, %v\nwant %+v", i, state, got, err, want)
			}
			if v1, _, err := decodeDelivery(j); err != nil || !sameRecord(reflect.ValueOf(*v1), reflect.ValueOf(want)) {
				t.Fatalf("delivery %d v1: %+v, %v", i, v1, err)
			}
		}
		for _, hdrs := range []map[string]string{nil, {}, {"A": "1", "B": ""}} {
			a := store.Attempt{DeliveryID: "d-1", Attempt: i + 1, WebhookID: "w", CompanyID: 9, EventID: "e", EventName: "n",
				WorkOrderID: -1, RequestURL: "https://x/y?z", RequestMethod: "POST", RequestHeaders: hdrs,
				RequestBody: []byte("req"), ResponseStatus: 200, ResponseHeaders: hdrs, Error: "err", Outcome: store.OutcomeRetry,
				ExternalRef: "ref", DurationMs: 77, CreatedAt: tm}
			if i%2 == 1 {
				a.RequestBody, a.ResponseBody = nil, []byte{}
			}
			c := a
			c.RequestBody, c.ResponseBody = nil, nil
			want, err := decodeAttempt(encodeV1(t, &c, a.RequestBody, a.ResponseBody))
			if err != nil {
				t.Fatal(err)
			}
			got, err := decodeAttempt(encodeAttempt(&a))
			if err != nil || !sameRecord(reflect.ValueOf(*got), reflect.ValueOf(*want)) {
				t.Fatalf("attempt %d %v: got %+v, %v\nwant %+v", i, hdrs, got, err, want)
			}
		}
		for _, ids := range [][]string{nil, {}, {"d-1", "d-2"}} {
			ev := store.Event{ID: "e-1", TraceID: "t", Name: "n", CompanyID: 1, WorkOrderID: 2, Payload: []byte(`{"x":1}`), ReceivedAt: tm}
			if i%2 == 1 {
				ev.Payload = nil
			}
			r := eventRecord{Event: ev, Deliveries: ids}
			r.Payload = nil
			want, err := decodeEvent(encodeV1(t, &r, ev.Payload))
			if err != nil {
				t.Fatal(err)
			}
			got, err := decodeEvent(encodeEvent(&ev, ids))
			if err != nil || !sameRecord(reflect.ValueOf(*got), reflect.ValueOf(*want)) {
				t.Fatalf("event %d %v: got %+v, %v\nwant %+v", i, ids, got, err, want)
			}
		}
	}
}

// TestCodecDeliveryClock: the event's retention clock a finished sole
// delivery's record carries (format 5) reads back with the record, beside an
// ordered delivery's trailer too; a record without one has none; every
// truncation of the clock is an error.
func TestCodecDeliveryClock(t *testing.T) {
	clock := binary.BigEndian.AppendUint64(binary.BigEndian.AppendUint64(nil, 1<<60), 42)
	now := time.Date(2026, 3, 1, 12, 0, 0, 0, time.UTC)
	for _, seq := range []int64{0, 7} {
		d := store.Delivery{ID: "d", EventID: "e", WebhookID: "w", State: store.DeliverySucceeded, CreatedAt: now, UpdatedAt: now,
			Sequence: seq, HoldsLane: seq > 0}
		v := encodeDeliveryClock(&d, soleDelivery, clock)
		got, flags, gotClock, err := decodeDeliveryClock(v)
		if err != nil || !bytes.Equal(gotClock, clock) || flags != soleDelivery|eventClock || got.Sequence != seq || got.HoldsLane != d.HoldsLane || got.State != d.State {
			t.Fatalf("sequence %d: %+v, flags %b, clock %x, %v; want the clock %x", seq, got, flags, gotClock, err, clock)
		}
		// Rewritten without a clock (a requeue), or with the flag but
		// none given: no clock.
		for _, w := range [][]byte{encodeDelivery(&d, flags), encodeDeliveryClock(&d, flags, nil)} {
			if _, flags, gotClock, err := decodeDeliveryClock(w); err != nil || gotClock != nil || flags != soleDelivery {
				t.Fatalf("sequence %d, no clock: flags %b, clock %x, %v", seq, flags, gotClock, err)
			}
		}
		if seq > 0 {
			continue // a record cut before an ordered trailer reads as one without it (as before format 5)
		}
		for n := len(v) - clockRefLen; n < len(v); n++ {
			if _, _, _, err := decodeDeliveryClock(v[:n]); err == nil {
				t.Fatalf("cut to %d of %d bytes, inside the clock: no error", n, len(v))
			}
		}
	}
}

// TestCodecCorrupt: every truncation of a version-2 record is an error, not
// a panic or a short record.
func TestCodecCorrupt(t *testing.T) {
	d := encodeDelivery(&store.Delivery{ID: "d", EventID: "e", WebhookID: "w", State: store.DeliveryPending, DueAt: time.Now(), CreatedAt: time.Now()}, soleDelivery)
	a := encodeAttempt(&store.Attempt{DeliveryID: "d", Attempt: 1, RequestHeaders: map[string]string{"a": "b"}, RequestBody: []byte("x"), CreatedAt: time.Now()})
	e := encodeEvent(&store.Event{ID: "e", Payload: []byte("p"), ReceivedAt: time.Now()}, []string{"d"})
	for n := range len(d) {
		if _, _, err := decodeDelivery(d[:n]); err == nil {
			t.Fatalf("delivery truncated to %d bytes: no error", n)
		}
	}
	for n := range len(a) {
		if _, err := decodeAttempt(a[:n]); err == nil {
			t.Fatalf("attempt truncated to %d bytes: no error", n)
		}
	}
	for n := range len(e) {
		if _, err := decodeEvent(e[:n]); err == nil {
			t.Fatalf("event truncated to %d bytes: no error", n)
		}
	}
}

// TestCodecAttemptSizes: records written before body sizes were kept (the
// hex below, from that release's encoder) read as records of whole bodies,
// and an attempt with whole bodies is still written byte for byte the same;
// a truncated one carries its sizes and, when its request body is the
// event's payload, how much of the payload it shows.
func TestCodecAttemptSizes(t *testing.T) {
	at := time.Date(2026, 3, 1, 12, 0, 0, 0, time.UTC)
	a := store.Attempt{DeliveryID: "d-1", Attempt: 2, WebhookID: "w", CompanyID: 9, EventID: "e", EventName: "n",
		WorkOrderID: 5, RequestURL: "https://x/y", RequestMethod: "POST", RequestHeaders: map[string]string{"A": "1"},
		RequestBody: []byte("req"), ResponseStatus: 200, ResponseBody: []byte("resp"), Outcome: store.OutcomeSuccess,
		DurationMs: 7, CreatedAt: at}
	old := map[bool]string{
		false: "023803642d31040177120165016e0a0b68747470733a2f2f782f7904504f53540201410131900300000773756363657373000e0180a9a19a0d00037265710472657370",
		true:  "023903642d31040177120165016e0a0b68747470733a2f2f782f7904504f53540201410131900300000773756363657373000e0180a9a19a0d0001000472657370",
	}
	for isPayload, h := range old {
		a.RequestBodyIsPayload = isPayload
		raw, _ := hex.DecodeString(h)
		got, kept, err := decodeAttemptPart(raw, true)
		if err != nil || kept != -1 || got.ResponseBodySize != 4 || got.RequestBodyIsPayload != isPayload {
			t.Fatalf("old record (payload %v): %+v, kept %d, %v", isPayload, got, kept, err)
		}
		if !isPayload && (got.RequestBodySize != 3 || got.RequestBodyTruncated() || got.ResponseBodyTruncated()) {
			t.Fatalf("old record: sizes %d %d", got.RequestBodySize, got.ResponseBodySize)
		}
		if enc := hex.EncodeToString(encodeAttempt(&a)); enc != h {
			t.Fatalf("whole bodies (payload %v) now encode as\n%s\nwant\n%s", isPayload, enc, h)
		}
	}
	// Set, not left from the loop: map order decides its last value.
	a.RequestBodyIsPayload = true
	a.RequestBodySize, a.ResponseBodySize = 8<<20, 100_000
	got, kept, err := decodeAttemptPart(encodeAttempt(&a), true)
	if err != nil || kept != 3 || got.RequestBody != nil || got.RequestBodySize != 8<<20 || got.ResponseBodySize != 100_000 ||
		string(got.ResponseBody) != "resp" {
		t.Fatalf("truncated, payload: %+v, kept %d, %v", got, kept, err)
	}
	a.RequestBodyIsPayload = false
	got, _, err = decodeAttemptPart(encodeAttempt(&a), true)
	if err != nil || string(got.RequestBody) != "req" || !got.RequestBodyTruncated() || !got.ResponseBodyTruncated() {
		t.Fatalf("truncated: %+v, %v", got, err)
	}
}

// TestCodecAttemptTimes: a record keeps its attempts' times (format 8)
// beside the clock and before an ordered delivery's trailer; a cut inside
// them is an error, and a count above what is left does not size an
// allocation.
func TestCodecAttemptTimes(t *testing.T) {
	clock := binary.BigEndian.AppendUint64(binary.BigEndian.AppendUint64(nil, 1<<60), 42)
	now := time.Date(2026, 3, 1, 12, 0, 0, 0, time.UTC)
	times := store.AttemptTimes{}.With(3, now, 0, 0).With(4, now.Add(time.Minute), 0, 0).With(5, time.Time{}, 0, 0)
	for _, seq := range []int64{0, 7} {
		d := store.Delivery{ID: "d", EventID: "e", WebhookID: "w", State: store.DeliverySucceeded, CreatedAt: now, UpdatedAt: now,
			Sequence: seq, HoldsLane: seq > 0, Attempted: times}
		v := encodeDeliveryClock(&d, soleDelivery, clock)
		got, flags, gotClock, err := decodeDeliveryClock(v)
		if err != nil || !reflect.DeepEqual(*got, d) || flags != soleDelivery|eventClock|attemptTimes || !bytes.Equal(gotClock, clock) {
			t.Fatalf("sequence %d: %+v, flags %b, clock %x, %v; want %+v", seq, got, flags, gotClock, err, d)
		}
		// A record without times loses the flag.
		d.Attempted = store.AttemptTimes{}
		if _, flags, _, err := decodeDeliveryClock(encodeDelivery(&d, flags)); err != nil || flags != soleDelivery {
			t.Fatalf("sequence %d, no times: flags %b, %v", seq, flags, err)
		}
	}
	d := store.Delivery{ID: "d", State: store.DeliveryPending, Attempted: times}
	v := encodeDelivery(&d, 0)
	for n := range len(v) {
		if _, _, err := decodeDelivery(v[:n]); err == nil {
			t.Fatalf("cut to %d of %d bytes: no error", n, len(v))
		}
	}
	// The count's byte says 100 times where 3 bytes are left.
	i := bytes.LastIndex(v, []byte{3, byte(len(times.At))})
	if i < 0 {
		t.Fatalf("no first attempt and count in %x", v)
	}
	bad := append(append(append([]byte(nil), v[:i+1]...), 100), v[i+2:]...)
	if _, _, err := decodeDelivery(bad); err == nil {
		t.Fatal("a count above the bytes left: no error")
	}
}
