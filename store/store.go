// Package store keeps everything hookgate must not lose: webhooks, accepted
// events, the delivery queue ordered by due time, one log record per attempt,
// change history, idempotency keys and a little gateway metadata.
//
// Store is the interface the gateway uses; store/badger is the embedded
// implementation and store/postgres the one several replicas share. It
// knows nothing of HTTP, JSONata or plugins.
package store

import (
	"bytes"
	"context"
	"errors"
	"fmt"
	"time"
	"unicode/utf8"
)

// Errors that decide behaviour in callers.
var (
	// ErrNotFound: the record does not exist (or has expired).
	ErrNotFound = errors.New("store: not found")
	// ErrClosed: the store has been closed.
	ErrClosed = errors.New("store: closed")
)

// WebhookStatus is whether a webhook receives deliveries.
type WebhookStatus string

// Webhook statuses.
const (
	StatusActive   WebhookStatus = "active"
	StatusInactive WebhookStatus = "inactive"
	StatusArchived WebhookStatus = "archived"
)

// Webhook sources.
const (
	SourceAPI    = "api"
	SourceConfig = "config"
)

// Webhook is one subscription: where and how to deliver which events.
type Webhook struct {
	ID        int64         `json:"id"`        // internal sequence, assigned by PutWebhook when 0
	WebhookID string        `json:"webhookId"` // UUID, used in paths and X-FN-Webhook-Id
	CompanyID int64         `json:"companyId"`
	UserID    int64         `json:"userId"`
	URL       string        `json:"url"` // may hold {{ JSONata }} placeholders
	Method    string        `json:"method"`
	Status    WebhookStatus `json:"status"`
	Events    []string      `json:"events"`
	Secret    string        `json:"secret"`
	// PreviousSecret is the secret replaced by the last rotation; deliveries
	// are signed with it too until PreviousSecretExpiresAt, so receivers can
	// switch without losing events. Empty when there is no grace period.
	PreviousSecret          string    `json:"previousSecret,omitempty"`
	PreviousSecretExpiresAt time.Time `json:"previousSecretExpiresAt,omitzero"`
	// SignatureFormat is "fn" (X-FN-Signature only; "" means the same) or
	// "standard-webhooks" (the webhook-* headers as well).
	SignatureFormat   string            `json:"signatureFormat,omitempty"`
	NotificationEmail string            `json:"notificationEmail,omitempty"`
	ModelProperties   []string          `json:"modelProperties,omitempty"`
	IsIntegrationOnly bool              `json:"isIntegrationOnly"`
	Headers           map[string]string `json:"headers,omitempty"`
	PayloadTemplate   string            `json:"payloadTemplate,omitempty"`
	Sink              string            `json:"sink"`
	// RateLimit paces the webhook's attempts ("20/s", "600/m"; empty: no
	// limit) with a bucket of RateBurst (0: the gateway's default);
	// MaxInFlight, when above 0, bounds its attempts running at once in
	// place of the gateway-wide limit.
	RateLimit   string `json:"rateLimit,omitempty"`
	RateBurst   int    `json:"rateBurst,omitempty"`
	MaxInFlight int    `json:"maxInFlight,omitempty"`
	// Ordering is OrderingNone ("" means the same) or OrderingWorkOrder:
	// the deliveries of one work order go out one at a time, in the order
	// their events were accepted (docs/delivery.md, "Ordering").
	Ordering string `json:"ordering,omitempty"`
	// OrderingOnDead is what a dead letter does to its work order's lane
	// when Ordering is set: OnDeadContinue ("" means the same) or OnDeadHold.
	OrderingOnDead string    `json:"orderingOnDead,omitempty"`
	Source         string    `json:"source"`              // api | config
	SourceRef      string    `json:"sourceRef,omitempty"` // for config: `file:line webhook "name"`
	Version        int64     `json:"version"`             // bumped on every change; keys template caches
	CreatedAt      time.Time `json:"createdAt"`
	UpdatedAt      time.Time `json:"updatedAt"`
}

// Webhook orderings and what a dead letter does to an ordered lane.
const (
	OrderingNone      = "none"
	OrderingWorkOrder = "work_order"
	OnDeadContinue    = "continue"
	OnDeadHold        = "hold"
)

