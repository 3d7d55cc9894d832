package badger

import (
	"bytes"
	"encoding/binary"
	"time"

	"github.com/hookgate/hookgate/store"
)

// Key layout (docs/storage.md has the full table). Every key starts with a
// one-letter kind and a 0x00; variable-length parts (ids) end with 0x00 when
// something follows them, so no prefix of one key space matches another.
var (
	keySeqWebhook = []byte("s\x00webhook")
	keySeqHistory = []byte("s\x00history")
	keyDepth      = []byte("c\x00depth")
)

const (
	pWebhook     = "w\x00" // w/<webhookID>                                   → Webhook JSON
	pWebhookByCo = "W\x00" // W/<company8><webhookID>                         → nil
	pStats       = "S\x00" // S/<webhookID>                                   → WebhookStats (compact)
	pHistory     = "h\x00" // h/<webhookID>\0<id8>                            → HistoryEntry JSON
	pEvent       = "e\x00" // e/<eventID>                                     → event record
	pEventOpen   = "o\x00" // o/<eventID>                                     → open deliveries (uvarint; fan-out > 1 only)
	pEventExp    = "x\x00" // x/<eventID>                                     → expires8 seq8 (its block; expires8 alone before format 3): the event's retention clock runs
	pExpiry      = "X\x00" // X/<expires8><seq8>                              → event ids: what sweepEvents deletes, oldest first (X/<expires8><eventID> → nil before format 3)
	pDelivery    = "d\x00" // d/<deliveryID>                                  → Delivery record (codec.go); while queued, a reference to its q/ key (format 6, recordQueued)
	pQueue       = "q\x00" // q/<prio1><due8><deliveryID>                     → the Delivery record (before format 6 a copy of the d/ record; nil from older builds); not for a delivery waiting in its lane (laneWaiting)
	pInFlight    = "i\x00" // i/<deliveryID>                                  → nil
	pDelByHook   = "D\x00" // D/<webhookID>\0<bucket1><created8><deliveryID>  → nil (bucket x: dead; o and s before format 3)
	pAttempt     = "a\x00" // a/<deliveryID>\0<attempt4>                      → Attempt record (before format 8; expire by their TTL)
	pAttemptByCo = "A\x00" // A/<company8><created8><deliveryID>\0<attempt4><filter> → Attempt record (format 8; without <filter>, an index value: its record is under a/)
	pAttemptByHk = "B\x00" // B/<webhookID>\0<created8><deliveryID>\0<attempt4> → attempt index value (before format 3; expire by their TTL, unread)
	pIdempotency = "k\x00" // k/<key>                                         → expires8 + response
	pMeta        = "m\x00" // m/<name>                                        → bytes
	pUsage       = "u\x00" // u/<company8>                                    → stored event payload bytes (uvarint)
	pLane        = "L\x00" // L/<webhookID>\0<workOrder8><seq8>               → delivery id, while it keeps its lane waiting (lanes.go)
	pLaneSeq     = "l\x00" // l/<webhookID>\0<workOrder8>                      → the lane's last sequence (uvarint)
)

// Delivery buckets in the D/ index: open (pending or in flight) and
// succeeded were written before format 3, which indexes dead ones only.
const (
	bucketOpen      = 'o'
	bucketSucceeded = 's'
	bucketDead      = 'x'
)

// timeKey orders times as big-endian nanoseconds; the zero time sorts first.
func timeKey(t time.Time) uint64 { return store.TimeKey(t) }

func keyTime(u uint64) time.Time {
	if u == 0 {
		return time.Time{}
	}
	return time.Unix(0, int64(u)).UTC()
}

func key(parts ...[]byte) []byte {
	n := 0
	for _, p := range parts {
		n += len(p)
	}
	k := make([]byte, 0, n)
	for _, p := range parts {
		k = append(k, p...)
	}
	return k
}

func u64(v uint64) []byte { return binary.BigEndian.AppendUint64(nil, v) }

var sep = []byte{0}

func webhookKey(id string) []byte { return key([]byte(pWebhook), []byte(id)) }
func webhookCoKey(company int64, id string) []byte {
	return key([]byte(pWebhookByCo), u64(uint64(company)), []byte(id))
}
func webhookCoPrefix(company int64) []byte {
	return key([]byte(pWebhookByCo), u64(uint64(company)))
}
func statsKey(id string) []byte { return strKey(pStats, id) }
func historyPrefix(webhookID string) []byte {
	return key([]byte(pHistory), []byte(webhookID), sep)
}
func historyKey(webhookID string, id int64) []byte {
	return key(historyPrefix(webhookID), u64(uint64(id)))
}
func eventKey(id string) []byte     { return strKey(pEvent, id) }
func eventOpenKey(id string) []byte { return strKey(pEventOpen, id) }
func eventExpKey(id string) []byte  { return strKey(pEventExp, id) }

// expiryBlockKey is X/ + ref, an x/ value: <expires8><seq8>.
func expiryBlockKey(ref []byte) []byte { return append([]byte(pExpiry), ref...) }

func expiryKey(at uint64, id string) []byte {
	return append(binary.BigEndian.AppendUint64([]byte(pExpiry), at), id...)
}
func deliveryKey(id string) []byte { return strKey(pDelivery, id) }
func queuePrefix(prio int) []byte  { return []byte{pQueue[0], 0, byte(prio)} }

