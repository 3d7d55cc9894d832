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
	"net/url"
	"sync"
	"time"

	"github.com/hookgate/hookgate/plugins/sdk/sdktest/fakeserver"
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
// Besides its own, it has the fakeserver.Server methods: Close, Requests,
// TokensIssued, Fail (faults answer REST requests), Stall (REST requests
// hang), Advance (the clock sessions time out by) and RevokeTokens (the
// same as ExpireSessions).
type Server struct {
	fakeserver.Server[Request, Fault]
	opts Options

	mu      sync.Mutex                           // guards records
	records map[string]map[string]map[string]any // object -> id -> record
}

// New starts a fake org over plain HTTP on loopback; close it with Close.
func New(opts Options) *Server {
	if opts.SessionTimeout <= 0 {
		opts.SessionTimeout = 2 * time.Hour
	}
	if opts.Objects == nil {
		opts.Objects = map[string]Object{"Case": DefaultCase}
	}
	s := &Server{opts: opts, records: map[string]map[string]map[string]any{}}
	for name := range opts.Objects {
		s.records[name] = map[string]map[string]any{}
	}
	mux := http.NewServeMux()
	mux.HandleFunc("POST /services/oauth2/token", s.token)
	mux.HandleFunc("/services/data/{version}/sobjects/{object}/{field}/{value}", s.upsert)
	s.Start(mux)
	if s.opts.InstanceURL == "" {
		s.opts.InstanceURL = s.URL
	}
	return s
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

// ExpireSessions ends every session, as a changed session policy or a
// revoked connected app would; the next REST request gets 401.
func (s *Server) ExpireSessions() { s.RevokeTokens() }

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