// Ordered reports whether the webhook's deliveries go out in lanes, one
// work order at a time.
func (w *Webhook) Ordered() bool { return w.Ordering == OrderingWorkOrder }

// HoldsLaneOnDead reports whether a dead letter of w keeps its work
// order's lane waiting (Delivery.HoldsLane).
func (w *Webhook) HoldsLaneOnDead() bool { return w.Ordered() && w.OrderingOnDead == OnDeadHold }

// Event is an accepted producer event, kept verbatim.
type Event struct {
	ID          string    `json:"id"`      // UUID
	TraceID     string    `json:"traceId"` // UUID, X-FN-Event-Trace-Id
	Name        string    `json:"name"`
	CompanyID   int64     `json:"companyId"`
	WorkOrderID int64     `json:"workOrderId"`
	Payload     []byte    `json:"payload"` // the envelope exactly as received
	ReceivedAt  time.Time `json:"receivedAt"`
	// TraceParent is the W3C traceparent of the publish's span, the parent
	// of every attempt's span; "" when tracing was off. With tracing on,
	// TraceID is the same trace id written as a UUID.
	TraceParent string `json:"traceParent,omitempty"`
}

// DeliveryState is where a delivery is in its life.
type DeliveryState string

// Delivery states.
const (
	DeliveryPending   DeliveryState = "pending"   // in the queue, due at DueAt
	DeliveryInFlight  DeliveryState = "inflight"  // claimed by a worker
	DeliverySucceeded DeliveryState = "succeeded" // a 2xx was received
	DeliveryDead      DeliveryState = "dead"      // dead-lettered: retries exhausted or final failure
)

// Delivery is one event for one webhook. Its ID is fixed for all attempts.
type Delivery struct {
	ID          string        `json:"id"` // UUID; attempts are logged as ID:attempt
	EventID     string        `json:"eventId"`
	WebhookID   string        `json:"webhookId"`
	CompanyID   int64         `json:"companyId"`
	EventName   string        `json:"eventName"`
	WorkOrderID int64         `json:"workOrderId"`
	Priority    int           `json:"priority"` // events.Priority: 0 high, 1 normal, 2 low
	Attempts    int           `json:"attempts"` // attempts made so far; the next one is Attempts+1
	State       DeliveryState `json:"state"`
	DueAt       time.Time     `json:"dueAt"`
	LastStatus  int           `json:"lastStatus,omitempty"`
	LastError   string        `json:"lastError,omitempty"`
	DeadReason  string        `json:"deadReason,omitempty"`
	CreatedAt   time.Time     `json:"createdAt"`
	UpdatedAt   time.Time     `json:"updatedAt"`
	// Sequence is the delivery's place in its lane (its webhook and work
	// order): 1, 2, … in the order the events were accepted, 0 for a
	// webhook without ordering. Ingest assigns it to the deliveries given
	// with Ordered set; a store claims a sequenced delivery only when no
	// earlier one of its lane is unfinished (or dead and holding the lane)
	// and none of its lane is in flight.
	Sequence int64 `json:"sequence,omitempty"`
	// Ordered asks Ingest to give the delivery the next Sequence of its
	// lane. Not stored: Sequence > 0 is what says a delivery is ordered.
	Ordered bool `json:"-"`
	// HoldsLane: the delivery is dead and its lane waits for it to be
	// retried or released (ordering_on_dead = "hold"). Set by the
	// dispatcher with the dead state; cleared by Requeue and ReleaseLane.
	HoldsLane bool `json:"holdsLane,omitempty"`
	// Attempted is when the delivery's logged attempts were made, for a
	// store that keys attempt records by time: the embedded store finds an
	// attempt by its delivery's id from here. Stores keep it; not in the API.
	Attempted AttemptTimes `json:"-"`
}

// AttemptTimes says when a delivery's attempts were made: At[i] is
// TimeKey(CreatedAt)+1 of attempt First+i, or 0 when not known (an attempt
// logged by a build that did not keep its time).
type AttemptTimes struct {
	First int
	At    []uint64
}

// Of returns the time key of attempt n, or false when not known.
func (t AttemptTimes) Of(n int) (uint64, bool) {
	i := n - t.First
	if i < 0 || i >= len(t.At) || t.At[i] == 0 {
		return 0, false
	}
	return t.At[i] - 1, true
}

