package dashboard

import (
	"encoding/csv"
	"net/http"
	"net/url"
	"strconv"
	"strings"
)

// logRow is one delivery-log record of the API's list.
type logRow struct {
	DeliveryID      string  `json:"deliveryId"`
	WebhookID       string  `json:"webhookId"`
	WorkOrderID     int64   `json:"workOrderId"`
	EventName       string  `json:"eventName"`
	DeliveryStatus  int     `json:"deliveryStatus"`
	DeliveryAttempt int     `json:"deliveryAttempt"`
	Outcome         string  `json:"outcome"`
	Error           *string `json:"error"`
	ResponseTime    float64 `json:"responseTime"`
	RequestURL      string  `json:"requestUrl"`
	CreatedAt       string  `json:"createdAt"`
}

const logFields = "deliveryId,webhookId,workOrderId,eventName,deliveryStatus,deliveryAttempt,outcome,error,responseTime,requestUrl,createdAt"

// logFilters maps the page's query to the API's filters: the same names,
// with the date range taken from datetime-local inputs as UTC.
func logFilters(q url.Values) (url.Values, string) {
	out := url.Values{"fields": {logFields}}
	for _, k := range []string{"webhookId", "eventName", "deliveryStatus", "workOrderId", "deliveryId", "search"} {
		if v := strings.TrimSpace(q.Get(k)); v != "" {
			out.Set(k, v)
		}
	}
	for _, k := range []string{"createdFrom", "createdTo"} {
		if v := strings.TrimSpace(q.Get(k)); v != "" {
			t, err := parseLocalTime(v)
			if err != nil {
				return out, "'" + k + "' must be a date and time"
			}
			out.Set(k, t)
		}
	}
	return out, ""
}

// logsPage lists delivery attempts with the API's filters.
func (d *Dashboard) logsPage(w http.ResponseWriter, r *http.Request) {
	s := sessionOf(r)
	q := r.URL.Query()
	apiQ, bad := logFilters(q)
	paging(q, apiQ)
	data := map[string]any{"Query": q, "Filter": filterValues(q)}
	var rows []logRow
	if bad == "" {
		env, err := s.api.get(r.Context(), "/api/v1/webhooks/delivery-logs", apiQ, &rows)
		if err != nil {
			if ae, ok := err.(*APIError); ok && ae.Status == http.StatusBadRequest {
				bad = ae.Error()
			} else {
				d.fail(w, r, err)
				return
			}
		} else {
			data["Pager"] = pagerOf(env, len(rows))
		}
	}
	data["Rows"], data["FilterError"] = rows, bad
	csvQ := url.Values{}
	for k, v := range q {
		if k != "page" && k != "perPage" {
			csvQ[k] = v
		}
	}
	data["CSVQuery"] = csvQ.Encode()
	d.render(w, r, http.StatusOK, "logs", "Delivery logs", s, data)
}

func filterValues(q url.Values) map[string]string {
	m := map[string]string{}
	for k := range q {
		m[k] = q.Get(k)
	}
	return m
}

// csvMaxRows bounds an export so one click cannot read a whole store;
// csvPageSize is the API's default maximum page size.
const (
	csvMaxRows  = 50_000
	csvPageSize = 500
)

// logsCSV exports the filtered list, page by page at the API's maximum.
func (d *Dashboard) logsCSV(w http.ResponseWriter, r *http.Request) {
	s := sessionOf(r)
	apiQ, bad := logFilters(r.URL.Query())
	if bad != "" {
		d.renderError(w, r, http.StatusBadRequest, bad)
		return
	}
	// Large pages (the API's default api.max_per_page) keep the number of
	// calls, and of rate-limit tokens, small; a gateway configured with a
	// lower maximum refuses it, and then its default page size is used.
	apiQ.Set("perPage", strconv.Itoa(csvPageSize))
	var all []logRow
	for page := 1; len(all) < csvMaxRows; page++ {
		apiQ.Set("page", strconv.Itoa(page))
		var rows []logRow
		env, err := s.api.get(r.Context(), "/api/v1/webhooks/delivery-logs", apiQ, &rows)
		if ae, ok := err.(*APIError); ok && ae.Status == http.StatusBadRequest && page == 1 && apiQ.Has("perPage") {
			apiQ.Del("perPage")
			page--
			continue
		}
		if err != nil {
			d.fail(w, r, err)
			return
		}
		all = append(all, rows...)
		if len(rows) == 0 || len(all) >= env.metaInt("total") {
			break
		}
	}
	w.Header().Set("Content-Type", "text/csv; charset=utf-8")
	w.Header().Set("Content-Disposition", `attachment; filename="delivery-logs.csv"`)
	cw := csv.NewWriter(w)
	_ = cw.Write([]string{"deliveryId", "webhookId", "workOrderId", "eventName", "deliveryStatus", "deliveryAttempt", "outcome", "responseTimeMs", "error", "createdAt"})
	for _, l := range all {
		e := ""
		if l.Error != nil {
			e = *l.Error
		}
		_ = cw.Write([]string{l.DeliveryID, l.WebhookID, strconv.FormatInt(l.WorkOrderID, 10), l.EventName,
			strconv.Itoa(l.DeliveryStatus), strconv.Itoa(l.DeliveryAttempt), l.Outcome,
			strconv.FormatFloat(l.ResponseTime, 'f', -1, 64), csvSafe(e), l.CreatedAt})
	}
	cw.Flush()
}

