package delivery

import (
	"bytes"
	"context"
	"errors"
	"fmt"
	"net/http"
	"strconv"
	"strings"

	"github.com/hookgate/hookgate/config"
	"github.com/hookgate/hookgate/plugins/sdk"
	"github.com/hookgate/hookgate/store"
	"github.com/hookgate/hookgate/transforms"
)

// deliver makes one attempt of d and returns its outcome for the recorder:
// prepare the request, send it through the sink, decide. ev is d's event
// when the claimer read it, nil otherwise. Nil when the shutdown deadline
// cut the attempt off.
func (dp *Dispatcher) deliver(ctx context.Context, d *store.Delivery, ev *store.Event) *outcome {
	attempt := d.Attempts + 1
	ctx, span := dp.startAttempt(ctx, d, ev, attempt) // trace.go
	started := dp.clock.Now()
	a := &store.Attempt{
		DeliveryID: d.ID, Attempt: attempt, WebhookID: d.WebhookID, CompanyID: d.CompanyID,
		EventID: d.EventID, EventName: d.EventName, WorkOrderID: d.WorkOrderID, CreatedAt: started,
	}
	req, w, res := dp.prepare(ctx, d, ev, attempt, a)
	if req != nil {
		var err error
		res, err = dp.callSink(ctx, w.Sink, req)
		if ctx.Err() != nil {
			// Shutdown deadline: leave it in flight; it is re-sent at next start.
			endAttempt(span, nil)
			return nil
		}
		if err != nil {
			res = &sdk.Result{Error: "sink " + w.Sink + ": " + err.Error(), Retryable: true}
		}
		if res.Status == http.StatusTooManyRequests {
			// The receiver's limit is the endpoint's, not this delivery's:
			// hold the webhook's other deliveries back as long (throttle.go).
			dp.fair.limits.pause(ctx, d.WebhookID, res.RetryAfter)
		}
	}
	o := dp.decide(ctx, d, a, res)
	endAttempt(span, o)
	return o
}

// prepare builds the request of one attempt. ev is d's event, or nil to
// read it (the cache, then the store). When the delivery cannot be
// attempted at all (webhook gone or paused, template error) it returns a nil
// request and the failure to record.
func (dp *Dispatcher) prepare(ctx context.Context, d *store.Delivery, ev *store.Event, attempt int, a *store.Attempt) (*sdk.Request, *store.Webhook, *sdk.Result) {
	w := dp.webhooks.Get(d.WebhookID)
	switch {
	case w == nil:
		return nil, nil, &sdk.Result{Error: "webhook was deleted: not sent"}
	case w.Status != store.StatusActive:
		return nil, nil, &sdk.Result{Error: "webhook is " + string(w.Status) + ": not sent"}
	case dp.access.Forbids(w.Sink, w.CompanyID):
		// Create, update and reload refuse this already; a store written by
		// an older version, or by a replica with another config, may not.
		return nil, nil, &sdk.Result{Error: "sink " + strconv.Quote(w.Sink) + " is not available to company " + strconv.FormatInt(w.CompanyID, 10) + ": not sent"}
	}
	a.RequestMethod = strings.ToUpper(w.Method)
	var err error
	if ev == nil {
		ev, err = dp.events.Get(ctx, dp.queue, d.EventID)
	}
	if errors.Is(err, store.ErrNotFound) {
		return nil, nil, &sdk.Result{Error: "event " + d.EventID + " has expired from storage: not sent"}
	}
	if err != nil {
		return nil, nil, &sdk.Result{Error: "reading the event: " + err.Error(), Retryable: true}
	}
	body, url, err := dp.render(ctx, w, ev.Payload)
	if err != nil {
		// A template error fails this delivery only, without retry.
		a.RequestURL = w.URL
		return nil, nil, &sdk.Result{Error: err.Error()}
	}
	// Without a template the body is the envelope: the store keeps one copy.
	a.RequestBody, a.RequestBodyIsPayload = body, bytes.Equal(body, ev.Payload)
	if err := CheckBodySize(body, dp.cfg.MaxBody); err != nil {
		// Not sent, and not retried: the same event renders the same body.
		// The record keeps its first part and size (record, KeepBodies).
		a.RequestURL = url
		return nil, nil, &sdk.Result{Error: err.Error()}
	}
	headers := dp.Headers(w, d, ev, attempt, body)
	a.RequestURL, a.RequestHeaders = url, redactCustom(headers, w.Headers)
	return &sdk.Request{
		ID: headers[HeaderDeliveryID], Method: a.RequestMethod, URL: url, // the log id, formatted once
		Headers: headers, Body: body, Timeout: dp.cfg.Timeout,
	}, w, nil
}

// render applies modelProperties, then the payload and URL templates.
func (dp *Dispatcher) render(ctx context.Context, w *store.Webhook, payload []byte) ([]byte, string, error) {
	ctx, end := dp.startStep(ctx, "delivery.render")
	defer end()
	env, err := transforms.FilterModelProperties(payload, w.ModelProperties)
	if err != nil {
		return nil, "", err
	}
	prog, err := dp.transformer.Program(w.WebhookID, w.Version, w.PayloadTemplate, w.URL)
	if err != nil {
		return nil, "", err
	}
	return prog.Apply(ctx, env)
}