// With returns t with attempt n made at created: the times of the attempts
// before it that t has, none after it (a record written again replaces
// what followed), zeros for those t does not have. It keeps at most most
// times (≤ 0: no bound), the latest, and none older than created minus
// keep (keep ≤ 0: all), whose records have expired. t is not changed.
func (t AttemptTimes) With(n int, created time.Time, keep time.Duration, most int) AttemptTimes {
	if n < 1 {
		return t
	}
	first := t.First
	if len(t.At) == 0 || n < first {
		first = n
	}
	if most > 0 && n-first+1 > most {
		first = n - most + 1
	}
	out := make([]uint64, n-first+1)
	for i := range len(out) - 1 {
		if j := first + i - t.First; j >= 0 && j < len(t.At) {
			out[i] = t.At[j]
		}
	}
	out[len(out)-1] = TimeKey(created) + 1
	if keep > 0 {
		oldest := TimeKey(created.Add(-keep)) + 1
		for len(out) > 1 && out[0] < oldest {
			out, first = out[1:], first+1
		}
	}
	return AttemptTimes{First: first, At: out}
}

// InLane reports whether d keeps its lane's later deliveries waiting: it
// is sequenced and open (pending or in flight), or dead holding the lane.
func (d *Delivery) InLane() bool {
	if d.Sequence <= 0 {
		return false
	}
	switch d.State {
	case DeliveryPending, DeliveryInFlight:
		return true
	case DeliveryDead:
		return d.HoldsLane
	}
	return false
}

// Outcome is what one attempt led to.
type Outcome string

// Attempt outcomes.
const (
	OutcomeSuccess Outcome = "success" // 2xx
	OutcomeRetry   Outcome = "retry"   // failed, another attempt is scheduled
	OutcomeFailed  Outcome = "failed"  // failed, no further attempt (dead-lettered)
)

// Attempt is the log record of one try of a delivery (spec notes §2.8).
type Attempt struct {
	DeliveryID      string            `json:"deliveryUuid"`
	Attempt         int               `json:"deliveryAttempt"`
	WebhookID       string            `json:"webhookId"`
	CompanyID       int64             `json:"companyId"`
	EventID         string            `json:"eventId"`
	EventName       string            `json:"eventName"`
	WorkOrderID     int64             `json:"workOrderId"`
	RequestURL      string            `json:"requestUrl"`
	RequestMethod   string            `json:"requestMethod"`
	RequestHeaders  map[string]string `json:"requestHeaders"` // secrets never stored here
	RequestBody     []byte            `json:"requestBody"`
	ResponseStatus  int               `json:"responseStatus"`
	ResponseHeaders map[string]string `json:"responseHeaders,omitempty"`
	ResponseBody    []byte            `json:"responseBody,omitempty"`
	Error           string            `json:"error,omitempty"`
	Outcome         Outcome           `json:"outcome"`
	ExternalRef     string            `json:"externalRef,omitempty"`
	DurationMs      int64             `json:"responseTime"`
	CreatedAt       time.Time         `json:"createdAt"`
	// RequestBodySize and ResponseBodySize are the sizes of the bodies as
	// sent and as received. The record may keep only the first part of each
	// body (delivery_log.max_body; the event keeps the whole payload), so a
	// body shorter than its size was truncated. A store reads a size below
	// its body's length, as in records written before sizes were kept, as
	// that length (FillBodySizes).
	RequestBodySize  int64 `json:"requestBodySize,omitempty"`
	ResponseBodySize int64 `json:"responseBodySize,omitempty"`
	// RequestBodyIsPayload tells the store that RequestBody is the event's
	// payload as accepted (no template changed it), or its first part when
	// truncated, so it may keep one copy: the Badger store then stores no
	// body and reads it back from the event, which outlives its attempt
	// records. Readers see RequestBody either way.
	RequestBodyIsPayload bool `json:"-"`
}

// RequestBodyTruncated reports whether RequestBody is only the first part
// of the body that was sent.
func (a *Attempt) RequestBodyTruncated() bool { return int64(len(a.RequestBody)) < a.RequestBodySize }

