package api

import (
	"bytes"
	"encoding/json"
	"errors"
	"time"

	"github.com/gofiber/fiber/v2"
	"github.com/google/uuid"

	"github.com/hookgate/hookgate/events"
	"github.com/hookgate/hookgate/gateway/delivery"
	"github.com/hookgate/hookgate/gateway/ingest"
	"github.com/hookgate/hookgate/store"
	"github.com/hookgate/hookgate/transforms"
)

// sampleEnvelope is the event a test delivery sends: the spec's example
// work order (02-payload-structure) for the webhook's company, marked
// "test": true in event.params so a receiver can tell it apart.
func sampleEnvelope(name string, company, user int64, now time.Time) []byte {
	env := map[string]any{
		"event": map[string]any{"name": name, "params": map[string]any{
			"work_order_id": 12345, "work_order_company_id": company, "test": true}},
		"timestamp":         now.UTC().Format(time.RFC3339),
		"triggered_by_user": map[string]any{"id": user},
		"workorder": map[string]any{
			"id": 12345, "title": "Router Installation - Site 42",
			"status":   map[string]any{"id": 2, "name": "Published"},
			"company":  map[string]any{"id": company, "name": "Acme Corp"},
			"location": map[string]any{"city": "Minneapolis", "state": "MN", "country": "US", "zip": "55401"},
			"schedule": map[string]any{"service_window": map[string]any{"start": now.UTC().Format(time.RFC3339)}},
			"pay":      map[string]any{"type": "fixed", "base": map[string]any{"amount": 250, "units": 1}},
		},
	}
	b, _ := json.Marshal(env)
	return b
}

// handleTestWebhook is POST /api/v1/webhooks/{webhookId}/test with an
// optional {"eventName": "..."} (default: the webhook's first event). It
// queues one sample event for this webhook only, due now; it is delivered,
// retried and logged like any other.
func (s *Server) handleTestWebhook(c *fiber.Ctx) error {
	var body struct {
		EventName string `json:"eventName"`
	}
	if raw := bytes.TrimSpace(c.Body()); len(raw) > 0 {
		if err := json.Unmarshal(raw, &body); err != nil {
			return badRequest(`the body must be {"eventName": "<event>"} or empty: ` + ingest.JSONErrorText(err))
		}
	}
	cl := ClaimsOf(c)
	w, err := s.hooks.Find(c.UserContext(), cl.CompanyID, c.Params("webhookId"))
	if err != nil {
		return err
	}
	name := body.EventName
	if name == "" {
		name = w.Events[0]
	}
	if !events.Valid(name) {
		return badRequest("'eventName' " + quote(name) + " is not one of the 33 events (GET /api/v1/webhooks/events)")
	}
	if err := s.deliverable(w.WebhookID); err != nil {
		return err
	}
	now := s.clock.Now()
	ev := &store.Event{ID: store.NewID(), TraceID: uuid.NewString(), Name: name, CompanyID: w.CompanyID,
		WorkOrderID: 12345, Payload: sampleEnvelope(name, w.CompanyID, cl.UserID, now), ReceivedAt: now}
	d := &store.Delivery{ID: store.NewDeliveryID(int(events.PriorityOf(name)), now), EventID: ev.ID, WebhookID: w.WebhookID, CompanyID: w.CompanyID,
		EventName: name, WorkOrderID: ev.WorkOrderID, Priority: int(events.PriorityOf(name)),
		State: store.DeliveryPending, DueAt: now, CreatedAt: now, UpdatedAt: now}
	if _, err := s.store.Ingest(c.UserContext(), nil, []store.IngestItem{{Event: ev, Deliveries: []*store.Delivery{d}}}); err != nil {
		return err
	}
	s.queued(ev)
	return s.okOne(c, fiber.Map{"job_id": store.FormatLogID(d.ID, 1), "eventId": ev.ID, "traceId": ev.TraceID, "eventName": name})
}

