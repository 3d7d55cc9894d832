package servicenow

import (
	"bytes"
	"context"
	"encoding/json"
	"fmt"
	"net/http"
	"net/url"
	"strings"

	"github.com/hookgate/hookgate/plugins/sdk"
	"github.com/hookgate/hookgate/plugins/sdk/sinkhttp"
)

// tableAPI performs the upsert of one record.
type tableAPI struct {
	s    *settings
	hc   *sinkhttp.Client
	auth *authorizer
}

// upsert looks the record up by its correlation value, then updates or
// creates it.
func (t *tableAPI) upsert(ctx context.Context, body []byte) *sdk.Result {
	value, res := correlationValue(body, t.s.correlationField)
	if res != nil {
		return res
	}
	sysID, res := t.lookup(ctx, value)
	if res != nil {
		return res
	}
	method, u := http.MethodPost, t.tableURL("")
	if sysID != "" {
		method, u = http.MethodPatch, t.tableURL(sysID)
	}
	resp, res := t.call(ctx, method, u, body)
	if res != nil {
		return res
	}
	var out struct {
		Result struct {
			SysID string `json:"sys_id"`
		} `json:"result"`
	}
	_ = json.Unmarshal(resp.Body, &out)
	result := t.hc.Result(resp, "")
	result.ExternalRef = out.Result.SysID
	if result.ExternalRef == "" {
		result.ExternalRef = sysID
	}
	return result
}

// correlationValue reads the upsert key from the record. Only strings and
// numbers qualify; '^' would end the encoded query's condition early and
// match other records, so it is refused rather than guessed at.
func correlationValue(body []byte, field string) (string, *sdk.Result) {
	dec := json.NewDecoder(bytes.NewReader(body))
	dec.UseNumber()
	var rec map[string]any
	if err := dec.Decode(&rec); err != nil || rec == nil {
		return "", &sdk.Result{Error: "the payload is not a JSON object (the ServiceNow record); check the webhook's payload_template"}
	}
	var v string
	switch x := rec[field].(type) {
	case string:
		v = x
	case json.Number:
		v = x.String()
	case nil:
		return "", &sdk.Result{Error: fmt.Sprintf("the record has no %q (the correlation_field); the payload_template must set it", field)}
	default:
		return "", &sdk.Result{Error: fmt.Sprintf("the record's %q (the correlation_field) must be a string or a number", field)}
	}
	switch {
	case strings.TrimSpace(v) == "":
		return "", &sdk.Result{Error: fmt.Sprintf("the record's %q (the correlation_field) is empty", field)}
	case strings.ContainsAny(v, "^\r\n"):
		return "", &sdk.Result{Error: fmt.Sprintf("the record's %q (the correlation_field) contains ^ or a line break, which an encoded query cannot match exactly", field)}
	}
	return v, nil
}

// lookup returns the sys_id of the record whose correlation field equals
// value, or "" when there is none. ServiceNow ignores an unknown column in
// a query and returns unrelated records, so the match is checked here:
// updating a stranger's record would be worse than failing.
func (t *tableAPI) lookup(ctx context.Context, value string) (string, *sdk.Result) {
	q := url.Values{
		"sysparm_query":  {t.s.correlationField + "=" + value},
		"sysparm_limit":  {"1"},
		"sysparm_fields": {"sys_id," + t.s.correlationField},
	}
	resp, res := t.call(ctx, http.MethodGet, t.tableURL("")+"?"+q.Encode(), nil)
	if res != nil {
		return "", res
	}
	var out struct {
		Result []map[string]any `json:"result"`
	}
	if err := json.Unmarshal(resp.Body, &out); err != nil {
		return "", &sdk.Result{Status: resp.Status, Body: resp.Body, Error: "looking up the record: the answer is not Table API JSON", Retryable: true}
	}
	if len(out.Result) == 0 {
		return "", nil
	}
	rec := out.Result[0]
	sysID, _ := rec["sys_id"].(string)
	if got, _ := rec[t.s.correlationField].(string); got != value || sysID == "" {
		return "", &sdk.Result{Status: resp.Status, Error: fmt.Sprintf(
			"looking up by %s returned a record that does not match; is %q a column of table %q?", t.s.correlationField, t.s.correlationField, t.s.table)}
	}
	return sysID, nil
}

func (t *tableAPI) tableURL(sysID string) string {
	u := t.s.instance.JoinPath("api", "now", "table", t.s.table)
	if sysID != "" {
		u = u.JoinPath(sysID)
	}
	return u.String()
}

// call sends one Table API request, fetching a fresh OAuth token and
// trying once more when the token was refused. A non-2xx answer is
// returned as a failed Result: 429, 408 and 5xx retryable with the
// instance's Retry-After, anything else final, with ServiceNow's
// {"error":{"message","detail"}} in the error.
func (t *tableAPI) call(ctx context.Context, method, u string, body []byte) (*sinkhttp.Response, *sdk.Result) {
	for attempt := 0; ; attempt++ {
		authz, res := t.auth.header(ctx)
		if res != nil {
			return nil, res
		}
		h := http.Header{"Accept": {"application/json"}, "Authorization": {authz}}
		if body != nil {
			h.Set("Content-Type", "application/json")
		}
		resp, res := t.hc.Do(ctx, &sinkhttp.Request{Method: method, URL: u, Header: h, Body: body})
		if res != nil {
			return nil, res
		}
		if resp.Status == http.StatusUnauthorized && t.s.auth == "oauth" && attempt == 0 {
			t.auth.invalidate(authz)
			continue
		}
		if resp.Status < 200 || resp.Status > 299 {
			return nil, t.hc.Result(resp, errorText(resp.Body))
		}
		return resp, nil
	}
}

// errorText reads ServiceNow's error body; detail may be a string or null.
func errorText(body []byte) string {
	var e struct {
		Error struct {
			Message string `json:"message"`
			Detail  any    `json:"detail"`
		} `json:"error"`
	}
	if json.Unmarshal(body, &e) != nil {
		return ""
	}
	msg := strings.TrimSpace(e.Error.Message)
	if d, ok := e.Error.Detail.(string); ok && strings.TrimSpace(d) != "" {
		if msg != "" {
			msg += ": "
		}
		msg += strings.TrimSpace(d)
	}
	return msg
}
