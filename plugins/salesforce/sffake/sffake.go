// Package sffake is a fake Salesforce org for tests: a real HTTP server on
// loopback that answers the OAuth 2.0 client credentials flow
// (/services/oauth2/token) and upserts through sObject Rows by External ID
// (PATCH/GET /services/data/vXX.X/sobjects/{object}/{field}/{value}) as the
// public documentation describes them: token answers without expires_in
// that carry instance_url, sessions that time out, 401 INVALID_SESSION_ID,
// 201 on create and 200 (v46.0+) or 204 on update, 300 on an ambiguous
// external id, and [{"message","errorCode","fields"}] error arrays. It
// records every request and can be scripted to fail or to stall.
package sffake

import (
	"crypto/rand"
	"net/http"
	"net/http/httptest"
	"net/url"
	"sync"
	"time"
)

// Object describes one sObject type of the fake org.
type Object struct {
	KeyPrefix   string   // first three characters of record ids, e.g. "500" for Case
	Fields      []string // writable fields
	ExternalIDs []string // fields marked External ID (a subset of Fields)
	Required    []string // fields a new record must have
}

// Options configure a fake org.
type Options struct {
	ClientID, ClientSecret string            // the connected app
	SessionTimeout         time.Duration     // how long a token stays valid; default 2h
	InstanceURL            string            // instance_url to hand out; default the fake itself
	Objects                map[string]Object // default: "Case" (see DefaultCase)
}

// DefaultCase is the Case object the fake knows unless told otherwise.
var DefaultCase = Object{
	KeyPrefix:   "500",
	Fields:      []string{"Subject", "Description", "Status", "Priority", "Origin", "Type", "SuppliedCompany", "FN_Work_Order_Id__c", "FN_Status__c", "FN_Scheduled_Start__c"},
	ExternalIDs: []string{"FN_Work_Order_Id__c"},
	Required:    []string{"Subject"},
}

// Request is one request the fake received.
type Request struct {
	Method string
	Path   string // unescaped
	Query  url.Values
	Bearer bool       // an Authorization: Bearer header was sent
	Form   url.Values // token requests
	Body   []byte
}

// Fault is a scripted answer to the next REST request; the zero Fault lets
// that request through, so a fault can target a later step.
type Fault struct {
	Status     int
	ErrorCode  string
	Message    string
	Fields     []string
	RetryAfter string
}

// Server is a running fake org. Its methods are safe for concurrent use.
type Server struct {
	URL  string
	opts Options
	srv  *httptest.Server

	mu       sync.Mutex
	offset   time.Duration
	tokens   map[string]time.Time                 // token -> expiry
	records  map[string]map[string]map[string]any // object -> id -> record
	requests []Request
	faults   []Fault
	stall    chan struct{}
	issued   int
	seq      int
}

// New starts a fake org over plain HTTP on loopback; close it with Close.
func New(opts Options) *Server {
	if opts.SessionTimeout <= 0 {
		opts.SessionTimeout = 2 * time.Hour
	}
	if opts.Objects == nil {
		opts.Objects = map[string]Object{"Case": DefaultCase}
	}
	s := &Server{opts: opts, tokens: map[string]time.Time{}, records: map[string]map[string]map[string]any{}}
	for name := range opts.Objects {
		s.records[name] = map[string]map[string]any{}
	}
	mux := http.NewServeMux()
	mux.HandleFunc("POST /services/oauth2/token", s.token)
	mux.HandleFunc("/services/data/{version}/sobjects/{object}/{field}/{value}", s.upsert)
	s.srv = httptest.NewServer(mux)
	s.URL = s.srv.URL
	if s.opts.InstanceURL == "" {
		s.opts.InstanceURL = s.URL
	}
	return s
}

// Close stops the server, releasing a stall first.
func (s *Server) Close() {
	s.mu.Lock()
	if s.stall != nil {
		close(s.stall)
		s.stall = nil
	}
	s.mu.Unlock()
	s.srv.CloseClientConnections()
	s.srv.Close()
}

// Requests returns what the fake received, in order.
func (s *Server) Requests() []Request {
	s.mu.Lock()
	defer s.mu.Unlock()
	return append([]Request(nil), s.requests...)
}

// TokensIssued counts successful token requests.
func (s *Server) TokensIssued() int {
	s.mu.Lock()
	defer s.mu.Unlock()
	return s.issued
}

// Records returns a copy of an object's records by id.
func (s *Server) Records(object string) map[string]map[string]any {
	s.mu.Lock()
	defer s.mu.Unlock()
	out := map[string]map[string]any{}
	for id, r := range s.records[object] {
		c := map[string]any{}
		for k, v := range r {
			c[k] = v
		}
		out[id] = c
	}
	return out
}

// Fail scripts the answers to the next REST requests, one fault each.
func (s *Server) Fail(faults ...Fault) {
	s.mu.Lock()
	s.faults = append(s.faults, faults...)
	s.mu.Unlock()
}

// Stall makes REST requests hang until release is called (or the client
// gives up).
func (s *Server) Stall() (release func()) {
	s.mu.Lock()
	ch := make(chan struct{})
	s.stall = ch
	s.mu.Unlock()
	var once sync.Once
	return func() {
		once.Do(func() {
			s.mu.Lock()
			if s.stall == ch {
				close(ch)
				s.stall = nil
			}
			s.mu.Unlock()
		})
	}
}

// Advance moves the fake's clock, so sessions time out without waiting.
func (s *Server) Advance(d time.Duration) {
	s.mu.Lock()
	s.offset += d
	s.mu.Unlock()
}

// ExpireSessions ends every session, as a changed session policy or a
// revoked connected app would; the next REST request gets 401.
func (s *Server) ExpireSessions() {
	s.mu.Lock()
	s.tokens = map[string]time.Time{}
	s.mu.Unlock()
}

func (s *Server) now() time.Time { return time.Now().Add(s.offset) }

const idChars = "0123456789ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz"

// newID returns an 18-character record id with the object's key prefix.
func newID(prefix string) string {
	b := make([]byte, 15)
	_, _ = rand.Read(b)
	for i := range b {
		b[i] = idChars[int(b[i])%len(idChars)]
	}
	return prefix + string(b)
}