// ResponseBodyTruncated reports whether ResponseBody is only the first part
// of the body that was received.
func (a *Attempt) ResponseBodyTruncated() bool {
	return int64(len(a.ResponseBody)) < a.ResponseBodySize
}

// FillBodySizes sets each body size that is below its body's length to
// that length: the size of a body kept whole.
func (a *Attempt) FillBodySizes() {
	a.RequestBodySize = max(a.RequestBodySize, int64(len(a.RequestBody)))
	a.ResponseBodySize = max(a.ResponseBodySize, int64(len(a.ResponseBody)))
}

// KeepBodies is what an attempt record keeps of its bodies: it fills in
// their sizes, then cuts each body to at most limit bytes (backing off to
// the start of a UTF-8 character, so the kept text never ends in half of
// one). The kept parts are copies: an attempt waiting to be written does
// not pin a large body's memory.
func (a *Attempt) KeepBodies(limit int) {
	a.FillBodySizes()
	a.RequestBody = keepPrefix(a.RequestBody, limit)
	a.ResponseBody = keepPrefix(a.ResponseBody, limit)
}

func keepPrefix(b []byte, limit int) []byte {
	if len(b) <= limit {
		return b
	}
	n := max(limit, 0)
	for i := n; i > 0 && i > n-utf8.UTFMax; i-- {
		if utf8.RuneStart(b[i]) {
			n = i
			break
		}
	}
	return bytes.Clone(b[:n])
}

// CheckAttempt is what every driver's RecordAttempt checks first: both
// records given, the delivery's id set, the attempt numbered from 1.
func CheckAttempt(d *Delivery, a *Attempt) error {
	if d == nil || a == nil || d.ID == "" {
		return errors.New("store: record attempt: delivery and attempt are required")
	}
	if a.Attempt < 1 {
		return fmt.Errorf("store: record attempt %s: attempt number %d must be at least 1", d.ID, a.Attempt)
	}
	return nil
}

// AttemptRecord is one attempt for Queue.RecordAttempts: the delivery's
// new state and the attempt's log record.
type AttemptRecord struct {
	Delivery *Delivery
	Attempt  *Attempt
	// Err is set by RecordAttempts when this record alone was not written.
	Err error
}

// RecordOne is RecordAttempt written as a batch of one, for drivers
// whose RecordAttempts does the work.
func RecordOne(ctx context.Context, q interface {
	RecordAttempts(context.Context, []AttemptRecord) error
}, d *Delivery, a *Attempt) error {
	recs := []AttemptRecord{{Delivery: d, Attempt: a}}
	if err := q.RecordAttempts(ctx, recs); err != nil {
		return err
	}
	return recs[0].Err
}

// LogID is the attempt's id as the API and the X-FN-Delivery-Id header show it.
func (a *Attempt) LogID() string { return FormatLogID(a.DeliveryID, a.Attempt) }

// AttemptDetail names the fields a summary leaves out (as their JSON names):
// the headers and bodies, which only the full delivery-log record shows.
var AttemptDetail = []string{"requestHeaders", "requestBody", "responseHeaders", "responseBody"}

// HistoryEntry is one change to a webhook.
type HistoryEntry struct {
	ID        int64          `json:"id"` // assigned by the store, increasing
	WebhookID string         `json:"webhookId"`
	CompanyID int64          `json:"companyId"`
	UserID    int64          `json:"userId"` // 0 is the system
	Action    string         `json:"action"`
	Changes   map[string]any `json:"changes"`
	// Reason says why, when the system made the change (auto-deactivation,
	// a reload of the HCL file); empty for changes a user asked for.
	Reason    string    `json:"reason,omitempty"`
	CreatedAt time.Time `json:"createdAt"`
}

// WebhookStats is the rolling record the retry budget and auto-deactivation read.
type WebhookStats struct {
	// Recent holds the outcomes of the last (up to) StatsWindow attempts, oldest first.
	Recent        []bool    `json:"recent"`
	LastSuccessAt time.Time `json:"lastSuccessAt"`
	// FailingSince is the time of the first failure after the last success; zero when the last attempt succeeded.
	FailingSince time.Time `json:"failingSince"`
}

// StatsWindow is how many recent attempts WebhookStats keeps (spec §2.3: "~100 deliveries").
const StatsWindow = 100

