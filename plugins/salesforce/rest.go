package salesforce

import (
	"bytes"
	"context"
	"encoding/json"
	"fmt"
	"net/http"
	"net/url"
	"slices"
	"strings"

	"github.com/hookgate/hookgate/plugins/sdk"
	"github.com/hookgate/hookgate/plugins/sdk/sinkhttp"
)

// restAPI performs the upsert of one record.
type restAPI struct {
	s        *settings
	hc       *sinkhttp.Client
	sessions *sinkhttp.TokenCache[*session]
}

// retryableCodes are Salesforce errorCodes that a later attempt can
// overcome: the org's API request limit, and a record locked by another
// transaction.
var retryableCodes = []string{"REQUEST_LIMIT_EXCEEDED", "UNABLE_TO_LOCK_ROW"}

func (r *restAPI) upsert(ctx context.Context, body []byte) *sdk.Result {
	value, record, res := splitRecord(body, r.s.externalIDField)
	if res != nil {
		return res
	}
	path := func(sess *session) string {
		return sess.instance.JoinPath("services", "data", r.s.apiVersion, "sobjects", r.s.object, r.s.externalIDField).String() +
			"/" + url.PathEscape(value)
	}
	resp, res := r.call(ctx, http.MethodPatch, path, "", record)
	if res != nil {
		return res
	}
	out := r.hc.Result(resp, "")
	var ur struct {
		ID string `json:"id"`
	}
	_ = json.Unmarshal(resp.Body, &ur)
	out.ExternalRef = ur.ID
	if out.ExternalRef == "" && resp.Status == http.StatusNoContent {
		// Before API v46.0 an update answers 204 without a body: read the
		// id back so the delivery log can link to the record.
		got, res := r.call(ctx, http.MethodGet, path, "fields=Id", nil)
		if res != nil {
			res.Error = "upserted, but reading the record id back failed: " + res.Error
			return res
		}
		var rec struct {
			ID string `json:"Id"`
		}
		_ = json.Unmarshal(got.Body, &rec)
		out.ExternalRef = rec.ID
	}
	return out
}

// splitRecord returns the external id value and the record without it:
// Salesforce rejects the external ID field (and Id) in an upsert's body;
// it belongs in the URL. Raw values are kept as they are.
func splitRecord(body []byte, field string) (string, []byte, *sdk.Result) {
	var rec map[string]json.RawMessage
	if err := json.Unmarshal(body, &rec); err != nil || rec == nil {
		return "", nil, &sdk.Result{Error: "the payload is not a JSON object (the Salesforce record); check the webhook's payload_template"}
	}
	raw, ok := rec[field]
	if !ok {
		return "", nil, &sdk.Result{Error: fmt.Sprintf("the record has no %q (the external_id_field); the payload_template must set it", field)}
	}
	dec := json.NewDecoder(bytes.NewReader(raw))
	dec.UseNumber()
	var v any
	_ = dec.Decode(&v)
	var value string
	switch x := v.(type) {
	case string:
		value = x
	case json.Number:
		value = x.String()
	default:
		return "", nil, &sdk.Result{Error: fmt.Sprintf("the record's %q (the external_id_field) must be a string or a number", field)}
	}
	if strings.TrimSpace(value) == "" {
		return "", nil, &sdk.Result{Error: fmt.Sprintf("the record's %q (the external_id_field) is empty", field)}
	}
	delete(rec, field)
	out, _ := json.Marshal(rec)
	return value, out, nil
}

// call sends one REST request with the cached session, fetching a new one
// and trying once more when Salesforce answers 401 (INVALID_SESSION_ID).
// A non-2xx answer comes back as a failed Result.
func (r *restAPI) call(ctx context.Context, method string, path func(*session) string, query string, body []byte) (*sinkhttp.Response, *sdk.Result) {
	for attempt := 0; ; attempt++ {
		sess, res := r.sessions.Get(ctx)
		if res != nil {
			return nil, res
		}
		u := path(sess)
		if query != "" {
			u += "?" + query
		}
		h := http.Header{"Accept": {"application/json"}, "Authorization": {"Bearer " + sess.token}}
		if body != nil {
			h.Set("Content-Type", "application/json")
		}
		resp, res := r.hc.Do(ctx, &sinkhttp.Request{Method: method, URL: u, Header: h, Body: body})
		if res != nil {
			return nil, res
		}
		if resp.Status == http.StatusUnauthorized && attempt == 0 {
			r.sessions.Invalidate(sess)
			continue
		}
		if resp.Status < 200 || resp.Status > 299 {
			return nil, r.classify(resp)
		}
		return resp, nil
	}
}

// apiError is one element of Salesforce's error array.
type apiError struct {
	Message   string   `json:"message"`
	ErrorCode string   `json:"errorCode"`
	Fields    []string `json:"fields"`
}

// classify turns a failed answer into a Result with Salesforce's
// errorCodes and messages: 429, 408 and 5xx are retryable, and so are the
// retryableCodes whatever the status.
func (r *restAPI) classify(resp *sinkhttp.Response) *sdk.Result {
	var errs []apiError
	_ = json.Unmarshal(resp.Body, &errs)
	parts := make([]string, 0, len(errs))
	retryable := false
	for _, e := range errs {
		p := e.ErrorCode + ": " + e.Message
		if len(e.Fields) > 0 {
			p += " (fields: " + strings.Join(e.Fields, ", ") + ")"
		}
		parts = append(parts, p)
		retryable = retryable || slices.Contains(retryableCodes, e.ErrorCode)
	}
	detail := strings.Join(parts, "; ")
	if resp.Status == http.StatusMultipleChoices {
		detail = "the external id matches more than one record; make " + "the external_id_field unique"
	}
	res := r.hc.Result(resp, detail)
	if retryable && !res.Retryable {
		res.Retryable = true
		res.RetryAfter = r.hc.RetryAfter(resp)
	}
	return res
}
