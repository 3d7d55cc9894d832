package store

import (
	"fmt"
	"strconv"
	"strings"

	"github.com/google/uuid"
)

// NewID returns a new event or delivery id: a UUIDv7, whose first 48 bits
// are the time in milliseconds and which this process hands out in
// increasing order. The stores key events, deliveries and attempts by
// it, so the records written together sit together in their keys: the
// memtable inserts them at its end instead of at random, and a claim
// reads a backlog's events from neighbouring blocks. With random ids
// (UUIDv4) the skiplist inserts were a fifth of a bulk publish's CPU
// (docs/storage.md, "Ids"). The 62 random bits keep ids unguessable
// enough for what they are: names, never credentials (every lookup is
// also scoped to the caller's company).
func NewID() string { return uuid.Must(uuid.NewV7()).String() }

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
