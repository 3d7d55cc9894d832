// Package snowfake is a fake ServiceNow instance for tests: a real HTTP
// server on loopback that answers the Table API (/api/now/table/...) and
// the OAuth token endpoint (/oauth_token.do) the way the public
// documentation describes them: basic and bearer authentication, 401 for
// missing or expired credentials, {"error":{"message","detail"},"status":
// "failure"} error bodies, 429 with Retry-After when scripted, encoded
// queries whose unknown columns are ignored. It records every request so
// tests can assert on what a sink sent, and can be scripted to fail or to
// stall.
package snowfake

import (
	"crypto/rand"
	"encoding/hex"
	"net/http"
	"net/url"
	"sync"
	"time"

	"github.com/hookgate/hookgate/plugins/sdk/sdktest/fakeserver"
)

// Options configure a fake instance.
type Options struct {
	Username, Password     string              // the one user (basic auth and the password grant)
	ClientID, ClientSecret string              // the one OAuth client
	TokenTTL               time.Duration       // expires_in of issued tokens; default 30m
	Tables                 map[string][]string // table -> columns; default: "incident" with common columns
}

// Request is one request the fake received.
type Request struct {
	Method string
	Path   string
	Query  url.Values
	Auth   string     // "Basic", "Bearer" or ""
	Form   url.Values // token requests
	Body   []byte     // table requests
}

// Fault is a scripted answer to the next Table API request; the zero
// Fault lets that request through, so a fault can target a later step.
type Fault struct {
	Status     int
	Message    string // error.message
	Detail     string // error.detail
	RetryAfter string // Retry-After header, when set
}

// Server is a running fake instance. Its methods are safe for concurrent
// use. Besides its own, it has the fakeserver.Server methods: Close,
// Requests, TokensIssued, Fail (faults answer Table API requests), Stall
// (Table API requests hang), Advance (the clock tokens expire by) and
// RevokeTokens (the next bearer request gets 401).
type Server struct {
	fakeserver.Server[Request, Fault]
	opts Options

	mu      sync.Mutex                              // guards records
	records map[string]map[string]map[string]string // table -> sys_id -> record
}

// DefaultColumns are the incident columns the fake knows unless told otherwise.
var DefaultColumns = []string{
	"number", "short_description", "description", "state", "impact", "urgency", "priority",
	"correlation_id", "correlation_display", "assignment_group", "work_notes", "comments",
	"caller_id", "category", "u_external_ticket_id", "u_technician", "u_client_company",
}

// New starts a fake instance over plain HTTP on loopback; close it with Close.
func New(opts Options) *Server {
	if opts.TokenTTL <= 0 {
		opts.TokenTTL = 30 * time.Minute
	}
	if opts.Tables == nil {
		opts.Tables = map[string][]string{"incident": DefaultColumns}
	}
	s := &Server{opts: opts, records: map[string]map[string]map[string]string{}}
	for t := range opts.Tables {
		s.records[t] = map[string]map[string]string{}
	}
	mux := http.NewServeMux()
	mux.HandleFunc("POST /oauth_token.do", s.token)
	mux.HandleFunc("/api/now/table/{table}", s.table)
	mux.HandleFunc("/api/now/table/{table}/{sys_id}", s.table)
	s.Start(mux)
	return s
}

// Records returns a copy of a table's records by sys_id.
func (s *Server) Records(table string) map[string]map[string]string {
	s.mu.Lock()
	defer s.mu.Unlock()
	out := map[string]map[string]string{}
	for id, r := range s.records[table] {
		out[id] = copyRecord(r)
	}
	return out
}

// Seed inserts a record and returns its sys_id.
func (s *Server) Seed(table string, rec map[string]string) string {
	s.mu.Lock()
	defer s.mu.Unlock()
	id := newID(16)
	r := copyRecord(rec)
	r["sys_id"] = id
	s.records[table][id] = r
	return id
}

func copyRecord(r map[string]string) map[string]string {
	c := make(map[string]string, len(r))
	for k, v := range r {
		c[k] = v
	}
	return c
}

func newID(n int) string {
	b := make([]byte, n)
	_, _ = rand.Read(b)
	return hex.EncodeToString(b)
}