// SuccessRate returns the share of successes in Recent and how many attempts it covers.
func (s WebhookStats) SuccessRate() (rate float64, n int) {
	if len(s.Recent) == 0 {
		return 0, 0
	}
	ok := 0
	for _, r := range s.Recent {
		if r {
			ok++
		}
	}
	return float64(ok) / float64(len(s.Recent)), len(s.Recent)
}

// IngestItem is one accepted event and the deliveries it fans out to.
type IngestItem struct {
	Event      *Event
	Deliveries []*Delivery
}

// Idempotency ties a producer's Idempotency-Key to the answer it got first.
type Idempotency struct {
	Key      string        // already scoped by the caller (e.g. client id + key)
	Response []byte        // the answer to store with the key
	TTL      time.Duration // how long a repeat returns Response
}

// IngestGroup is one publish of a batch: its events and deliveries and its
// own idempotency record (nil for none).
type IngestGroup struct {
	Idem  *Idempotency
	Items []IngestItem
}

// IngestResult is what IngestEach did with one group: Prior is the stored
// response when the group's idempotency key was known (nothing written),
// Err the group's own failure.
type IngestResult struct {
	Prior []byte
	Err   error
}

// AttemptFilter selects delivery-log records. Zero fields do not filter.
type AttemptFilter struct {
	CompanyID   int64 // always set by the API: isolation between companies
	WebhookID   string
	DeliveryID  string // a uuid (all attempts) or uuid:n (one)
	EventName   string
	WorkOrderID int64
	Status      int // response status; -1 selects attempts without a response (connection errors)
	CreatedFrom time.Time
	CreatedTo   time.Time
	Offset      int
	Limit       int
	OldestFirst bool
	// Summaries: the records come without headers and bodies (AttemptDetail),
	// which lists never show; a page of them then costs no more than its
	// fixed fields, however large the bodies.
	Summaries bool
}

// WebhookFilter selects webhooks. Zero fields do not filter.
type WebhookFilter struct {
	CompanyID int64
	Status    WebhookStatus
	Event     string // subscribed to this event
}

// Store is everything the gateway persists. Every method that changes state
// is one transaction, durable (synced) before it returns. Its parts are
// split by what they hold; a driver implements them all, and may add the
// optional interfaces below (FilteredClaimer, UsageCounter, Locker,
// RateBuckets), which callers find by type assertion.
type Store interface {
	Webhooks
	Queue
	Logs
	History
	Meta

	Close() error
}

// Webhooks holds the subscriptions.
type Webhooks interface {
	// PutWebhook creates or replaces a webhook (by WebhookID), assigning ID when
	// zero, and appends hist (if non-nil) in the same transaction.
	PutWebhook(ctx context.Context, w *Webhook, hist *HistoryEntry) error
	// PutWebhookChanges is PutWebhook with any number of history entries
	// (one per kind of change), all in the same transaction.
	PutWebhookChanges(ctx context.Context, w *Webhook, hist []*HistoryEntry) error
	// DeleteWebhook removes the webhook; its deliveries, logs and history stay.
	DeleteWebhook(ctx context.Context, webhookID string, hist *HistoryEntry) error
	GetWebhook(ctx context.Context, webhookID string) (*Webhook, error)
	ListWebhooks(ctx context.Context, f WebhookFilter) ([]*Webhook, error)
}

