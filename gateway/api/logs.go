package api

import (
	"cmp"
	"context"
	"errors"
	"fmt"
	"strconv"
	"strings"
	"time"

	"github.com/gofiber/fiber/v2"

	"github.com/hookgate/hookgate/store"
)

// errLogNotFound is the spec's 404 for delivery logs; like webhooks,
// another company's log is "not found".
var errLogNotFound = Errorf(fiber.StatusNotFound, "Delivery log not found")

// logSpec is what GET /api/v1/webhooks/delivery-logs accepts (OpenAPI;
// deliveryAttempt is sortable too, as the monitoring guide uses it).
var logSpec = listSpec{
	sortable:    []string{"deliveryId", "webhookId", "workOrderId", "eventName", "deliveryStatus", "deliveryAttempt", "createdAt"},
	defaultSort: "createdAt",
	fields: []string{"deliveryId", "webhookId", "companyId", "workOrderId", "eventName", "deliveryStatus", "deliveryAttempt",
		"outcome", "error", "responseTime", "requestUrl", "requestMethod", "createdAt"},
	defaultFields: []string{"deliveryId", "webhookId", "workOrderId", "eventName", "deliveryStatus", "deliveryAttempt", "createdAt"},
}

// attemptObject is one log record as lists and details show it.
// deliveryStatus is the HTTP status the endpoint answered, 0 when none
// (connection error, timeout, not sent).
func attemptObject(a *store.Attempt) *object {
	return newObject(16).set("deliveryId", a.LogID()).set("webhookId", a.WebhookID).set("companyId", a.CompanyID).
		set("workOrderId", a.WorkOrderID).set("eventName", a.EventName).set("deliveryStatus", a.ResponseStatus).
		set("deliveryAttempt", a.Attempt).set("outcome", a.Outcome).set("error", nullIfEmpty(a.Error)).
		set("responseTime", a.DurationMs).set("requestUrl", a.RequestURL).set("requestMethod", a.RequestMethod).
		set("createdAt", apiTime(a.CreatedAt))
}

// handleListLogs is GET /api/v1/webhooks/delivery-logs: one record per
// attempt of the company's deliveries, newest first by default.
func (s *Server) handleListLogs(c *fiber.Ctx) error {
	spec := logSpec
	spec.defaultPerPage = s.cfg.API.LogPerPage
	q, err := s.parseList(c, spec)
	if err != nil {
		return err
	}
	f, query, err := logFilter(c)
	if err != nil {
		return err
	}
	f.CompanyID = ClaimsOf(c).CompanyID
	// Lists never show headers or bodies: summaries keep a page small
	// however large the bodies are.
	f.Summaries = true
	var page []*store.Attempt
	total := 0
	if q.sortBy == "createdAt" && q.search == "" {
		// The store pages in time order itself: only the page is read.
		f.Offset, f.Limit, f.OldestFirst = q.offset(), q.perPage, !q.desc
		page, total, err = s.store.ListAttempts(c.UserContext(), f)
	} else {
		page, total, err = s.searchLogs(c.UserContext(), f, q)
	}
	if err != nil {
		return err
	}
	out := make([]*object, 0, len(page))
	for _, a := range page {
		out = append(out, attemptObject(a).project(q.fields))
	}
	echoSent(query, "search", q.search)
	return s.okList(c, out, len(out), total, q, query)
}

