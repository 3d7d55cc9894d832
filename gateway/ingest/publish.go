package ingest

import (
	"context"
	"crypto/sha256"
	"encoding/hex"
	"encoding/json"
	"strconv"
	"time"

	"github.com/google/uuid"
	"go.opentelemetry.io/otel/trace"

	"github.com/hookgate/hookgate/events"
	"github.com/hookgate/hookgate/store"
)

// Store is the part of the store a publish writes: the event, its
// deliveries and the idempotency record, in one transaction.
type Store interface {
	Ingest(ctx context.Context, idem *store.Idempotency, items []store.IngestItem) (prior []byte, err error)
	IngestEach(ctx context.Context, groups []store.IngestGroup) []store.IngestResult
}

// Subscribers lists the active webhooks of company subscribed to event:
// the gateway's in-memory subscriber index. The slice is read-only.
type Subscribers interface {
	Subscribers(company int64, event string) []*store.Webhook
}

// Quota holds a company's publishes to its limits: CheckPublish refuses
// one of size bytes past them (a *QuotaError), Accepted counts one stored.
type Quota interface {
	CheckPublish(ctx context.Context, company int64, size int) error
	Accepted(company int64, size int)
}

// DiskGuard counts an event of n bytes about to be written and refuses it
// (a *QuotaError) while the data folder is low on space.
type DiskGuard interface {
	Admit(n int) error
}

// Clock is the source of an event's received time.
type Clock interface {
	Now() time.Time
}

// Options assemble a Service. Store, Subscribers and Clock are required;
// nil Quota and Disk do not limit; Accepted may be nil.
type Options struct {
	Store       Store
	Subscribers Subscribers
	Clock       Clock
	Quota       Quota
	Disk        DiskGuard
	// IdempotencyTTL is delivery.idempotency_ttl: how long a key replays.
	IdempotencyTTL time.Duration
	// Accepted is told of an event just stored (not of a replay) and how
	// many deliveries it queued: metrics, the event cache, the dispatcher.
	Accepted func(ev *store.Event, deliveries int)
	// Tracer records the fan-out and the durable write (trace.go); nil:
	// tracing off.
	Tracer trace.Tracer
}

// Service accepts published events: validate, fan out, write durably.
type Service struct{ o Options }

// New returns a Service of o.
func New(o Options) *Service { return &Service{o: o} }

// Request is one publish.
type Request struct {
	Company        int64  // the company the token may publish for
	ClientID       string // scopes the idempotency key
	Body           []byte // the envelope; the Service keeps it, so the caller must not reuse it
	IdempotencyKey string // "" for none
	// KeyFrom names where IdempotencyKey came from in refusals: KeyMember
	// for a bulk publish's item; "" is KeyHeader.
	KeyFrom string
	// Parsed is what ParseEnvelope answers for Body when the caller read
	// Body in its own pass already (ReadEnvelope); nil: prepare parses it.
	Parsed *Parsed
}

func (r *Request) keyFrom() string {
	if r.KeyFrom == "" {
		return KeyHeader
	}
	return r.KeyFrom
}

// Result is the 202 answer to a publish.
type Result struct {
	EventID    string `json:"eventId"`
	TraceID    string `json:"traceId"`
	Deliveries int    `json:"deliveries"`
}

// Outcome is what a publish did: the answer, and whether it is the replay
// of an earlier one with the same idempotency key. Answer is Result as
// JSON for a new event published by Publish; nil for a replay and in a
// bulk publish's outcomes (its caller answers all items at once).
type Outcome struct {
	Result   Result
	Answer   []byte
	Replayed bool
}

// Publish checks the disk and the company's quota, parses the envelope,
// fans it out to the subscribed webhooks and stores event, deliveries and
// idempotency record in one transaction; only then is it accepted.
// Refusals are typed: *QuotaError, *ParseError, *WrongCompanyError,
// *IdempotencyConflictError.
func (s *Service) Publish(ctx context.Context, r Request) (Outcome, error) {
	p, err := s.prepare(ctx, r)
	if err != nil {
		return Outcome{}, err
	}
	wctx, span := s.startSpan(ctx, "ingest.write")
	prior, err := s.o.Store.Ingest(wctx, p.idem, p.items())
	endSpan(span, err)
	if err != nil {
		return Outcome{}, err
	}
	out, err := s.finish(p, prior)
	if err == nil && !out.Replayed {
		out.Answer = p.answerJSON()
	}
	return out, err
}

