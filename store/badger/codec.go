package badger

import (
	"encoding/binary"
	"encoding/json"
	"errors"
	"fmt"
	"slices"
	"time"

	badger "github.com/dgraph-io/badger/v4"

	"github.com/hookgate/hookgate/store"
)

// Event, attempt and delivery records start with a version byte:
//
//	1: event/attempt = 0x01 uvarint(len(json)) json { uvarint(len(blob)) blob }
//	   delivery      = bare JSON (first byte '{')
//	2: event/attempt = 0x02 uvarint(len(header)) header { uvarint(len(blob)) blob }
//	   delivery      = 0x02 header
//
// Version 2 is written; version 1 is still read, so data folders written by
// older releases open, and a record is rewritten as version 2 the next time
// it changes. The version-2 header is binary (binary.go): encoding/json
// cost ~20 µs per delivery record on the hot path, and the Delivery record is
// read by every claim and rewritten by every attempt. Byte payloads (event
// envelopes, request and response bodies) travel beside the header in both
// versions, never base64-encoded inside it.
const (
	recordJSON   = 1
	recordBinary = 2
	// recordQueued tags the d/ value of a queued delivery (format 6): not
	// its record but where the record is, its q/ key's priority and due
	// time (queueRef). The q/ key carries the record for the claims, so a
	// queued delivery's ~160 bytes are written to the LSM once, not twice.
	recordQueued = 3
)

var errCorrupt = store.ErrCorrupt

// decodeRecordJSON decodes a version-1 record: fills hdr and returns the
// blobs (copies: badger's value buffers are only valid inside the
// transaction).
func decodeRecordJSON(v []byte, hdr any, nblobs int) ([][]byte, error) {
	if len(v) == 0 || v[0] != recordJSON {
		return nil, errCorrupt
	}
	v = v[1:]
	j, v, err := cutBlob(v)
	if err != nil {
		return nil, err
	}
	if err := json.Unmarshal(j, hdr); err != nil {
		return nil, fmt.Errorf("%w: %v", errCorrupt, err)
	}
	blobs := make([][]byte, nblobs)
	for i := range blobs {
		var b []byte
		if b, v, err = cutBlob(v); err != nil {
			return nil, err
		}
		blobs[i] = cloneBlob(b)
	}
	return blobs, nil
}

// cloneBlob copies a blob out of badger's buffer; empty is nil (as version 1
// always read it).
func cloneBlob(b []byte) []byte {
	if len(b) == 0 {
		return nil
	}
	return append([]byte(nil), b...)
}

func cutBlob(v []byte) (blob, rest []byte, err error) {
	n, k := binary.Uvarint(v)
	if k <= 0 || uint64(len(v)-k) < n {
		return nil, nil, errCorrupt
	}
	return v[k : k+int(n)], v[k+int(n):], nil
}

// eventRecord is an Event plus the ids of its deliveries, so that finishing
// the last one can start the event's retention clock.
type eventRecord struct {
	store.Event
	Deliveries []string `json:"deliveries,omitempty"`
}

// encodeEvent: header = id traceId name company workOrder receivedAt
// uvarint(n) {deliveryId} [traceParent]; one blob, the payload. The
// traceparent is written only when there is one (tracing on), so records of
// an untraced gateway are as before; a record without it reads as "".
func encodeEvent(ev *store.Event, deliveries []string) []byte {
	n := 40 + len(ev.ID) + len(ev.TraceID) + len(ev.Name) + len(ev.TraceParent)
	for _, d := range deliveries {
		n += 1 + len(d)
	}
	return framed(n, func(b []byte) []byte {
		b = appendStr(b, ev.ID)
		b = appendStr(b, ev.TraceID)
		b = appendStr(b, ev.Name)
		b = binary.AppendVarint(b, ev.CompanyID)
		b = binary.AppendVarint(b, ev.WorkOrderID)
		b = appendTime(b, ev.ReceivedAt)
		b = binary.AppendUvarint(b, uint64(len(deliveries)))
		for _, d := range deliveries {
			b = appendStr(b, d)
		}
		if ev.TraceParent != "" {
			b = appendStr(b, ev.TraceParent)
		}
		return b
	}, ev.Payload)
}