// logFilter reads the filters of the delivery-log list.
func logFilter(c *fiber.Ctx) (store.AttemptFilter, fiber.Map, error) {
	f := store.AttemptFilter{WebhookID: c.Query("webhookId"), EventName: c.Query("eventName"), DeliveryID: unescape(c.Query("deliveryId"))}
	query := fiber.Map{}
	echoSent(query, "webhookId", f.WebhookID)
	echoSent(query, "eventName", f.EventName)
	echoSent(query, "deliveryId", f.DeliveryID)
	if f.DeliveryID != "" {
		if _, _, err := store.ParseLogID(f.DeliveryID); err != nil {
			return f, nil, badRequest("'deliveryId' must be <uuid> or <uuid>:<attempt>, not " + quote(f.DeliveryID))
		}
	}
	if s := c.Query("workOrderId"); s != "" {
		n, err := strconv.ParseInt(s, 10, 64)
		if err != nil || n <= 0 {
			return f, nil, badRequest("'workOrderId' must be a positive number, not " + quote(s))
		}
		f.WorkOrderID, query["workOrderId"] = n, n
	}
	if s := c.Query("deliveryStatus"); s != "" {
		n, err := strconv.Atoi(s)
		if err != nil || n < 0 || n > 999 {
			return f, nil, badRequest("'deliveryStatus' must be an HTTP status code such as 200 or 500 (0: no response), not " + quote(s))
		}
		f.Status, query["deliveryStatus"] = n, s
		if n == 0 {
			f.Status = -1 // the store's "no response"
		}
	}
	for _, p := range []struct {
		name string
		dst  *time.Time
	}{{"createdFrom", &f.CreatedFrom}, {"createdTo", &f.CreatedTo}} {
		if s := c.Query(p.name); s != "" {
			t, err := time.Parse(time.RFC3339, s)
			if err != nil {
				return f, nil, badRequest("'" + p.name + "' must be an RFC 3339 time such as 2026-01-20T14:55:58Z, not " + quote(s))
			}
			*p.dst, query[p.name] = t, s
		}
	}
	if !f.CreatedFrom.IsZero() && !f.CreatedTo.IsZero() && f.CreatedTo.Before(f.CreatedFrom) {
		return f, nil, badRequest("'createdTo' is before 'createdFrom'")
	}
	return f, query, nil
}

// matchLogSearch looks in the delivery id, webhook id, event name, work
// order id, status code and error text.
func matchLogSearch(a *store.Attempt, s string) bool {
	if s == "" {
		return true
	}
	return containsFold(a.LogID(), s) || containsFold(a.WebhookID, s) || containsFold(a.EventName, s) ||
		itoa(a.WorkOrderID) == s || strconv.Itoa(a.ResponseStatus) == s || containsFold(a.Error, s)
}

// searchLogs answers a search, or a sort other than createdAt, from one
// walk of the matching records' summaries: it holds the page (createdAt,
// the walk's own order) or the offset+perPage first records of the sort
// (at most api.max_sort_depth), never every record.
func (s *Server) searchLogs(ctx context.Context, f store.AttemptFilter, q listQuery) ([]*store.Attempt, int, error) {
	lo, hi := q.offset(), q.offset()+q.perPage
	total := 0
	if q.sortBy == "createdAt" {
		var page []*store.Attempt
		f.OldestFirst = !q.desc
		err := s.store.WalkAttempts(ctx, f, func(a *store.Attempt) bool {
			if matchLogSearch(a, q.search) {
				if total >= lo && total < hi {
					page = append(page, a)
				}
				total++
			}
			return true
		})
		return page, total, err
	}
	if depth := s.cfg.API.MaxSortDepth; hi > depth {
		return nil, 0, badRequest(fmt.Sprintf("page %d of %d goes %d records deep, and sorted by %s the delivery logs go at most %d deep (api.max_sort_depth): "+
			"narrow the list with webhookId, eventName, deliveryStatus, workOrderId or createdFrom/createdTo, or sort by createdAt, which pages to any depth",
			q.page, q.perPage, hi, q.sortBy, depth))
	}
	// Ties keep the walk's order (newest first), as a stable sort of it would.
	type ranked struct {
		a   *store.Attempt
		seq int
	}
	top := newTopK(hi, func(x, y ranked) bool {
		if c := CompareAttempts(x.a, y.a, q.sortBy, q.desc); c != 0 {
			return c < 0
		}
		return x.seq < y.seq
	})
	err := s.store.WalkAttempts(ctx, f, func(a *store.Attempt) bool {
		if matchLogSearch(a, q.search) {
			top.offer(ranked{a, total})
			total++
		}
		return true
	})
	if err != nil {
		return nil, 0, err
	}
	kept := top.sorted()
	page := make([]*store.Attempt, 0, max(len(kept)-lo, 0))
	for _, r := range kept[min(lo, len(kept)):] {
		page = append(page, r.a)
	}
	return page, total, nil
}