// The keys below are built with one allocation each: they are made for
// every delivery on the hot path (key() and u64() cost three or four).
func strKey(prefix, id string) []byte {
	return append(append(make([]byte, 0, len(prefix)+len(id)), prefix...), id...)
}

func queueKey(prio int, due time.Time, id string) []byte {
	k := append(make([]byte, 0, 3+8+len(id)), pQueue[0], 0, byte(prio))
	k = binary.BigEndian.AppendUint64(k, timeKey(due))
	return append(k, id...)
}
func inFlightKey(id string) []byte { return key([]byte(pInFlight), []byte(id)) }
func delByHookPrefix(webhookID string, bucket byte) []byte {
	return key([]byte(pDelByHook), []byte(webhookID), sep, []byte{bucket})
}

// deadKey is d's key in the dead-letter index (D/, bucket x).
func deadKey(d *store.Delivery) []byte {
	k := make([]byte, 0, len(pDelByHook)+len(d.WebhookID)+2+8+len(d.ID))
	k = append(append(append(k, pDelByHook...), d.WebhookID...), 0, bucketDead)
	k = binary.BigEndian.AppendUint64(k, timeKey(d.CreatedAt))
	return append(k, d.ID...)
}
func attemptPrefix(deliveryID string) []byte {
	return key([]byte(pAttempt), []byte(deliveryID), sep)
}
func attemptKey(deliveryID string, n int) []byte {
	k := make([]byte, 0, len(pAttempt)+len(deliveryID)+1+4)
	k = append(append(append(k, pAttempt...), deliveryID...), 0)
	return binary.BigEndian.AppendUint32(k, uint32(n))
}
func attemptCoPrefix(company int64) []byte {
	return key([]byte(pAttemptByCo), u64(uint64(company)))
}

// attemptKey8 is the key of a's record since format 8: its company, its
// time, its delivery and number, then what listings filter on (filter), so
// that counting and filtering a company's attempts reads keys only and the
// record needs no index key of its own. attemptRefKey with the company and
// time is its prefix.
func attemptKey8(a *store.Attempt) []byte {
	k := make([]byte, 0, len(pAttemptByCo)+8+8+len(a.DeliveryID)+1+4+8+4+1+len(a.WebhookID)+len(a.EventName))
	k = attemptRefKey(k, a.CompanyID, timeKey(a.CreatedAt), a.DeliveryID, a.Attempt)
	k = binary.BigEndian.AppendUint64(k, uint64(a.WorkOrderID))
	k = binary.BigEndian.AppendUint32(k, uint32(int32(a.ResponseStatus)))
	k = binary.AppendUvarint(k, uint64(len(a.WebhookID)))
	k = append(k, a.WebhookID...)
	return append(k, a.EventName...)
}

// attemptRefKey appends A/<company8><created8><deliveryID>\0<attempt4> to k:
// the key of a record's index value before format 8, and the prefix of its
// key since.
func attemptRefKey(k []byte, company int64, created uint64, deliveryID string, n int) []byte {
	k = append(k, pAttemptByCo...)
	k = binary.BigEndian.AppendUint64(k, uint64(company))
	k = binary.BigEndian.AppendUint64(k, created)
	k = append(append(k, deliveryID...), 0)
	return binary.BigEndian.AppendUint32(k, uint32(n))
}

// attemptKeyOf parses an A/ key. filtered: the key holds the record's
// filter fields and its value is the record (format 8); otherwise v has
// only the company and time, and the value is an index value.
func attemptKeyOf(k []byte) (v attemptIndexValue, id string, n int, filtered, ok bool) {
	const head = len(pAttemptByCo) + 16
	if len(k) < head+1+4 {
		return v, "", 0, false, false
	}
	v.CompanyID = int64(binary.BigEndian.Uint64(k[len(pAttemptByCo):]))
	v.CreatedAt = binary.BigEndian.Uint64(k[len(pAttemptByCo)+8:])
	i := bytes.IndexByte(k[head:], 0)
	if i < 0 || len(k) < head+i+1+4 {
		return v, "", 0, false, false
	}
	id = string(k[head : head+i])
	n = int(binary.BigEndian.Uint32(k[head+i+1:]))
	rest := k[head+i+1+4:]
	if len(rest) == 0 {
		return v, id, n, false, true
	}
	if len(rest) < 12 {
		return v, "", 0, false, false
	}
	v.WorkOrderID = int64(binary.BigEndian.Uint64(rest))
	v.Status = int(int32(binary.BigEndian.Uint32(rest[8:])))
	if v.WebhookID, v.EventName, ok = cutHookEvent(rest[12:]); !ok {
		return v, "", 0, false, false
	}
	return v, id, n, true, true
}
func idemKey(k string) []byte { return key([]byte(pIdempotency), []byte(k)) }
func metaKey(n string) []byte { return key([]byte(pMeta), []byte(n)) }

// prefixEnd returns the smallest key greater than every key with prefix p
// (for reverse iteration and range bounds).
func prefixEnd(p []byte) []byte {
	e := append([]byte(nil), p...)
	for i := len(e) - 1; i >= 0; i-- {
		if e[i] < 0xff {
			e[i]++
			return e[:i+1]
		}
	}
	return nil
}