// decodeEvent decodes an event record; the payload is a copy.
func decodeEvent(v []byte) (*eventRecord, error) {
	var r eventRecord
	if len(v) > 0 && v[0] == recordJSON {
		blobs, err := decodeRecordJSON(v, &r, 1)
		if err != nil {
			return nil, err
		}
		r.Payload = blobs[0]
		return &r, nil
	}
	d, rest, err := newDecoder(v, true)
	if err != nil {
		return nil, err
	}
	r.ID, r.TraceID, r.Name = d.str(), d.str(), d.str()
	r.CompanyID, r.WorkOrderID = d.varint(), d.varint()
	r.ReceivedAt = d.time()
	if n := d.count(); n > 0 {
		r.Deliveries = make([]string, n)
		for i := range r.Deliveries {
			r.Deliveries[i] = d.str()
		}
	}
	if d.off < len(d.b) {
		r.TraceParent = d.str()
	}
	if err := d.done(); err != nil {
		return nil, err
	}
	payload, _, err := cutBlob(rest)
	if err != nil {
		return nil, err
	}
	r.Payload = cloneBlob(payload)
	return &r, nil
}

// eventUsage returns the company of an event record and its payload's size
// without copying the payload.
func eventUsage(v []byte) (company, size int64, err error) {
	if len(v) > 0 && v[0] == recordJSON {
		r, err := decodeEvent(v)
		if err != nil {
			return 0, 0, err
		}
		return r.CompanyID, int64(len(r.Payload)), nil
	}
	d, rest, err := newDecoder(v, true)
	if err != nil {
		return 0, 0, err
	}
	d.str()
	d.str()
	d.str()
	company = d.varint()
	if d.bad {
		return 0, 0, errCorrupt
	}
	payload, _, err := cutBlob(rest)
	return company, int64(len(payload)), err
}

// encodeAttempt: header = deliveryId attempt webhookId company eventId
// eventName workOrder requestUrl requestMethod requestHeaders responseStatus
// responseHeaders error outcome externalRef durationMs createdAt [flags
// [requestBodySize responseBodySize keptRequestBody]]; two blobs, the
// request and response bodies. Flags (absent when 0): attemptBodyIsPayload,
// the request body is not stored but read from the event
// (Attempt.RequestBodyIsPayload); attemptTruncated, a body is only the first
// part of what was sent or received: the three sizes follow, the last one
// saying how much of the event's payload the record shows. Without it each
// size is its body's length. Records written before sizes were kept end
// the same way, so they read as records of whole bodies.
func encodeAttempt(a *store.Attempt) []byte {
	reqBody, flags := a.RequestBody, uint64(0)
	if a.RequestBodyIsPayload && len(reqBody) > 0 {
		reqBody, flags = nil, attemptBodyIsPayload
	}
	if a.RequestBodyTruncated() || a.ResponseBodyTruncated() {
		flags |= attemptTruncated
	}
	n := 64 + len(a.DeliveryID) + len(a.WebhookID) + len(a.EventID) + len(a.EventName) + len(a.RequestURL) +
		len(a.RequestMethod) + len(a.Error) + len(a.Outcome) + len(a.ExternalRef)
	for k, v := range a.RequestHeaders {
		n += 2 + len(k) + len(v)
	}
	for k, v := range a.ResponseHeaders {
		n += 2 + len(k) + len(v)
	}
	return framed(n, func(b []byte) []byte {
		b = appendStr(b, a.DeliveryID)
		b = binary.AppendVarint(b, int64(a.Attempt))
		b = appendStr(b, a.WebhookID)
		b = binary.AppendVarint(b, a.CompanyID)
		b = appendStr(b, a.EventID)
		b = appendStr(b, a.EventName)
		b = binary.AppendVarint(b, a.WorkOrderID)
		b = appendStr(b, a.RequestURL)
		b = appendStr(b, a.RequestMethod)
		b = appendMap(b, a.RequestHeaders)
		b = binary.AppendVarint(b, int64(a.ResponseStatus))
		resp := a.ResponseHeaders
		if len(resp) == 0 {
			resp = nil // omitempty in version 1: an empty map read back as nil
		}
		b = appendMap(b, resp)
		b = appendStr(b, a.Error)
		b = appendStr(b, string(a.Outcome))
		b = appendStr(b, a.ExternalRef)
		b = binary.AppendVarint(b, a.DurationMs)
		b = appendTime(b, a.CreatedAt)
		if flags != 0 {
			b = binary.AppendUvarint(b, flags)
		}
		if flags&attemptTruncated != 0 {
			b = binary.AppendUvarint(b, uint64(max(a.RequestBodySize, 0)))
			b = binary.AppendUvarint(b, uint64(max(a.ResponseBodySize, 0)))
			b = binary.AppendUvarint(b, uint64(len(a.RequestBody)))
		}
		return b
	}, reqBody, a.ResponseBody)
}