// Queue holds accepted events and their deliveries, from ingest through
// claims and attempts to success or the dead letters.
type Queue interface {
	// Ingest durably writes the events and their deliveries (each due at its
	// DueAt, state pending) and the idempotency record. When idem is non-nil
	// and its key is already known and unexpired, nothing is written and the
	// stored response is returned. Concurrent callers are group-committed:
	// many calls share one sync; each returns only after its data is synced.
	Ingest(ctx context.Context, idem *Idempotency, items []IngestItem) (prior []byte, err error)
	// IngestEach is Ingest for many publishes at once (bulk publish): each
	// group is written, or replayed by its key, as one Ingest would, and
	// they share durable commits (one, or a few for a large batch, which
	// concurrent calls may share too); one group's failure does not undo
	// another's (a driver may fail them all together, never report a
	// group failed that it wrote). It answers one result per group, after
	// every written group is synced.
	IngestEach(ctx context.Context, groups []IngestGroup) []IngestResult

	// ClaimDue moves up to limit pending deliveries of one priority whose DueAt
	// is at or before now to in-flight, earliest due first, and returns them.
	ClaimDue(ctx context.Context, priority int, now time.Time, limit int) ([]*Delivery, error)
	// RecordAttempt stores the attempt log record and the delivery's new state
	// (pending with a new DueAt, succeeded, or dead) in one transaction, and
	// updates the webhook's stats. It is RecordAttempts of one record.
	RecordAttempt(ctx context.Context, d *Delivery, a *Attempt) error
	// RecordAttempts stores many attempts as RecordAttempt does, all in one
	// durable write (one group commit, one statement): the gateway's
	// recorder hands it every outcome its workers finished meanwhile. A
	// record that cannot be written on its own (its delivery is unknown,
	// the record is invalid) gets its Err set and the others are written;
	// the error returned means none was (closed store, I/O).
	RecordAttempts(ctx context.Context, recs []AttemptRecord) error
	// Requeue puts a dead (or succeeded) delivery back in the queue, due at
	// now, keeping its uuid and attempt count. ErrNotFound when unknown.
	Requeue(ctx context.Context, deliveryID string, now time.Time) (*Delivery, error)
	// ReleaseInFlight returns every in-flight delivery to the queue, due at
	// now. Called at start: a crash leaves claimed deliveries in flight.
	ReleaseInFlight(ctx context.Context, now time.Time) (int, error)
	// DeadLetterPending dead-letters every pending delivery of a webhook
	// with the reason (used when a webhook stops being active).
	DeadLetterPending(ctx context.Context, webhookID, reason string, now time.Time) (int, error)
	GetDelivery(ctx context.Context, deliveryID string) (*Delivery, error)
	ListDeliveries(ctx context.Context, webhookID string, state DeliveryState, from, to time.Time) ([]*Delivery, error)
	GetEvent(ctx context.Context, eventID string) (*Event, error)
	// GetEvents reads many events at once (one read transaction, one
	// query): the dispatcher reads the events of a claimed batch that are
	// not in its cache. The map holds those found; an unknown or expired
	// id is simply absent.
	GetEvents(ctx context.Context, eventIDs []string) (map[string]*Event, error)
	// QueueDepth counts pending deliveries per priority (index = priority).
	QueueDepth(ctx context.Context) ([3]int, error)
}

// Logs holds the delivery log (one record per attempt, written by
// Queue.RecordAttempt) and the per-webhook stats drawn from it.
type Logs interface {
	GetAttempt(ctx context.Context, deliveryID string, attempt int) (*Attempt, error)
	// ListAttempts returns the matching records (newest first unless
	// OldestFirst) and the total count matching before paging.
	ListAttempts(ctx context.Context, f AttemptFilter) ([]*Attempt, int, error)
	// WalkAttempts calls fn with every record matching f, as a summary (see
	// AttemptFilter.Summaries), in ListAttempts' order, until fn returns
	// false; Offset and Limit are ignored. Records are read as the walk
	// goes, so its memory does not grow with the number of records: this
	// is how searches, other sorts and stats read the log.
	WalkAttempts(ctx context.Context, f AttemptFilter, fn func(*Attempt) bool) error

	GetWebhookStats(ctx context.Context, webhookID string) (WebhookStats, error)
}

// History holds the change history of webhooks (written with each change
// by Webhooks).
type History interface {
	ListHistory(ctx context.Context, webhookID string) ([]*HistoryEntry, error)
}

// Meta holds a little gateway metadata.
type Meta interface {
	// Meta returns the value stored under name, creating it with gen() the
	// first time (e.g. the token signing key).
	Meta(ctx context.Context, name string, gen func() ([]byte, error)) ([]byte, error)
}

// FilteredClaimer is a Store that can pass over deliveries while claiming:
// the dispatcher uses it to leave queued the deliveries of webhooks and
// companies at their in-flight limits (gateway/delivery/fairness.go) instead of
// claiming and holding them.
// A Store without it is claimed from in plain due order, without the limit.
type FilteredClaimer interface {
	// ClaimDueFunc is ClaimDue that leaves queued, unclaimed and in order
	// every due delivery the filter refuses. The filter runs under the
	// store's claim lock and must not call the store. With an error,
	// nothing was claimed: the filter's admissions of the call are void
	// (the dispatcher gives their slots back).
	ClaimDueFunc(ctx context.Context, priority int, now time.Time, limit int, f ClaimFilter) ([]*Delivery, error)
}