// handleRecover is POST /api/v1/webhooks/{webhookId}/recover with
// {"since": RFC 3339, "until": RFC 3339 (default now)}: every dead-lettered
// delivery of the webhook created in that window goes back in the queue.
func (s *Server) handleRecover(c *fiber.Ctx) error {
	var body struct {
		Since *time.Time `json:"since"`
		Until *time.Time `json:"until"`
	}
	if err := json.Unmarshal(c.Body(), &body); err != nil {
		return badRequest(`the body must be {"since": "<RFC 3339 time>", "until": "<RFC 3339 time>"}: ` + ingest.JSONErrorText(err))
	}
	if body.Since == nil {
		return badRequest("missing required field 'since' (an RFC 3339 time such as 2026-01-20T00:00:00Z)")
	}
	until := s.clock.Now()
	if body.Until != nil {
		until = *body.Until
	}
	if until.Before(*body.Since) {
		return badRequest("'until' is before 'since'")
	}
	ctx := c.UserContext()
	w, err := s.hooks.Find(ctx, ClaimsOf(c).CompanyID, c.Params("webhookId"))
	if err != nil {
		return err
	}
	if err := s.deliverable(w.WebhookID); err != nil {
		return err
	}
	dead, err := s.store.ListDeliveries(ctx, w.WebhookID, store.DeliveryDead, *body.Since, until)
	if err != nil {
		return err
	}
	jobs := make([]string, 0, len(dead))
	for _, d := range dead {
		nd, err := s.requeue(ctx, d.ID)
		if errors.Is(err, store.ErrNotFound) {
			continue // expired meanwhile
		}
		if err != nil {
			return err
		}
		jobs = append(jobs, store.FormatLogID(nd.ID, nd.Attempts+1))
	}
	return s.okOne(c, fiber.Map{"requeued": len(jobs), "job_ids": jobs,
		"since": apiTime(*body.Since), "until": apiTime(until)})
}

// handlePreview is POST /api/v1/transforms/preview: {payloadTemplate,
// urlTemplate, payload, modelProperties} → {result: {body, url}}, exactly
// what a delivery would send; a template that does not compile or fails is
// a 422 with the JSONata message and position.
func (s *Server) handlePreview(c *fiber.Ctx) error {
	var in struct {
		PayloadTemplate string          `json:"payloadTemplate"`
		URLTemplate     string          `json:"urlTemplate"`
		Payload         json.RawMessage `json:"payload"`
		ModelProperties []string        `json:"modelProperties"`
	}
	dec := json.NewDecoder(bytes.NewReader(c.Body()))
	dec.DisallowUnknownFields()
	if err := dec.Decode(&in); err != nil {
		return badRequest("the body must be {payloadTemplate, urlTemplate, payload, modelProperties}: " + ingest.JSONErrorText(err))
	}
	payload := []byte(in.Payload)
	if len(bytes.TrimSpace(payload)) == 0 || string(bytes.TrimSpace(payload)) == "null" {
		payload = sampleEnvelope("workorder.status.published", ClaimsOf(c).CompanyID, ClaimsOf(c).UserID, s.clock.Now())
	}
	if !json.Valid(payload) {
		return badRequest("'payload' must be a JSON value: the event envelope to transform")
	}
	url := in.URLTemplate
	if url == "" {
		url = "https://example.com/webhook"
	}
	env, err := transforms.FilterModelProperties(payload, in.ModelProperties)
	if err != nil {
		return templateFailure(err, "payload")
	}
	key := "preview:" + uuid.NewString()
	prog, err := s.preview.Program(key, 1, in.PayloadTemplate, url)
	s.preview.Forget(key) // one-off: never kept
	if err != nil {
		return templateFailure(err, "")
	}
	body, rendered, err := prog.Apply(c.UserContext(), env)
	if err != nil {
		return templateFailure(err, "")
	}
	if err := delivery.CheckBodySize(body, s.cfg.Delivery.MaxBody); err != nil {
		// What a delivery would do: fail. Nor is the body sent back.
		return Errorf(fiber.StatusUnprocessableEntity, err.Error())
	}
	return s.okOne(c, fiber.Map{"body": json.RawMessage(body), "url": rendered})
}

// templateFailure is the 422 of a preview: the message, and which template
// and where when the engine says.
func templateFailure(err error, fallback string) error {
	var te *transforms.Error
	if errors.As(err, &te) {
		ae := Errorf(fiber.StatusUnprocessableEntity, te.Error()).(*Error)
		ae.Extra = map[string]any{"template": te.Template, "position": te.Position}
		if te.Position < 0 {
			ae.Extra["position"] = nil
		}
		return ae
	}
	what := "payload"
	if fallback != "" {
		what = fallback
	}
	return Errorf(fiber.StatusUnprocessableEntity, "the "+what+" is not valid JSON: "+err.Error())
}