// Attempt record flags: see encodeAttempt.
const (
	attemptBodyIsPayload = 1
	attemptTruncated     = 2
)

// decodeAttempt decodes an attempt record; the bodies are copies.
func decodeAttempt(v []byte) (*store.Attempt, error) {
	a, _, err := decodeAttemptPart(v, true)
	return a, err
}

// decodeAttemptPart decodes an attempt record, with its headers and bodies
// or (full false) as a summary without them (their sizes are kept). A
// summary copies nothing from v past its fixed fields, so v may be a view
// Badger lends for the call. It also returns how much of the event's
// payload a record with RequestBodyIsPayload shows (-1: all of it).
func decodeAttemptPart(v []byte, full bool) (*store.Attempt, int, error) {
	var a store.Attempt
	if len(v) > 0 && v[0] == recordJSON {
		blobs, err := decodeRecordJSON(v, &a, 2)
		if err != nil {
			return nil, 0, err
		}
		a.RequestBody, a.ResponseBody = blobs[0], blobs[1]
		a.FillBodySizes()
		if !full {
			dropDetail(&a)
		}
		return &a, -1, nil
	}
	d, rest, err := newDecoder(v, true)
	if err != nil {
		return nil, 0, err
	}
	a.DeliveryID = d.str()
	a.Attempt = int(d.varint())
	a.WebhookID = d.str()
	a.CompanyID = d.varint()
	a.EventID, a.EventName = d.str(), d.str()
	a.WorkOrderID = d.varint()
	a.RequestURL, a.RequestMethod = d.str(), d.str()
	a.RequestHeaders = d.strMap()
	a.ResponseStatus = int(d.varint())
	a.ResponseHeaders = d.strMap()
	a.Error, a.Outcome, a.ExternalRef = d.str(), store.Outcome(d.str()), d.str()
	a.DurationMs = d.varint()
	a.CreatedAt = d.time()
	var flags uint64
	if d.off < len(d.b) {
		flags = d.uvarint()
		a.RequestBodyIsPayload = flags&attemptBodyIsPayload != 0
	}
	kept := -1
	if flags&attemptTruncated != 0 {
		a.RequestBodySize, a.ResponseBodySize = int64(d.uvarint()), int64(d.uvarint())
		kept = int(d.uvarint())
	}
	if err := d.done(); err != nil {
		return nil, 0, err
	}
	req, rest, err := cutBlob(rest)
	if err != nil {
		return nil, 0, err
	}
	resp, _, err := cutBlob(rest)
	if err != nil {
		return nil, 0, err
	}
	if full {
		a.RequestBody, a.ResponseBody = cloneBlob(req), cloneBlob(resp)
		a.FillBodySizes()
	} else {
		a.RequestBodySize = max(a.RequestBodySize, int64(len(req)))
		a.ResponseBodySize = max(a.ResponseBodySize, int64(len(resp)))
		dropDetail(&a)
	}
	return &a, kept, nil
}

// Delivery states as one byte in a version-2 delivery record; 0 is followed
// by the state as a string (not written: transition refuses other states).
var stateCodes = [...]store.DeliveryState{1: store.DeliveryPending, 2: store.DeliveryInFlight, 3: store.DeliverySucceeded, 4: store.DeliveryDead}

// deliveryFlags are stored with a version-2 delivery record, not in Delivery.
type deliveryFlags uint64

// soleDelivery: the delivery is the only one of its event, which then has no
// open-delivery counter (o/): whether the event is open is this delivery's
// state. Saves writing the counter at ingest and reading and deleting it when
// the delivery finishes. Set at ingest only; records without it (version 1,
// fan-out > 1) use the counter.
const soleDelivery deliveryFlags = 1

// laneWaiting: the delivery is pending behind an earlier one of its lane
// and has no queue key (format 4, lanes.go); the transaction that removes
// the delivery before it queues it (promote).
const laneWaiting deliveryFlags = 2

// eventClock: the record ends its flags with the retention clock of its
// event, as an x/ marker holds it (expires8 seq8: its expiry block), instead
// of that marker (format 5). Written for a finished sole delivery only:
// finishing it then writes no key besides its record for the clock.
const eventClock deliveryFlags = 4

// attemptTimes: the record holds, after its clock, when its attempts were
// made (Delivery.Attempted: first attempt, count, then each time key as a
// varint from the one before): an attempt record is keyed by its company
// and time (format 8, attemptKey), and a read by the delivery's id finds it
// from here.
const attemptTimes deliveryFlags = 8