// UsageCounter is a Store that counts, per company, the bytes of event
// payloads it holds: ingest adds them, retention takes them off. The
// gateway's stored-bytes quota (config quotas.stored_bytes) reads it.
type UsageCounter interface {
	// StoredBytes returns the payload bytes of the company's stored events.
	StoredBytes(ctx context.Context, companyID int64) (int64, error)
}

// Locker is a Store shared by several replicas that can run a function
// under a lock all of them respect (PostgreSQL: advisory locks). The
// gateway runs the HCL reconcile and the auto-deactivation check under it;
// a Store without it is one process's, whose own mutexes suffice.
type Locker interface {
	// WithLock runs fn while holding the named lock, waiting for it until
	// ctx ends. The lock may be lost if the store's connection breaks, so
	// fn must stay safe to run twice.
	WithLock(ctx context.Context, name string, fn func(context.Context) error) error
}

// RateBuckets is a Store that keeps token buckets every replica draws from,
// so a client's rate limit holds across replicas. A Store without it
// leaves the gateway its in-memory buckets, one set per process.
type RateBuckets interface {
	// TakeToken takes one token from the named bucket, which refills at
	// perSecond up to burst by the caller's clock now. It reports whether
	// the token was granted and how many are left.
	TakeToken(ctx context.Context, key string, perSecond float64, burst int, now time.Time) (bool, float64, error)
	// HoldBucket empties the named bucket so that, refilling at perSecond,
	// it grants its next token at until and none before (a receiver's 429
	// Retry-After pauses a webhook on every replica), and records until as
	// its hold for HeldBuckets; a longer hold is kept. perSecond 0 is a
	// bucket without a rate, held only (a webhook without a rate limit).
	HoldBucket(ctx context.Context, key string, perSecond float64, now, until time.Time) error
	// HeldBuckets returns the buckets whose keys start with prefix that are
	// held past now, each with when its hold ends: how a replica learns of
	// another's pause without taking a token.
	HeldBuckets(ctx context.Context, prefix string, now time.Time) (map[string]time.Time, error)
}

// HeldLane is a lane of an ordered webhook that waits for a dead delivery
// (ordering_on_dead = "hold").
type HeldLane struct {
	WorkOrderID int64     `json:"workOrderId"`
	DeliveryID  string    `json:"deliveryId"` // the dead delivery the lane waits for
	Sequence    int64     `json:"sequence"`
	DeadReason  string    `json:"deadReason,omitempty"`
	DeadAt      time.Time `json:"deadAt"`
	Waiting     int       `json:"waiting"` // deliveries of the work order behind it
}

// Lanes is a Store that can list and release the held lanes of an ordered
// webhook. Both drivers have it; the API answers 501 without it.
type Lanes interface {
	// HeldLanes returns the webhook's lanes whose first delivery is dead
	// and holds the lane, by work order.
	HeldLanes(ctx context.Context, webhookID string) ([]HeldLane, error)
	// ReleaseLane lets the work order's lane go on past its dead
	// delivery, which stays dead. ErrNotFound when the lane is not held.
	ReleaseLane(ctx context.Context, webhookID string, workOrderID int64, now time.Time) (*Delivery, error)
}

// ClaimFilter decides which due deliveries a claim may take.
type ClaimFilter struct {
	// Admit reserves room for d and reports true, or refuses it.
	Admit func(d *Delivery) bool
	// Blocked reports, cheaply, that Admit would refuse every delivery of
	// the webhook now. A store may use it to pass over a delivery it saw
	// refused before without reading it again (Badger: claimSet.refused).
	// Optional.
	Blocked func(webhookID string) bool
	// BlockedCompany reports, cheaply, that Admit would refuse every
	// delivery of the company now (it holds its share of the workers). A
	// store uses it to pass over a company's whole backlog, across all its
	// webhooks, in one step (Badger: a claim run of the company; PostgreSQL:
	// the company left out of the next page). Optional.
	BlockedCompany func(companyID int64) bool
}