// ItemOutcome is what a bulk publish did with one of its envelopes: Err
// is its refusal (typed as Publish's), else Outcome says what was stored.
type ItemOutcome struct {
	Outcome
	Err error
}

// PublishBatch is Publish for many envelopes at once: each is checked,
// written (or replayed by its own idempotency key) and answered on its own,
// so one bad envelope does not refuse the others, and those accepted are
// written together in one durable group.
func (s *Service) PublishBatch(ctx context.Context, rs []Request) []ItemOutcome {
	out := make([]ItemOutcome, len(rs))
	ps := make([]*prepared, len(rs))
	groups := make([]store.IngestGroup, 0, len(rs))
	at := make([]int, 0, len(rs)) // at[k]: the request of groups[k]
	for i, r := range rs {
		p, err := s.prepare(ctx, r)
		if err != nil {
			out[i].Err = err
			continue
		}
		ps[i] = p
		groups, at = append(groups, store.IngestGroup{Idem: p.idem, Items: p.items()}), append(at, i)
	}
	if len(groups) == 0 {
		return out
	}
	wctx, span := s.startSpan(ctx, "ingest.write")
	written := s.o.Store.IngestEach(wctx, groups)
	endSpan(span, nil) // each envelope's error is its own answer
	for k, res := range written {
		i := at[k]
		if res.Err != nil {
			out[i].Err = res.Err
			continue
		}
		out[i].Outcome, out[i].Err = s.finish(ps[i], res.Prior)
	}
	return out
}

// prepared is one publish checked and fanned out, ready to be written.
type prepared struct {
	r      Request
	ev     *store.Event
	ds     []*store.Delivery
	res    Result
	answer []byte // res as JSON, once answerJSON made it
	idem   *store.Idempotency
	// The usual publish (one subscriber) needs no allocation beyond this
	// struct for its delivery and the slices that hold it; the event is
	// apart, since the event cache keeps it.
	one     store.Delivery
	oneDs   [1]*store.Delivery
	oneItem [1]store.IngestItem
}

func (p *prepared) items() []store.IngestItem {
	p.oneItem[0] = store.IngestItem{Event: p.ev, Deliveries: p.ds}
	return p.oneItem[:]
}

// answerJSON is the 202 answer, res as JSON.
func (p *prepared) answerJSON() []byte {
	if p.answer == nil {
		p.answer = p.res.AppendJSON(make([]byte, 0, 128))
	}
	return p.answer
}

// prepare checks the disk, the company's quota and the envelope, and fans
// it out to the subscribed webhooks.
func (s *Service) prepare(ctx context.Context, r Request) (_ *prepared, err error) {
	ctx, span := s.startSpan(ctx, "ingest.fan_out")
	defer func() { endSpan(span, err) }()
	if s.o.Disk != nil {
		if err := s.o.Disk.Admit(len(r.Body)); err != nil {
			return nil, err
		}
	}
	if s.o.Quota != nil {
		if err := s.o.Quota.CheckPublish(ctx, r.Company, len(r.Body)); err != nil {
			return nil, err
		}
	}
	raw := r.Body
	var parsed Parsed
	if r.Parsed != nil {
		parsed = *r.Parsed
	} else if parsed, err = ParseEnvelope(raw); err != nil {
		return nil, err
	}
	if parsed.CompanyID != r.Company {
		return nil, &WrongCompanyError{Token: r.Company, Event: parsed.CompanyID}
	}
	now := s.o.Clock.Now()
	p := &prepared{r: r, ev: &store.Event{
		ID: store.NewID(), TraceID: uuid.NewString(), Name: parsed.Name,
		CompanyID: parsed.CompanyID, WorkOrderID: parsed.WorkOrderID, Payload: raw, ReceivedAt: now,
	}}
	p.fanOut(parsed, s.o.Subscribers.Subscribers(parsed.CompanyID, parsed.Name), now)
	stampTrace(ctx, p.ev, len(p.ds))
	p.res = Result{EventID: p.ev.ID, TraceID: p.ev.TraceID, Deliveries: len(p.ds)}
	if key := r.IdempotencyKey; key != "" {
		if err := CheckIdempotencyKey(r.keyFrom(), key); err != nil {
			return nil, err
		}
		p.idem = &store.Idempotency{Key: r.ClientID + "\x00" + key, Response: idemRecord(p.answerJSON(), raw), TTL: s.o.IdempotencyTTL}
	}
	return p, nil
}