// CompareAttempts orders two delivery logs by a sortable field (sortBy),
// then by time, as GET /api/v1/webhooks/delivery-logs pages them; the
// gateway's tests check the pages against it.
func CompareAttempts(a, b *store.Attempt, by string, desc bool) int {
	var c int
	switch by {
	case "deliveryId":
		c = strings.Compare(a.DeliveryID, b.DeliveryID)
		if c == 0 {
			c = cmp.Compare(a.Attempt, b.Attempt)
		}
	case "webhookId":
		c = strings.Compare(a.WebhookID, b.WebhookID)
	case "workOrderId":
		c = cmp.Compare(a.WorkOrderID, b.WorkOrderID)
	case "eventName":
		c = strings.Compare(a.EventName, b.EventName)
	case "deliveryStatus":
		c = cmp.Compare(a.ResponseStatus, b.ResponseStatus)
	case "deliveryAttempt":
		c = cmp.Compare(a.Attempt, b.Attempt)
	}
	if c == 0 {
		c = a.CreatedAt.Compare(b.CreatedAt)
	}
	if desc {
		c = -c
	}
	return c
}

// findAttempt returns the company's record for "uuid:n", or the latest
// attempt of "uuid".
func (s *Server) findAttempt(c *fiber.Ctx, raw string) (*store.Attempt, error) {
	id, n, err := store.ParseLogID(raw)
	if err != nil {
		return nil, errLogNotFound
	}
	ctx := c.UserContext()
	if n == 0 {
		d, err := s.store.GetDelivery(ctx, id)
		if errors.Is(err, store.ErrNotFound) || (err == nil && (d.CompanyID != ClaimsOf(c).CompanyID || d.Attempts == 0)) {
			return nil, errLogNotFound
		}
		if err != nil {
			return nil, err
		}
		n = d.Attempts
	}
	a, err := s.store.GetAttempt(ctx, id, n)
	if errors.Is(err, store.ErrNotFound) || (err == nil && a.CompanyID != ClaimsOf(c).CompanyID) {
		return nil, errLogNotFound
	}
	return a, err
}

// handleLogDetails is GET /api/v1/webhooks/delivery-logs/{deliveryId}: the
// record plus delivery_log, a pre-signed URL to the full request and
// response, and originalPayload, the envelope as the producer sent it.
func (s *Server) handleLogDetails(c *fiber.Ctx) error {
	a, err := s.findAttempt(c, unescape(c.Params("deliveryId")))
	if err != nil {
		return err
	}
	o := bodySizes(attemptObject(a), a)
	o.set("delivery_log", s.presign.Sign(a.LogID()))
	var original any
	if ev, err := s.store.GetEvent(c.UserContext(), a.EventID); err == nil {
		original = string(ev.Payload)
	} else if !errors.Is(err, store.ErrNotFound) {
		return err
	}
	o.set("originalPayload", original) // null once the event has expired from storage
	return s.okOne(c, o)
}

// handleLogFile answers a pre-signed delivery_log URL without a bearer
// token: the full record of one attempt (spec notes §2.8) as plain JSON.
func (s *Server) handleLogFile(c *fiber.Ctx) error {
	logID := unescape(c.Params("deliveryId"))
	if err := s.presign.Verify(LogFilePath(logID), c.Query("expires"), c.Query("signature")); err != nil {
		return err
	}
	id, n, err := store.ParseLogID(logID)
	if err != nil || n == 0 {
		return errLogNotFound
	}
	a, err := s.store.GetAttempt(c.UserContext(), id, n)
	if errors.Is(err, store.ErrNotFound) {
		return errLogNotFound
	}
	if err != nil {
		return err
	}
	c.Set(fiber.HeaderCacheControl, "private, no-store")
	return c.JSON(bodySizes(logRecord(a), a))
}

