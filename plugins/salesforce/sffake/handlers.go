package sffake

import (
	"bytes"
	"encoding/json"
	"fmt"
	"net/http"
	"slices"
	"sort"
	"strconv"
	"strings"

	"github.com/hookgate/hookgate/plugins/sdk/sdktest/fakeserver"
)

// token serves the client credentials flow. Its answer has no expires_in,
// as Salesforce's does not.
func (s *Server) token(w http.ResponseWriter, r *http.Request) {
	_ = r.ParseForm()
	f := r.PostForm
	s.Record(Request{Method: r.Method, Path: r.URL.Path, Form: f})
	switch {
	case f.Get("grant_type") != "client_credentials":
		fakeserver.WriteJSON(w, http.StatusBadRequest, map[string]string{"error": "unsupported_grant_type", "error_description": "grant type not supported"})
		return
	case f.Get("client_id") != s.opts.ClientID || f.Get("client_secret") != s.opts.ClientSecret || s.opts.ClientID == "":
		fakeserver.WriteJSON(w, http.StatusBadRequest, map[string]string{"error": "invalid_client", "error_description": "invalid client credentials"})
		return
	}
	tok := "00D000000000001!" + newID("AQ")
	now := s.IssueToken(tok, s.opts.SessionTimeout)
	fakeserver.WriteJSON(w, http.StatusOK, map[string]string{
		"access_token": tok, "instance_url": s.opts.InstanceURL, "token_type": "Bearer", "scope": "api",
		"id":        "https://login.salesforce.com/id/00D000000000001/005000000000001",
		"issued_at": strconv.FormatInt(now.UnixMilli(), 10), "signature": "c2lnbmF0dXJl",
	})
}

// upsert serves PATCH (upsert) and GET (read) on sObject Rows by External ID.
func (s *Server) upsert(w http.ResponseWriter, r *http.Request) {
	body, ok := s.Receive(r, func(body []byte) Request {
		return Request{Method: r.Method, Path: r.URL.Path, Query: r.URL.Query(),
			Bearer: strings.HasPrefix(r.Header.Get("Authorization"), "Bearer "), Body: body}
	})
	if !ok {
		return
	}
	if !s.Authorized(r) {
		writeErrors(w, http.StatusUnauthorized, "INVALID_SESSION_ID", "Session expired or invalid", nil)
		return
	}
	if f, ok := s.NextFault(); ok && f.Status != 0 {
		if f.RetryAfter != "" {
			w.Header().Set("Retry-After", f.RetryAfter)
		}
		writeErrors(w, f.Status, f.ErrorCode, f.Message, f.Fields)
		return
	}
	version, object, field, value := r.PathValue("version"), r.PathValue("object"), r.PathValue("field"), r.PathValue("value")
	obj, ok := s.opts.Objects[object]
	if !ok || !validVersion(version) {
		writeErrors(w, http.StatusNotFound, "NOT_FOUND", "The requested resource does not exist", nil)
		return
	}
	if !slices.Contains(obj.ExternalIDs, field) {
		writeErrors(w, http.StatusNotFound, "NOT_FOUND", "Provided external ID field does not exist or is not accessible: "+field, nil)
		return
	}
	switch r.Method {
	case http.MethodGet:
		s.read(w, version, object, field, value)
	case http.MethodPatch:
		s.write(w, version, object, obj, field, value, body)
	default:
		writeErrors(w, http.StatusMethodNotAllowed, "METHOD_NOT_ALLOWED", "HTTP Method '"+r.Method+"' not allowed. Allowed are GET,PATCH,DELETE", nil)
	}
}

// matching returns the ids of records whose field equals value. Caller holds mu.
func (s *Server) matching(object, field, value string) []string {
	var ids []string
	for id, rec := range s.records[object] {
		if fmt.Sprint(rec[field]) == value {
			ids = append(ids, id)
		}
	}
	sort.Strings(ids)
	return ids
}

func (s *Server) read(w http.ResponseWriter, version, object, field, value string) {
	s.mu.Lock()
	ids := s.matching(object, field, value)
	s.mu.Unlock()
	switch len(ids) {
	case 0:
		writeErrors(w, http.StatusNotFound, "NOT_FOUND", "The requested resource does not exist", nil)
	case 1:
		fakeserver.WriteJSON(w, http.StatusOK, map[string]any{
			"attributes": map[string]string{"type": object, "url": "/services/data/" + version + "/sobjects/" + object + "/" + ids[0]},
			"Id":         ids[0],
		})
	default:
		w.WriteHeader(http.StatusMultipleChoices)
	}
}

// write upserts one record: validation errors first, as Salesforce does.
func (s *Server) write(w http.ResponseWriter, version, object string, obj Object, field, value string, body []byte) {
	var in map[string]any
	dec := json.NewDecoder(bytes.NewReader(body))
	dec.UseNumber()
	if err := dec.Decode(&in); err != nil || in == nil {
		writeErrors(w, http.StatusBadRequest, "JSON_PARSER_ERROR", "Unexpected character in the request body", nil)
		return
	}
	for k := range in {
		switch {
		case k == "Id" || k == field:
			// The documentation says only that "an error is generated"; the
			// errorCode and text here are the fake's own.
			writeErrors(w, http.StatusBadRequest, "INVALID_FIELD", fmt.Sprintf("%s: do not specify Id or the external ID field in the body of an upsert", k), []string{k})
			return
		case !slices.Contains(obj.Fields, k):
			writeErrors(w, http.StatusBadRequest, "INVALID_FIELD", fmt.Sprintf("No such column '%s' on sobject of type %s", k, object), nil)
			return
		}
	}
	s.mu.Lock()
	defer s.mu.Unlock()
	ids := s.matching(object, field, value)
	switch len(ids) {
	case 0:
		var missing []string
		for _, f := range obj.Required {
			if v, ok := in[f]; !ok || v == nil || v == "" {
				missing = append(missing, f)
			}
		}
		if len(missing) > 0 {
			writeErrors(w, http.StatusBadRequest, "REQUIRED_FIELD_MISSING", "Required fields are missing: ["+strings.Join(missing, ", ")+"]", missing)
			return
		}
		id := newID(obj.KeyPrefix)
		rec := map[string]any{"Id": id, field: value}
		for k, v := range in {
			rec[k] = v
		}
		s.records[object][id] = rec
		fakeserver.WriteJSON(w, http.StatusCreated, map[string]any{"id": id, "success": true, "errors": []any{}, "created": true})
	case 1:
		for k, v := range in {
			s.records[object][ids[0]][k] = v
		}
		if apiMajor(version) < 46 {
			w.WriteHeader(http.StatusNoContent)
			return
		}
		fakeserver.WriteJSON(w, http.StatusOK, map[string]any{"id": ids[0], "success": true, "errors": []any{}, "created": false})
	default:
		urls := make([]string, len(ids))
		for i, id := range ids {
			urls[i] = "/services/data/" + version + "/sobjects/" + object + "/" + id
		}
		fakeserver.WriteJSON(w, http.StatusMultipleChoices, urls)
	}
}

func validVersion(v string) bool { return apiMajor(v) >= 20 }

func apiMajor(v string) int {
	maj, _, _ := strings.Cut(strings.TrimPrefix(v, "v"), ".")
	n, _ := strconv.Atoi(maj)
	return n
}

func writeErrors(w http.ResponseWriter, status int, code, msg string, fields []string) {
	e := map[string]any{"message": msg, "errorCode": code}
	if fields != nil {
		e["fields"] = fields
	}
	fakeserver.WriteJSON(w, status, []any{e})
}
