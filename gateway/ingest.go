package gateway

import (
	"bytes"
	"crypto/sha256"
	"encoding/hex"
	"encoding/json"
	"fmt"
	"strconv"
	"strings"
	"time"

	"github.com/gofiber/fiber/v2"
	"github.com/google/uuid"

	"github.com/hookgate/hookgate/events"
	"github.com/hookgate/hookgate/store"
)

// envelope is the v3 body a producer publishes (02-payload-structure).
type envelope struct {
	Event *struct {
		Name   *string                    `json:"name"`
		Params map[string]json.RawMessage `json:"params"`
	} `json:"event"`
	Timestamp       *string                    `json:"timestamp"`
	TriggeredByUser *struct{ ID json.Number }  `json:"triggered_by_user"`
	Workorder       map[string]json.RawMessage `json:"workorder"`
}

// parsedEvent is what ingest needs to know about an envelope.
type parsedEvent struct {
	name        string
	companyID   int64
	workOrderID int64
}

// parseEnvelope checks the envelope's required fields and names the first
// one that is missing or wrong.
func parseEnvelope(raw []byte) (parsedEvent, error) {
	if p, ok := parseEnvelopeFast(raw); ok {
		return p, nil
	}
	return parseEnvelopeSlow(raw)
}

// parseEnvelopeSlow is the reference parse: strict checks, then
// encoding/json. It words every refusal; parseEnvelopeFast must agree with
// it on every body it accepts.
func parseEnvelopeSlow(raw []byte) (parsedEvent, error) {
	if err := checkEventJSON(raw); err != nil {
		return parsedEvent{}, err
	}
	var env envelope
	dec := json.NewDecoder(bytes.NewReader(raw))
	dec.UseNumber()
	if err := dec.Decode(&env); err != nil {
		return parsedEvent{}, errorf(fiber.StatusBadRequest, "body is not a valid event envelope: "+jsonErrorText(err))
	}
	// More() is false before a stray '}' or ']', so check the bytes left:
	// only whitespace may follow the object, or the stored and signed body
	// would carry them.
	if len(bytes.TrimLeft(raw[dec.InputOffset():], " \t\r\n")) > 0 {
		return parsedEvent{}, errorf(fiber.StatusBadRequest, "body must hold exactly one JSON object: unexpected bytes after it at byte "+strconv.FormatInt(dec.InputOffset(), 10))
	}
	bad := func(msg string) (parsedEvent, error) { return parsedEvent{}, errorf(fiber.StatusBadRequest, msg) }
	switch {
	case env.Event == nil:
		return bad("event is required: an object with name and params")
	case env.Event.Name == nil || *env.Event.Name == "":
		return bad("event.name is required")
	case !events.Valid(*env.Event.Name):
		return bad("event.name " + quote(*env.Event.Name) + " is not one of the 33 events (GET /api/v1/webhooks/events lists them)")
	case env.Timestamp == nil:
		return bad("timestamp is required: an ISO 8601 time with offset")
	case env.TriggeredByUser == nil:
		return bad("triggered_by_user is required: an object with id")
	case env.Workorder == nil:
		return bad("workorder is required: the work order object")
	}
	if _, err := time.Parse(time.RFC3339, *env.Timestamp); err != nil {
		return bad("timestamp " + quote(*env.Timestamp) + " is not an ISO 8601 time with offset, e.g. 2026-01-20T08:55:58-06:00")
	}
	p := parsedEvent{name: *env.Event.Name}
	var err error
	if v, ok := env.Event.Params["work_order_company_id"]; ok {
		if p.companyID, err = jsonInt(v); err != nil {
			return bad("event.params.work_order_company_id must be a number or a numeric string")
		}
	} else if co, ok := env.Workorder["company"]; ok {
		var c struct{ ID json.RawMessage }
		if json.Unmarshal(co, &c) != nil || c.ID == nil {
			return bad("workorder.company.id is required when event.params.work_order_company_id is absent")
		}
		if p.companyID, err = jsonInt(c.ID); err != nil {
			return bad("workorder.company.id must be a number or a numeric string")
		}
	} else {
		return bad("the company is required: event.params.work_order_company_id or workorder.company.id")
	}
	if v, ok := env.Event.Params["work_order_id"]; ok {
		if p.workOrderID, err = jsonInt(v); err != nil {
			return bad("event.params.work_order_id must be a number or a numeric string")
		}
	} else if v, ok := env.Workorder["id"]; ok {
		if p.workOrderID, err = jsonInt(v); err != nil {
			return bad("workorder.id must be a number or a numeric string")
		}
	}
	return p, nil
}

// jsonInt accepts 12345 and "12345": the spec's own examples use both.
func jsonInt(raw []byte) (int64, error) {
	s := strings.TrimSpace(string(raw))
	if unq, err := strconv.Unquote(s); err == nil {
		s = unq
	}
	return strconv.ParseInt(s, 10, 64)
}

func jsonErrorText(err error) string {
	if se, ok := err.(*json.SyntaxError); ok {
		return fmt.Sprintf("%s at byte %d", se.Error(), se.Offset)
	}
	if te, ok := err.(*json.UnmarshalTypeError); ok {
		return fmt.Sprintf("%s must be %s, not %s", te.Field, te.Type, te.Value)
	}
	return err.Error()
}