// clockRefLen is the size of an expiry block's reference (expires8 seq8),
// the value of an x/ marker and the clock a record carries (eventClock).
const clockRefLen = 16

// encodeDelivery: 0x02 id eventId webhookId company eventName workOrder
// priority attempts state dueAt lastStatus lastError deadReason createdAt
// updatedAt flags [clock16] [attempt times] [sequence holdsLane] — ~150 bytes. The clock is
// there when flags has eventClock (encodeDeliveryClock); the last trailer is
// written for ordered deliveries only (Sequence > 0), so the records of
// other webhooks are as before.
// queueRef is the d/ value of d while it is queued (recordQueued): its
// q/ key's priority and due time.
func queueRef(d *store.Delivery) []byte {
	b := make([]byte, 0, 2+8)
	b = append(b, recordQueued, byte(d.Priority))
	return binary.BigEndian.AppendUint64(b, timeKey(d.DueAt))
}

// queueRefKey returns the q/ key that v, the d/ value of delivery id,
// refers to; ok is false when v is the record itself.
func queueRefKey(v []byte, id string) (k []byte, ok bool) {
	if len(v) != 2+8 || v[0] != recordQueued {
		return nil, false
	}
	k = append(make([]byte, 0, len(pQueue)+len(v)-1+len(id)), pQueue...)
	return append(append(k, v[1:]...), id...), true
}

// deliveryRecord returns v, the d/ value of delivery id, as its record:
// v itself, or the value of the q/ key it refers to (a copy). carried: v
// is the reference the id carries (carriedRef), not a stored one; then a
// missing q/ key means there is no such delivery.
func deliveryRecord(txn *badger.Txn, id string, v []byte, carried bool) ([]byte, error) {
	k, ok := queueRefKey(v, id)
	if !ok {
		return v, nil
	}
	rec, err := getValue(txn, k)
	if err == nil && carried && len(rec) == 0 {
		err = store.ErrNotFound // a q/ key of a build before format 6 always has its d/ key
	}
	if errors.Is(err, store.ErrNotFound) && !carried {
		return nil, fmt.Errorf("%w: delivery %s: its d/ value refers to a queue key that is not there", errCorrupt, id)
	}
	return rec, err
}

func encodeDelivery(d *store.Delivery, flags deliveryFlags) []byte {
	return encodeDeliveryClock(d, flags&^eventClock, nil)
}

// encodeDeliveryClock is encodeDelivery with the event's retention clock in
// the record (a clockRefLen reference, or nil for none).
func encodeDeliveryClock(d *store.Delivery, flags deliveryFlags, clock []byte) []byte {
	flags &^= eventClock | attemptTimes
	if len(clock) == clockRefLen {
		flags |= eventClock
	}
	if len(d.Attempted.At) > 0 {
		flags |= attemptTimes
	}
	b := make([]byte, 0, 80+clockRefLen+4+5*len(d.Attempted.At)+len(d.ID)+len(d.EventID)+len(d.WebhookID)+len(d.EventName)+len(d.LastError)+len(d.DeadReason))
	b = append(b, recordBinary)
	b = appendStr(b, d.ID)
	b = appendStr(b, d.EventID)
	b = appendStr(b, d.WebhookID)
	b = binary.AppendVarint(b, d.CompanyID)
	b = appendStr(b, d.EventName)
	b = binary.AppendVarint(b, d.WorkOrderID)
	b = binary.AppendVarint(b, int64(d.Priority))
	b = binary.AppendVarint(b, int64(d.Attempts))
	if c := slices.Index(stateCodes[:], d.State); c > 0 {
		b = append(b, byte(c))
	} else {
		b = appendStr(append(b, 0), string(d.State))
	}
	b = appendTime(b, d.DueAt)
	b = binary.AppendVarint(b, int64(d.LastStatus))
	b = appendStr(b, d.LastError)
	b = appendStr(b, d.DeadReason)
	b = appendTime(b, d.CreatedAt)
	b = appendTime(b, d.UpdatedAt)
	b = binary.AppendUvarint(b, uint64(flags))
	if flags&eventClock != 0 {
		b = append(b, clock...)
	}
	if flags&attemptTimes != 0 {
		b = binary.AppendUvarint(b, uint64(d.Attempted.First))
		b = binary.AppendUvarint(b, uint64(len(d.Attempted.At)))
		prev := int64(0)
		for _, at := range d.Attempted.At {
			b = binary.AppendVarint(b, int64(at)-prev)
			prev = int64(at)
		}
	}
	if d.Sequence > 0 {
		b = binary.AppendUvarint(b, uint64(d.Sequence))
		hold := byte(0)
		if d.HoldsLane {
			hold = 1
		}
		b = append(b, hold)
	}
	return b
}