// CheckBodySize refuses a rendered body over limit (delivery.max_body),
// naming the setting: a template can turn a small event into megabytes.
// A preview answers with it what a delivery would do.
func CheckBodySize(body []byte, limit int64) error {
	if int64(len(body)) > limit {
		return fmt.Errorf("rendered body is %d bytes, over delivery.max_body (%d)", len(body), limit)
	}
	return nil
}

// Headers signs body and lists the X-FN-* headers and the webhook's own.
// A custom header with the name of one of ours, in any case, is left out
// (create, update and load refuse them; a webhook stored before may hold
// one): two spellings of one header would reach the receiver as whichever
// the sink happened to write last.
func (dp *Dispatcher) Headers(w *store.Webhook, d *store.Delivery, ev *store.Event, attempt int, body []byte) map[string]string {
	now := dp.clock.Now()
	h := make(map[string]string, 10+len(w.Headers))
	for k, v := range w.Headers {
		if !config.ReservedHeader(k) {
			h[k] = v
		}
	}
	h["Content-Type"] = "application/json"
	h[HeaderWebhookID] = w.WebhookID
	h[HeaderDeliveryID] = store.FormatLogID(d.ID, attempt)
	h[HeaderTraceID] = ev.TraceID
	h[HeaderTimestamp] = strconv.FormatInt(now.UnixMilli(), 10)
	h[HeaderEventName] = d.EventName
	if d.Sequence > 0 {
		h[HeaderSequence] = strconv.FormatInt(d.Sequence, 10)
	}
	sign(h, w, d.ID, now, body) // sign.go: X-FN-Signature, and Standard Webhooks when asked
	return h
}

// redactCustom copies headers for the delivery log with the webhook's custom
// header values hidden: they are often credentials. Ours are shown as sent,
// even when a stored custom header has the same name (it was not sent).
//
// Without custom headers there is nothing to hide, and headers itself is
// returned: the log and the request then share one map, which neither
// changes once built.
func redactCustom(headers, custom map[string]string) map[string]string {
	if len(custom) == 0 {
		return headers
	}
	out := make(map[string]string, len(headers))
	for k, v := range headers {
		if _, isCustom := custom[k]; isCustom && !config.ReservedHeader(k) {
			v = RedactedHeaderVal
		}
		out[k] = v
	}
	return out
}

// decide decides the delivery's fate and fills in the attempt record and
// the delivery's new state, which the recorder writes together.
func (dp *Dispatcher) decide(ctx context.Context, d *store.Delivery, a *store.Attempt, res *sdk.Result) *outcome {
	now := dp.clock.Now()
	var stats store.WebhookStats
	if !res.OK() && res.Retryable {
		// Only a retry needs the budget, which the recent success rate sets.
		var err error
		if stats, err = dp.queue.GetWebhookStats(ctx, d.WebhookID); err != nil && !errors.Is(err, store.ErrNotFound) {
			dp.log.Warn("reading webhook stats; using a new webhook's budget", "webhook", d.WebhookID, "err", err)
		}
	}
	dec := dp.policy.decide(a.Attempt, res, stats, now)
	a.ResponseStatus, a.ResponseHeaders, a.ResponseBody, a.ResponseBodySize = res.Status, res.Headers, res.Body, res.BodySize
	// The record keeps the first part of each body and the full sizes; the
	// event keeps the whole payload. A template's output is not retained
	// in full for every attempt of the log's lifetime.
	a.KeepBodies(dp.logMaxBody)
	a.Error, a.ExternalRef, a.Outcome = res.Error, res.ExternalRef, dec.outcome
	a.DurationMs = res.Duration.Milliseconds()

	next := *d
	next.Attempts, next.State, next.UpdatedAt = a.Attempt, dec.state, now
	next.LastStatus, next.LastError, next.DeadReason = res.Status, res.Error, dec.reason
	if dec.state == store.DeliveryPending {
		next.DueAt = dec.dueAt
	}
	if dec.state == store.DeliveryDead && d.Sequence > 0 {
		// ordering_on_dead = "hold": the work order's later deliveries
		// wait until this one is retried or its lane released.
		w := dp.webhooks.Get(d.WebhookID)
		next.HoldsLane = w != nil && w.HoldsLaneOnDead()
	}
	return &outcome{claimed: d, rec: store.AttemptRecord{Delivery: &next, Attempt: a}, dec: dec,
		status: res.Status, err: res.Error, sink: res.Duration}
}

// attemptRecordOverhead approximates what an attempt record writes besides
// its bodies: header fields, headers, two index entries, the delivery's new
// state and the webhook's stats.
const attemptRecordOverhead = 1 << 10

// attemptStoredBytes is roughly what recording a writes: the kept bodies
// (none for a request body the store reads back from the event) and the
// rest of the record.
func attemptStoredBytes(a *store.Attempt) int {
	n := attemptRecordOverhead + len(a.ResponseBody)
	if !a.RequestBodyIsPayload {
		n += len(a.RequestBody)
	}
	return n
}