// ingestResult is the 202 answer to a publish.
type ingestResult struct {
	EventID    string `json:"eventId"`
	TraceID    string `json:"traceId"`
	Deliveries int    `json:"deliveries"`
}

// handlePublish is POST /api/v1/events: validate, fan out, write durably,
// and only then answer 202.
func (g *Gateway) handlePublish(c *fiber.Ctx) error {
	if !g.disk.admit(len(c.Body())) {
		return g.disk.refusal()
	}
	claims := claimsOf(c)
	if err := g.checkPublish(c, claims.CompanyID, len(c.Body())); err != nil {
		return err
	}
	// fasthttp reuses the request buffer: keep a copy.
	raw := bytes.Clone(c.Body())
	p, err := parseEnvelope(raw)
	if err != nil {
		return err
	}
	if p.companyID != claims.CompanyID {
		return errorf(fiber.StatusForbidden, fmt.Sprintf("this token may publish for company %d only, the event is for company %d", claims.CompanyID, p.companyID))
	}
	now := g.clock.Now()
	ev := &store.Event{
		ID: uuid.NewString(), TraceID: uuid.NewString(), Name: p.name,
		CompanyID: p.companyID, WorkOrderID: p.workOrderID, Payload: raw, ReceivedAt: now,
	}
	subs := g.index.subscribers(p.companyID, p.name)
	prio := int(events.PriorityOf(p.name))
	ds := make([]*store.Delivery, 0, len(subs))
	for _, w := range subs {
		ds = append(ds, &store.Delivery{
			ID: uuid.NewString(), EventID: ev.ID, WebhookID: w.WebhookID, CompanyID: w.CompanyID,
			EventName: p.name, WorkOrderID: p.workOrderID, Priority: prio,
			State: store.DeliveryPending, DueAt: now, CreatedAt: now, UpdatedAt: now,
		})
	}
	res := ingestResult{EventID: ev.ID, TraceID: ev.TraceID, Deliveries: len(ds)}
	answer := res.appendJSON(make([]byte, 0, 128))
	var idem *store.Idempotency
	if key := c.Get("Idempotency-Key"); key != "" {
		if err := checkIdempotencyKey(key); err != nil {
			return err
		}
		idem = &store.Idempotency{Key: claims.ClientID + "\x00" + key, Response: idemRecord(answer, raw), TTL: g.cfg.Delivery.IdempotencyTTL}
	}
	prior, err := g.store.Ingest(c.UserContext(), idem, []store.IngestItem{{Event: ev, Deliveries: ds}})
	if err != nil {
		return err
	}
	if prior != nil {
		first, err := g.replay(prior, raw, c.Get("Idempotency-Key"))
		if err != nil {
			return err
		}
		c.Set("Idempotent-Replayed", "true")
		return g.ok(c, fiber.StatusAccepted, first)
	}
	g.metrics.eventsAccepted.WithLabelValues(p.name).Inc()
	g.quota.accepted(p.companyID, len(raw))
	if len(ds) > 0 {
		g.recent.Add(ev)
		g.dispatcher.Wake()
	}
	return g.okAccepted(c, answer)
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
func (g *Gateway) replay(prior, body []byte, key string) (ingestResult, error) {
	var first struct {
		ingestResult
		BodySHA256 string `json:"bodySha256"`
	}
	if err := json.Unmarshal(prior, &first); err != nil {
		return ingestResult{}, err
	}
	if first.BodySHA256 != "" {
		sum := sha256.Sum256(body)
		if first.BodySHA256 != hex.EncodeToString(sum[:]) {
			// Replaying the first answer would drop this event without a word.
			return ingestResult{}, errorf(fiber.StatusUnprocessableEntity, "Idempotency-Key "+quote(key)+
				" was already used with another body (keys are kept for delivery.idempotency_ttl = "+
				g.cfg.Delivery.IdempotencyTTL.String()+"): send a new key for a new event, or the same body to get the first answer")
		}
	}
	return first.ingestResult, nil
}

// appendJSON appends what json.Marshal makes of r, without its reflection:
// the IDs are UUIDs, which need no escaping.
func (r ingestResult) appendJSON(b []byte) []byte {
	b = append(b, `{"eventId":"`...)
	b = append(b, r.EventID...)
	b = append(b, `","traceId":"`...)
	b = append(b, r.TraceID...)
	b = append(b, `","deliveries":`...)
	b = strconv.AppendInt(b, int64(r.Deliveries), 10)
	return append(b, '}')
}

// okAccepted answers 202 with the bytes g.ok would write for the result
// answer (already JSON), without encoding a fiber.Map: that cost ~5 µs of
// every publish. TestPublishAnswerAsOk holds the two to the same bytes.
func (g *Gateway) okAccepted(c *fiber.Ctx, answer []byte) error {
	b := make([]byte, 0, 48+len(time.RFC3339Nano)+len(answer))
	b = append(b, `{"metadata":{"timestamp":"`...)
	b = g.clock.Now().UTC().AppendFormat(b, time.RFC3339Nano)
	b = append(b, `"},"result":`...)
	b = append(b, answer...)
	b = append(b, '}')
	c.Status(fiber.StatusAccepted)
	c.Response().SetBodyRaw(b)
	c.Response().Header.SetContentType(fiber.MIMEApplicationJSON)
	return nil
}
