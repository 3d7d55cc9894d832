package store

import (
	"crypto/rand"
	"encoding/binary"
	"fmt"
	"strconv"
	"strings"
	"time"

	"github.com/google/uuid"
)

// NewID returns a new event id: a UUIDv7, whose first 48 bits
// are the time in milliseconds and which this process hands out in
// increasing order. The stores key events by it (and deliveries and
// attempts by NewDeliveryID's ids, which sort by time too), so the
// records written together sit together in their keys: the
// memtable inserts them at its end instead of at random, and a claim
// reads a backlog's events from neighbouring blocks. With random ids
// (UUIDv4) the skiplist inserts were a fifth of a bulk publish's CPU
// (docs/storage.md, "Ids"). The 62 random bits keep ids unguessable
// enough for what they are: names, never credentials (every lookup is
// also scoped to the caller's company).
func NewID() string { return uuid.Must(uuid.NewV7()).String() }

// NewDeliveryID returns the id of a new delivery of priority prio due at
// due: a UUIDv8 that carries both, ahead of 56 random bits. Its first
// 48 bits are the due time's high bits, so ids sort by due time like
// NewID's. A store may find a delivery that has never moved from where it
// was first queued by its id alone (QueuedAt), with no key of its own:
// the Badger store writes no d/ reference at ingest, a third of what a
// publish wrote to the LSM (docs/storage.md, "Format 7").
func NewDeliveryID(prio int, due time.Time) string {
	var u uuid.UUID
	k := TimeKey(due)
	binary.BigEndian.PutUint64(u[:8], k>>16<<16) // bytes 0-5: the high 48 bits
	u[6] = 0x80 | byte(k>>12)&0x0f               // version 8, then 4 bits
	u[7] = byte(k >> 4)
	u[8] = 0x80 | byte(k&0x0f)<<2 | byte(prio)&0x03 // RFC 9562 variant, 4 bits, the priority
	_, _ = rand.Read(u[9:])                         // never fails (crypto/rand)
	return u.String()
}

// TimeKey is t as a store's keys order times: Unix nanoseconds, with the
// zero time and any time before 1970 as 0. A NewDeliveryID id carries its
// due time in this form, so that the Badger store finds the queue key.
func TimeKey(t time.Time) uint64 {
	if t.IsZero() || t.UnixNano() < 0 {
		return 0
	}
	return uint64(t.UnixNano())
}

// QueuedAt returns the priority and due time (TimeKey) a NewDeliveryID id
// carries; ok is false for any other id.
func QueuedAt(id string) (prio int, due uint64, ok bool) {
	if len(id) != 36 || id[14] != '8' {
		return 0, 0, false
	}
	u, err := uuid.Parse(id)
	if err != nil || u.Version() != 8 || u.Variant() != uuid.RFC4122 {
		return 0, 0, false
	}
	due = binary.BigEndian.Uint64(u[:8])>>16<<16 | uint64(u[6]&0x0f)<<12 | uint64(u[7])<<4 | uint64(u[8]>>2&0x0f)
	return int(u[8] & 0x03), due, true
}

// FormatLogID joins a delivery uuid and an attempt number as "uuid:attempt",
// the form of the X-FN-Delivery-Id header and of delivery-log ids.
func FormatLogID(deliveryID string, attempt int) string {
	return deliveryID + ":" + strconv.Itoa(attempt)
}

// ParseLogID splits "uuid:attempt". A bare uuid returns attempt 0.
func ParseLogID(s string) (deliveryID string, attempt int, err error) {
	id, n, found := strings.Cut(s, ":")
	if !found {
		return s, 0, nil
	}
	attempt, err = strconv.Atoi(n)
	if err != nil || attempt < 1 {
		return "", 0, fmt.Errorf("delivery id %q: attempt after ':' must be a positive number", s)
	}
	return id, attempt, nil
}
