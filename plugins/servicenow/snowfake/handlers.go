package snowfake

import (
	"bytes"
	"encoding/json"
	"fmt"
	"net/http"
	"slices"
	"strconv"
	"strings"
	"time"

	"github.com/hookgate/hookgate/plugins/sdk/sdktest/fakeserver"
)

// token serves /oauth_token.do (client_credentials and password grants).
func (s *Server) token(w http.ResponseWriter, r *http.Request) {
	_ = r.ParseForm()
	s.Record(Request{Method: r.Method, Path: r.URL.Path, Form: r.PostForm})
	f := r.PostForm
	switch {
	case f.Get("client_id") != s.opts.ClientID || f.Get("client_secret") != s.opts.ClientSecret || s.opts.ClientID == "":
		fakeserver.WriteJSON(w, http.StatusUnauthorized, map[string]string{"error": "server_error", "error_description": "access_denied"})
		return
	case f.Get("grant_type") == "password":
		if f.Get("username") != s.opts.Username || f.Get("password") != s.opts.Password {
			fakeserver.WriteJSON(w, http.StatusUnauthorized, map[string]string{"error": "server_error", "error_description": "access_denied"})
			return
		}
	case f.Get("grant_type") != "client_credentials":
		fakeserver.WriteJSON(w, http.StatusBadRequest, map[string]string{"error": "unsupported_grant_type", "error_description": "unsupported grant type"})
		return
	}
	tok := newID(24)
	s.IssueToken(tok, s.opts.TokenTTL)
	fakeserver.WriteJSON(w, http.StatusOK, map[string]any{
		"access_token": tok, "refresh_token": newID(24), "scope": "useraccount",
		"token_type": "Bearer", "expires_in": int(s.opts.TokenTTL / time.Second),
	})
}

// table serves /api/now/table/{table}[/{sys_id}].
func (s *Server) table(w http.ResponseWriter, r *http.Request) {
	scheme, _, _ := strings.Cut(r.Header.Get("Authorization"), " ")
	body, ok := s.Receive(r, func(body []byte) Request {
		return Request{Method: r.Method, Path: r.URL.Path, Query: r.URL.Query(), Auth: scheme, Body: body}
	})
	if !ok {
		return
	}
	if !s.authorized(r) {
		writeError(w, http.StatusUnauthorized, "User Not Authenticated", "Required to provide Auth information")
		return
	}
	if f, ok := s.NextFault(); ok && f.Status != 0 {
		if f.RetryAfter != "" {
			w.Header().Set("Retry-After", f.RetryAfter)
		}
		writeError(w, f.Status, f.Message, f.Detail)
		return
	}
	table, sysID := r.PathValue("table"), r.PathValue("sys_id")
	cols, ok := s.opts.Tables[table]
	if !ok {
		writeError(w, http.StatusBadRequest, "Invalid table "+table, "")
		return
	}
	switch {
	case r.Method == http.MethodGet && sysID == "":
		s.query(w, r, table, cols)
	case r.Method == http.MethodPost && sysID == "":
		s.write(w, table, "", cols, body)
	case r.Method == http.MethodPatch && sysID != "":
		s.write(w, table, sysID, cols, body)
	default:
		writeError(w, http.StatusMethodNotAllowed, "Method not Supported", "")
	}
}

// authorized accepts the one user's basic credentials or an issued token.
func (s *Server) authorized(r *http.Request) bool {
	if u, p, ok := r.BasicAuth(); ok {
		return s.opts.Username != "" && u == s.opts.Username && p == s.opts.Password
	}
	return s.Authorized(r)
}

// query filters by an encoded query of field=value conditions joined by ^.
// As on a real instance, a condition on an unknown column is ignored.
func (s *Server) query(w http.ResponseWriter, r *http.Request, table string, cols []string) {
	q := r.URL.Query()
	limit, err := strconv.Atoi(q.Get("sysparm_limit"))
	if err != nil || limit <= 0 {
		limit = 10000
	}
	var conds [][2]string
	for _, c := range strings.Split(q.Get("sysparm_query"), "^") {
		f, v, ok := strings.Cut(c, "=")
		if ok && (f == "sys_id" || slices.Contains(cols, f)) {
			conds = append(conds, [2]string{f, v})
		}
	}
	var fields []string
	if fs := q.Get("sysparm_fields"); fs != "" {
		fields = strings.Split(fs, ",")
	}
	s.mu.Lock()
	ids := make([]string, 0, len(s.records[table]))
	for id := range s.records[table] {
		ids = append(ids, id)
	}
	slices.Sort(ids)
	out := []map[string]string{}
	for _, id := range ids {
		rec := s.records[table][id]
		if matches(rec, conds) && len(out) < limit {
			out = append(out, project(rec, fields))
		}
	}
	s.mu.Unlock()
	w.Header().Set("X-Total-Count", strconv.Itoa(len(out)))
	fakeserver.WriteJSON(w, http.StatusOK, map[string]any{"result": out})
}

func matches(rec map[string]string, conds [][2]string) bool {
	for _, c := range conds {
		if rec[c[0]] != c[1] {
			return false
		}
	}
	return true
}

func project(rec map[string]string, fields []string) map[string]string {
	if len(fields) == 0 {
		return copyRecord(rec)
	}
	out := map[string]string{}
	for _, f := range fields {
		if v, ok := rec[f]; ok {
			out[f] = v
		}
	}
	return out
}

// write inserts (sysID == "") or updates a record. Unknown fields are
// ignored, as the Table API does; values are stored as strings.
func (s *Server) write(w http.ResponseWriter, table, sysID string, cols []string, body []byte) {
	var in map[string]any
	dec := json.NewDecoder(bytes.NewReader(body))
	dec.UseNumber()
	if err := dec.Decode(&in); err != nil || in == nil {
		writeError(w, http.StatusBadRequest, "Exception while reading request", "The payload is not valid JSON.")
		return
	}
	s.mu.Lock()
	defer s.mu.Unlock()
	status := http.StatusOK
	rec := s.records[table][sysID]
	if sysID == "" {
		status, sysID = http.StatusCreated, newID(16)
		rec = map[string]string{"sys_id": sysID, "number": fmt.Sprintf("INC%07d", len(s.records[table])+10001),
			"sys_created_on": s.Now().UTC().Format("2006-01-02 15:04:05")}
		s.records[table][sysID] = rec
	} else if rec == nil {
		writeError(w, http.StatusNotFound, "No Record found", "Record doesn't exist or ACL restricts the record retrieval")
		return
	}
	for k, v := range in {
		if slices.Contains(cols, k) {
			rec[k] = text(v)
		}
	}
	rec["sys_updated_on"] = s.Now().UTC().Format("2006-01-02 15:04:05")
	if status == http.StatusCreated {
		w.Header().Set("Location", s.URL+"/api/now/table/"+table+"/"+sysID)
	}
	fakeserver.WriteJSON(w, status, map[string]any{"result": copyRecord(rec)})
}

func text(v any) string {
	switch x := v.(type) {
	case string:
		return x
	case json.Number:
		return x.String()
	case bool:
		return strconv.FormatBool(x)
	case nil:
		return ""
	}
	b, _ := json.Marshal(v)
	return string(b)
}

func writeError(w http.ResponseWriter, status int, msg, detail string) {
	var d any
	if detail != "" {
		d = detail
	}
	fakeserver.WriteJSON(w, status, map[string]any{"error": map[string]any{"message": msg, "detail": d}, "status": "failure"})
}