// finish answers a publish the store has written, or the first answer to
// its idempotency key when the store had it already (prior).
func (s *Service) finish(p *prepared, prior []byte) (Outcome, error) {
	if prior != nil {
		first, err := s.replay(prior, p.r.Body, p.r.keyFrom(), p.r.IdempotencyKey)
		if err != nil {
			return Outcome{}, err
		}
		return Outcome{Result: first, Replayed: true}, nil
	}
	if s.o.Quota != nil {
		s.o.Quota.Accepted(p.ev.CompanyID, len(p.r.Body))
	}
	if s.o.Accepted != nil {
		s.o.Accepted(p.ev, len(p.ds))
	}
	return Outcome{Result: p.res}, nil
}

// fanOut makes p.ds: one delivery of p.ev, due now, per subscribed webhook
// (the only one in p itself).
func (p *prepared) fanOut(parsed Parsed, subs []*store.Webhook, now time.Time) {
	prio := int(events.PriorityOf(parsed.Name))
	if len(subs) == 1 {
		p.ds = p.oneDs[:0]
	} else {
		p.ds = make([]*store.Delivery, 0, len(subs))
	}
	for i, w := range subs {
		d := &p.one
		if i > 0 {
			d = new(store.Delivery)
		}
		*d = store.Delivery{
			ID: store.NewDeliveryID(prio, now), EventID: p.ev.ID, WebhookID: w.WebhookID, CompanyID: w.CompanyID,
			EventName: parsed.Name, WorkOrderID: parsed.WorkOrderID, Priority: prio,
			State: store.DeliveryPending, DueAt: now, CreatedAt: now, UpdatedAt: now,
			Ordered: w.Ordered(), // the store numbers it in its lane
		}
		p.ds = append(p.ds, d)
	}
}

// idemRecord is what an Idempotency-Key keeps: the 202 answer plus the
// SHA-256 of the body it answered, as one more JSON field. A field rather
// than a prefix: a replica still running the previous version reads the
// record as the plain answer (unknown fields are ignored), so a rolling
// upgrade replays as before on either version.
func idemRecord(answer, body []byte) []byte {
	sum := sha256.Sum256(body)
	rec := make([]byte, 0, len(answer)+16+2*len(sum))
	rec = append(rec, answer[:len(answer)-1]...) // answer ends with '}'
	rec = append(rec, `,"bodySha256":"`...)
	rec = hex.AppendEncode(rec, sum[:])
	return append(rec, `"}`...)
}

// replay is the first answer to key, when body is the body it answered. A
// record of the previous version has no hash and replays as it did.
func (s *Service) replay(prior, body []byte, keyFrom, key string) (Result, error) {
	var first struct {
		Result
		BodySHA256 string `json:"bodySha256"`
	}
	if err := json.Unmarshal(prior, &first); err != nil {
		return Result{}, err
	}
	if first.BodySHA256 != "" {
		sum := sha256.Sum256(body)
		if first.BodySHA256 != hex.EncodeToString(sum[:]) {
			// Replaying the first answer would drop this event without a word.
			return Result{}, &IdempotencyConflictError{From: keyFrom, Key: key, TTL: s.o.IdempotencyTTL}
		}
	}
	return first.Result, nil
}

// AppendJSON appends what json.Marshal makes of r, without its reflection:
// the IDs are UUIDs, which need no escaping.
func (r Result) AppendJSON(b []byte) []byte {
	b = append(b, `{"eventId":"`...)
	b = append(b, r.EventID...)
	b = append(b, `","traceId":"`...)
	b = append(b, r.TraceID...)
	b = append(b, `","deliveries":`...)
	b = strconv.AppendInt(b, int64(r.Deliveries), 10)
	return append(b, '}')
}