// logRecord is the complete delivery-log file: the spec's fields, then ours.
func logRecord(a *store.Attempt) *object {
	return newObject(20).set("deliveryId", a.LogID()).set("webhookId", a.WebhookID).set("workOrderId", a.WorkOrderID).
		set("eventName", a.EventName).set("deliveryStatus", a.ResponseStatus).set("deliveryAttempt", a.Attempt).
		set("requestUrl", a.RequestURL).set("requestMethod", a.RequestMethod).set("requestHeaders", nonNilMap(a.RequestHeaders)).
		set("requestBody", string(a.RequestBody)).set("responseStatus", a.ResponseStatus).
		set("responseHeaders", nonNilMap(a.ResponseHeaders)).set("responseBody", string(a.ResponseBody)).
		set("responseTime", a.DurationMs).set("createdAt", apiTime(a.CreatedAt)).
		set("outcome", a.Outcome).set("error", nullIfEmpty(a.Error)).set("externalRef", nullIfEmpty(a.ExternalRef)).
		set("companyId", a.CompanyID).set("eventId", a.EventID)
}

// bodySizes adds the full sizes of the bodies and whether the record keeps
// only their first part (delivery_log.max_body; the event keeps the whole
// payload: originalPayload).
func bodySizes(o *object, a *store.Attempt) *object {
	return o.set("requestBodySize", a.RequestBodySize).set("requestBodyTruncated", a.RequestBodyTruncated()).
		set("responseBodySize", a.ResponseBodySize).set("responseBodyTruncated", a.ResponseBodyTruncated())
}

func nonNilMap(m map[string]string) map[string]string {
	if m == nil {
		return map[string]string{}
	}
	return m
}

// handleRetry is PATCH /api/v1/webhooks/delivery-logs/{deliveryId}/retry:
// the delivery goes back in the queue, due now, with the same uuid; its
// next attempt is job_id, the deliveryId its log record will have.
func (s *Server) handleRetry(c *fiber.Ctx) error {
	id, _, err := store.ParseLogID(unescape(c.Params("deliveryId")))
	if err != nil {
		return errLogNotFound
	}
	ctx := c.UserContext()
	d, err := s.store.GetDelivery(ctx, id)
	if errors.Is(err, store.ErrNotFound) || (err == nil && d.CompanyID != ClaimsOf(c).CompanyID) {
		return errLogNotFound
	}
	if err != nil {
		return err
	}
	if d.State == store.DeliveryInFlight {
		return Errorf(fiber.StatusConflict, "delivery "+id+" is being sent right now; its result will be in the logs shortly")
	}
	if err := s.deliverable(d.WebhookID); err != nil {
		return err
	}
	nd, err := s.requeue(ctx, id)
	if err != nil {
		return err
	}
	return s.okOne(c, fiber.Map{"job_id": store.FormatLogID(nd.ID, nd.Attempts+1)})
}

// deliverable refuses to queue work for a webhook that would not send it:
// the delivery would only be dead-lettered again at once.
func (s *Server) deliverable(webhookID string) error {
	w := s.index.Get(webhookID)
	if w == nil {
		return Errorf(fiber.StatusUnprocessableEntity, "webhook "+webhookID+" was deleted: its deliveries cannot be sent again")
	}
	if w.Status != store.StatusActive {
		return Errorf(fiber.StatusUnprocessableEntity, "webhook "+webhookID+" is "+string(w.Status)+
			": set it to active (PUT /api/v1/webhooks/"+webhookID+` {"status":"active"}) first`)
	}
	return nil
}