// csvSafe defuses cells a spreadsheet would run as a formula (an error text
// comes from a remote endpoint).
func csvSafe(s string) string {
	if s != "" && strings.ContainsRune("=+-@\t\r", rune(s[0])) {
		return "'" + s
	}
	return s
}

// logRecord is the full request/response record behind delivery_log.
type logRecord struct {
	RequestURL      string            `json:"requestUrl"`
	RequestMethod   string            `json:"requestMethod"`
	RequestHeaders  map[string]string `json:"requestHeaders"`
	RequestBody     string            `json:"requestBody"`
	ResponseStatus  int               `json:"responseStatus"`
	ResponseHeaders map[string]string `json:"responseHeaders"`
	ResponseBody    string            `json:"responseBody"`
	ResponseTime    float64           `json:"responseTime"`
	Outcome         string            `json:"outcome"`
	Error           *string           `json:"error"`
	ExternalRef     *string           `json:"externalRef"`
	EventID         string            `json:"eventId"`

	// The record keeps the first part of large bodies (delivery_log.max_body).
	RequestBodySize       int64 `json:"requestBodySize"`
	RequestBodyTruncated  bool  `json:"requestBodyTruncated"`
	ResponseBodySize      int64 `json:"responseBodySize"`
	ResponseBodyTruncated bool  `json:"responseBodyTruncated"`
}

// logPage shows one attempt: request, response, timing and the envelope.
func (d *Dashboard) logPage(w http.ResponseWriter, r *http.Request) {
	s := sessionOf(r)
	id := r.PathValue("id")
	var det struct {
		logRow
		DeliveryLog     string  `json:"delivery_log"`
		OriginalPayload *string `json:"originalPayload"`
		TraceID         *string `json:"traceId"`
	}
	if _, err := s.api.get(r.Context(), "/api/v1/webhooks/delivery-logs/"+url.PathEscape(id), url.Values{"fields": {logFields}}, &det); err != nil {
		d.fail(w, r, err)
		return
	}
	var rec logRecord
	recErr := ""
	if err := s.api.fetchPresigned(r.Context(), det.DeliveryLog, &rec); err != nil {
		recErr = err.Error()
	}
	var wh webhook
	_, _ = s.api.get(r.Context(), "/api/v1/webhooks/"+url.PathEscape(det.WebhookID), nil, &wh)
	data := map[string]any{"Log": det.logRow, "Record": rec, "RecordError": recErr, "Original": det.OriginalPayload, "Webhook": wh,
		"Trace": d.traceLink(det.TraceID)}
	d.render(w, r, http.StatusOK, "log", "Delivery "+det.DeliveryID, s, data)
}

// retryLog queues a delivery again and goes to its next attempt's filter.
func (d *Dashboard) retryLog(w http.ResponseWriter, r *http.Request) {
	s := sessionOf(r)
	id := r.PathValue("id")
	env, err := s.api.call(r.Context(), http.MethodPatch, "/api/v1/webhooks/delivery-logs/"+url.PathEscape(id)+"/retry", nil, nil)
	if err != nil {
		if d.signedOut(w, r, err) {
			return
		}
		d.redirect(w, r, d.base+"/logs/"+url.PathEscape(id), "Retry refused: "+err.Error())
		return
	}
	var res struct {
		JobID string `json:"job_id"`
	}
	_ = jsonInto(env.Result, &res)
	uuid := res.JobID
	if i := strings.LastIndexByte(uuid, ':'); i > 0 {
		uuid = uuid[:i]
	}
	d.redirect(w, r, d.base+"/logs?deliveryId="+url.QueryEscape(uuid), "Retry queued as "+res.JobID+".")
}