// decodeDelivery decodes a delivery record (version 1: bare JSON).
func decodeDelivery(v []byte) (*store.Delivery, deliveryFlags, error) {
	d, flags, _, err := decodeDeliveryClock(v)
	return d, flags, err
}

// decodeDeliveryClock is decodeDelivery with the event's retention clock
// the record carries (eventClock; nil when none), copied.
func decodeDeliveryClock(v []byte) (*store.Delivery, deliveryFlags, []byte, error) {
	var r store.Delivery
	if len(v) > 0 && v[0] == '{' {
		if err := json.Unmarshal(v, &r); err != nil {
			return nil, 0, nil, fmt.Errorf("%w: %v", errCorrupt, err)
		}
		return &r, 0, nil, nil
	}
	d, _, err := newDecoder(v, false)
	if err != nil {
		return nil, 0, nil, err
	}
	r.ID, r.EventID, r.WebhookID = d.str(), d.str(), d.str()
	r.CompanyID = d.varint()
	r.EventName = d.str()
	r.WorkOrderID = d.varint()
	r.Priority, r.Attempts = int(d.varint()), int(d.varint())
	if c := d.byte(); c == 0 {
		r.State = store.DeliveryState(d.str())
	} else if int(c) < len(stateCodes) {
		r.State = stateCodes[c]
	} else {
		d.fail()
	}
	r.DueAt = d.time()
	r.LastStatus = int(d.varint())
	r.LastError, r.DeadReason = d.str(), d.str()
	r.CreatedAt, r.UpdatedAt = d.time(), d.time()
	flags := deliveryFlags(d.uvarint())
	var clock []byte
	if flags&eventClock != 0 {
		if at := d.off; len(d.b)-at >= clockRefLen {
			clock = []byte(d.s[at : at+clockRefLen])
		}
		d.skip(clockRefLen)
	}
	if flags&attemptTimes != 0 {
		r.Attempted.First = int(d.uvarint())
		// Each time takes a byte at least: a count above what is left is
		// corrupt, and must not size an allocation.
		if n := d.uvarint(); n <= uint64(len(d.b)-d.off) {
			r.Attempted.At = make([]uint64, n)
			prev := int64(0)
			for i := range r.Attempted.At {
				prev += d.varint()
				r.Attempted.At[i] = uint64(prev)
			}
		} else {
			d.fail()
		}
	}
	if d.off < len(d.b) { // the ordered delivery's trailer
		r.Sequence = int64(d.uvarint())
		r.HoldsLane = d.byte() == 1
	}
	if err := d.done(); err != nil {
		return nil, 0, nil, err
	}
	return &r, flags, clock, nil
}

// attemptIndexValue carries what ListAttempts filters on. Before format 8
// it was the value of an attempt's A/ key (decodeAttemptIndex reads those
// still); since, the key itself holds it (attemptKeyOf).
//
//	company8 workOrder8 status4 created8 uvarint(len) webhookID eventName
type attemptIndexValue struct {
	CompanyID   int64
	WorkOrderID int64
	Status      int
	CreatedAt   uint64
	WebhookID   string
	EventName   string
}

func decodeAttemptIndex(b []byte) (attemptIndexValue, bool) {
	var v attemptIndexValue
	if len(b) < 29 {
		return v, false
	}
	v.CompanyID = int64(binary.BigEndian.Uint64(b))
	v.WorkOrderID = int64(binary.BigEndian.Uint64(b[8:]))
	v.Status = int(int32(binary.BigEndian.Uint32(b[16:])))
	v.CreatedAt = binary.BigEndian.Uint64(b[20:])
	var ok bool
	v.WebhookID, v.EventName, ok = cutHookEvent(b[28:])
	return v, ok
}

// cutHookEvent reads "uvarint(len) webhookID eventName", the end of an
// attempt's filter fields in an index value and in a format-8 key.
func cutHookEvent(b []byte) (webhookID, eventName string, ok bool) {
	n, k := binary.Uvarint(b)
	if k <= 0 || uint64(len(b)-k) < n {
		return "", "", false
	}
	return string(b[k : k+int(n)]), string(b[k+int(n):]), true
}

