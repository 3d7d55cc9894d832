package store

import (
	"encoding/binary"
	"encoding/json"
	"errors"
	"fmt"
	"time"

	badger "github.com/dgraph-io/badger/v4"
)

// Records are JSON, except that byte payloads (event envelopes, request and
// response bodies) travel beside the JSON instead of inside it: JSON would
// base64 them (+33%) and spend CPU doing it on the hot path.
//
//	record = 0x01 uvarint(len(json)) json { uvarint(len(blob)) blob }

const recordVersion = 1

var errCorrupt = errors.New("store: corrupt record")

func encodeRecord(hdr any, blobs ...[]byte) ([]byte, error) {
	j, err := json.Marshal(hdr)
	if err != nil {
		return nil, err
	}
	n := 1 + binary.MaxVarintLen64 + len(j)
	for _, b := range blobs {
		n += binary.MaxVarintLen64 + len(b)
	}
	out := make([]byte, 0, n)
	out = append(out, recordVersion)
	out = binary.AppendUvarint(out, uint64(len(j)))
	out = append(out, j...)
	for _, b := range blobs {
		out = binary.AppendUvarint(out, uint64(len(b)))
		out = append(out, b...)
	}
	return out, nil
}

// decodeRecord fills hdr and returns the blobs (copies: badger's value
// buffers are only valid inside the transaction).
func decodeRecord(v []byte, hdr any, nblobs int) ([][]byte, error) {
	if len(v) == 0 || v[0] != recordVersion {
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
		if len(b) > 0 {
			blobs[i] = append([]byte(nil), b...)
		}
	}
	return blobs, nil
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
	Event
	Deliveries []string `json:"deliveries,omitempty"`
}

func encodeEvent(ev *Event, deliveries []string) ([]byte, error) {
	r := eventRecord{Event: *ev, Deliveries: deliveries}
	r.Payload = nil
	return encodeRecord(&r, ev.Payload)
}

func decodeEvent(v []byte) (*eventRecord, error) {
	var r eventRecord
	blobs, err := decodeRecord(v, &r, 1)
	if err != nil {
		return nil, err
	}
	r.Payload = blobs[0]
	return &r, nil
}

func encodeAttempt(a *Attempt) ([]byte, error) {
	c := *a
	c.RequestBody, c.ResponseBody = nil, nil
	return encodeRecord(&c, a.RequestBody, a.ResponseBody)
}

func decodeAttempt(v []byte) (*Attempt, error) {
	var a Attempt
	blobs, err := decodeRecord(v, &a, 2)
	if err != nil {
		return nil, err
	}
	a.RequestBody, a.ResponseBody = blobs[0], blobs[1]
	return &a, nil
}

// attemptIndexValue carries what ListAttempts filters on, so that counting
// and filtering read only index entries; records are read for the page.
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

func encodeAttemptIndex(a *Attempt) []byte {
	b := make([]byte, 0, 28+len(a.WebhookID)+len(a.EventName)+2)
	b = binary.BigEndian.AppendUint64(b, uint64(a.CompanyID))
	b = binary.BigEndian.AppendUint64(b, uint64(a.WorkOrderID))
	b = binary.BigEndian.AppendUint32(b, uint32(int32(a.ResponseStatus)))
	b = binary.BigEndian.AppendUint64(b, timeKey(a.CreatedAt))
	b = binary.AppendUvarint(b, uint64(len(a.WebhookID)))
	b = append(b, a.WebhookID...)
	return append(b, a.EventName...)
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
	n, k := binary.Uvarint(b[28:])
	if k <= 0 || uint64(len(b)-28-k) < n {
		return v, false
	}
	v.WebhookID = string(b[28+k : 28+k+int(n)])
	v.EventName = string(b[28+k+int(n):])
	return v, true
}

// Stats: n1 bits[(n+7)/8] lastSuccess8 failingSince8 — rewritten on every
// attempt, so it stays ~30 bytes rather than ~600 of JSON booleans.
func encodeStats(s WebhookStats) []byte {
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

func decodeStats(b []byte) (WebhookStats, error) {
	var s WebhookStats
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

// getJSON reads key into v; ErrNotFound when absent.
func getJSON(txn *badger.Txn, k []byte, v any) error {
	it, err := txn.Get(k)
	if errors.Is(err, badger.ErrKeyNotFound) {
		return ErrNotFound
	}
	if err != nil {
		return err
	}
	return it.Value(func(b []byte) error { return json.Unmarshal(b, v) })
}

// getValue returns a copy of key's value; ErrNotFound when absent.
func getValue(txn *badger.Txn, k []byte) ([]byte, error) {
	it, err := txn.Get(k)
	if errors.Is(err, badger.ErrKeyNotFound) {
		return nil, ErrNotFound
	}
	if err != nil {
		return nil, err
	}
	return it.ValueCopy(nil)
}

func jsonUnmarshal(b []byte, v any) error { return json.Unmarshal(b, v) }
