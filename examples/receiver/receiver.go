package main

import (
	"errors"
	"io"
	"net/http"
	"strconv"
	"strings"
	"sync"
	"time"

	"github.com/hookgate/hookgate/signature"
)

// maxBody bounds what a delivery may be; hookgate's own limit is 1 MiB in.
const maxBody = 4 << 20

// Receiver is an http.Handler that accepts hookgate deliveries: it verifies
// the signature over the raw body (Standard Webhooks headers when present,
// else X-FN-Signature), refuses stale timestamps (replays), and hands each
// delivery to Handle once, however often hookgate sends it.
type Receiver struct {
	// Secrets are the webhook secrets accepted: normally one; while you
	// rotate, the new and the old. hookgate signs with both during its
	// grace period, so either alone also verifies.
	Secrets []string
	// Tolerance is how far a delivery's timestamp may be from Now; default 5m.
	Tolerance time.Duration
	// Now is the clock; default time.Now.
	Now func() time.Time
	// Handle processes one verified delivery. An error answers 500, so
	// hookgate retries, and the delivery is not marked as seen.
	Handle func(d Delivery) error

	mu   sync.Mutex
	seen map[string]time.Time // delivery uuid → when it was processed
}

// Delivery is one verified request.
type Delivery struct {
	UUID    string // the delivery uuid: the same on every retry of one event to one webhook
	Attempt int    // from X-FN-Delivery-Id; 0 when absent
	Event   string // X-FN-Event-Name
	Body    []byte
}

var errUnsigned = errors.New("no valid signature")

// ServeHTTP verifies, de-duplicates and handles one delivery.
func (rc *Receiver) ServeHTTP(w http.ResponseWriter, r *http.Request) {
	body, err := io.ReadAll(io.LimitReader(r.Body, maxBody+1))
	if err != nil || len(body) > maxBody {
		http.Error(w, "cannot read the body", http.StatusBadRequest)
		return
	}
	d, err := rc.verify(r.Header, body)
	if err != nil {
		// 401 is final for hookgate (a 4xx is not retried): a bad
		// signature will not become good by resending.
		http.Error(w, err.Error(), http.StatusUnauthorized)
		return
	}
	if rc.done(d.UUID) {
		w.WriteHeader(http.StatusOK) // a re-send of what was already processed
		return
	}
	if err := rc.Handle(d); err != nil {
		http.Error(w, "processing failed", http.StatusInternalServerError)
		return
	}
	rc.markDone(d.UUID)
	w.WriteHeader(http.StatusOK)
}

// verify checks the body against the headers with every secret.
func (rc *Receiver) verify(h http.Header, body []byte) (Delivery, error) {
	d := Delivery{Event: h.Get("X-FN-Event-Name"), Body: body}
	uuid, attempt, _ := strings.Cut(h.Get("X-FN-Delivery-Id"), ":")
	d.UUID, d.Attempt = uuid, atoi(attempt)
	if sig := h.Get(signature.HeaderStandardSignature); sig != "" {
		// Standard Webhooks: webhook-id is the delivery uuid.
		id, ts := h.Get(signature.HeaderStandardID), h.Get(signature.HeaderStandardTimestamp)
		for _, s := range rc.Secrets {
			if err := signature.VerifyStandard(s, body, id, ts, sig, rc.now(), rc.tolerance()); err == nil {
				d.UUID = id
				return d, nil
			} else if !errors.Is(err, signature.ErrStandardNoMatch) {
				return d, err
			}
		}
		return d, errUnsigned
	}
	ms, err := strconv.ParseInt(h.Get("X-FN-Request-Timestamp"), 10, 64)
	if err != nil || d.UUID == "" {
		return d, errors.New("missing X-FN-Request-Timestamp or X-FN-Delivery-Id")
	}
	if age := rc.now().Sub(time.UnixMilli(ms)); age > rc.tolerance() || age < -rc.tolerance() {
		return d, errors.New("X-FN-Request-Timestamp is outside the tolerance")
	}
	for _, s := range rc.Secrets {
		if signature.Verify(s, body, h.Get("X-FN-Signature")) {
			return d, nil
		}
	}
	return d, errUnsigned
}

// done reports whether uuid was processed, forgetting uuids older than the
// longest time hookgate keeps retrying (its backoff totals about 21
// minutes; a day leaves room for manual retries).
func (rc *Receiver) done(uuid string) bool {
	rc.mu.Lock()
	defer rc.mu.Unlock()
	now := rc.now()
	for k, t := range rc.seen {
		if now.Sub(t) > 24*time.Hour {
			delete(rc.seen, k)
		}
	}
	_, ok := rc.seen[uuid]
	return ok
}

func (rc *Receiver) markDone(uuid string) {
	rc.mu.Lock()
	defer rc.mu.Unlock()
	if rc.seen == nil {
		rc.seen = map[string]time.Time{}
	}
	rc.seen[uuid] = rc.now()
}

func (rc *Receiver) now() time.Time {
	if rc.Now != nil {
		return rc.Now()
	}
	return time.Now()
}

func (rc *Receiver) tolerance() time.Duration {
	if rc.Tolerance > 0 {
		return rc.Tolerance
	}
	return signature.DefaultTolerance
}

func atoi(s string) int {
	n, _ := strconv.Atoi(s)
	return n
}