// Stats: n1 bits[(n+7)/8] lastSuccess8 failingSince8 — rewritten on every
// attempt, so it stays ~30 bytes rather than ~600 of JSON booleans.
func encodeStats(s store.WebhookStats) []byte {
	n := len(s.Recent)
	b := make([]byte, 1+(n+7)/8, 1+(n+7)/8+16)
	b[0] = byte(n)
	for i, ok := range s.Recent {
		if ok {
			b[1+i/8] |= 1 << (i % 8)
		}
	}
	b = binary.BigEndian.AppendUint64(b, timeKey(s.LastSuccessAt))
	return binary.BigEndian.AppendUint64(b, timeKey(s.FailingSince))
}

func decodeStats(b []byte) (store.WebhookStats, error) {
	var s store.WebhookStats
	if len(b) < 1 {
		return s, errCorrupt
	}
	n := int(b[0])
	if len(b) != 1+(n+7)/8+16 {
		return s, errCorrupt
	}
	s.Recent = make([]bool, n)
	for i := range s.Recent {
		s.Recent[i] = b[1+i/8]&(1<<(i%8)) != 0
	}
	t := b[1+(n+7)/8:]
	s.LastSuccessAt = keyTime(binary.BigEndian.Uint64(t))
	s.FailingSince = keyTime(binary.BigEndian.Uint64(t[8:]))
	return s, nil
}

// Idempotency value: expires8 (by the store's clock) + response.
func encodeIdem(expires time.Time, resp []byte) []byte {
	return append(binary.BigEndian.AppendUint64(nil, timeKey(expires)), resp...)
}

func decodeIdem(b []byte) (expires time.Time, resp []byte, ok bool) {
	if len(b) < 8 {
		return time.Time{}, nil, false
	}
	return keyTime(binary.BigEndian.Uint64(b)), append([]byte{}, b[8:]...), true
}

// readDepth reads the persisted pending-delivery counters.
func readDepth(txn *badger.Txn) ([3]int64, error) {
	var d [3]int64
	it, err := txn.Get(keyDepth)
	if errors.Is(err, badger.ErrKeyNotFound) {
		return d, nil
	}
	if err != nil {
		return d, err
	}
	return d, it.Value(func(v []byte) error {
		if len(v) != 24 {
			return errCorrupt
		}
		for i := range d {
			d[i] = int64(binary.BigEndian.Uint64(v[i*8:]))
		}
		return nil
	})
}

func encodeDepth(d [3]int64) []byte {
	b := make([]byte, 0, 24)
	for _, v := range d {
		b = binary.BigEndian.AppendUint64(b, uint64(v))
	}
	return b
}

// getValue returns a copy of key's value; ErrNotFound when absent.
// viewValue calls fn with k's value in badger's own buffer (valid during
// the call only), for readers that decode it rather than keep it;
// store.ErrNotFound when k is absent.
func viewValue(txn *badger.Txn, k []byte, fn func(v []byte) error) error {
	it, err := txn.Get(k)
	if errors.Is(err, badger.ErrKeyNotFound) {
		return store.ErrNotFound
	}
	if err != nil {
		return err
	}
	return it.Value(fn)
}

func getValue(txn *badger.Txn, k []byte) ([]byte, error) {
	it, err := txn.Get(k)
	if errors.Is(err, badger.ErrKeyNotFound) {
		return nil, store.ErrNotFound
	}
	if err != nil {
		return nil, err
	}
	return it.ValueCopy(nil)
}

// dropDetail makes a an attempt summary (store.AttemptDetail left out).
func dropDetail(a *store.Attempt) {
	a.RequestHeaders, a.RequestBody, a.ResponseHeaders, a.ResponseBody = nil, nil, nil, nil
}

// encodeIDs lists ids as uvarint(len) id pairs (expiry blocks).
func encodeIDs(ids []string) []byte {
	n := 0
	for _, id := range ids {
		n += 2 + len(id)
	}
	b := make([]byte, 0, n)
	for _, id := range ids {
		b = append(binary.AppendUvarint(b, uint64(len(id))), id...)
	}
	return b
}

func decodeIDs(b []byte) ([]string, error) {
	var ids []string
	for len(b) > 0 {
		n, k := binary.Uvarint(b)
		if k <= 0 || uint64(len(b)-k) < n {
			return nil, errCorrupt
		}
		ids = append(ids, string(b[k:k+int(n)]))
		b = b[k+int(n):]
	}
	return ids, nil
}
