// Package fakeserver is the plumbing that test fakes of remote services
// share (the ServiceNow and Salesforce fakes, a test's webhook receiver, a
// custom sink's fake): a loopback HTTP server that records every request,
// answers from a script of faults, stalls on demand, and issues bearer
// tokens that expire on a clock the test can move forward.
//
// A fake embeds a Server, with its own request record R and fault F types,
// and serves its endpoints with the Server's helpers:
//
//	type Fake struct {
//		fakeserver.Server[Request, Fault]
//	}
//
//	func New() *Fake {
//		f := &Fake{}
//		f.Start(http.HandlerFunc(f.serve))
//		return f
//	}
//
//	func (f *Fake) serve(w http.ResponseWriter, r *http.Request) {
//		if _, ok := f.Receive(r, func(body []byte) Request { return Request{Path: r.URL.Path, Body: body} }); !ok {
//			return // stalled until the client gave up
//		}
//		if !f.Authorized(r) { ... 401 ... }
//		if fault, ok := f.NextFault(); ok { ... answer with it ... }
//		...
//	}
//
// The embedding fake gets Close, Requests, Fail, Stall, Advance,
// TokensIssued and RevokeTokens as its own methods. A Server is safe for
// concurrent use; it must not be copied after Start.
package fakeserver

import (
	"encoding/json"
	"io"
	"net/http"
	"net/http/httptest"
	"strings"
	"sync"
	"time"
)

// maxBody bounds what Receive reads of a request body: far above anything
// a sink sends, low enough that a runaway client cannot exhaust a test.
const maxBody = 10 << 20

// Server is a running fake's shared state: R is what it records of a
// request, F a scripted answer. The zero value is ready for Start.
type Server[R, F any] struct {
	// URL is the base URL, http://127.0.0.1:port, once started.
	URL string
	srv *httptest.Server

	mu       sync.Mutex
	offset   time.Duration        // the fake clock's lead over time.Now
	tokens   map[string]time.Time // bearer token -> expiry
	issued   int
	requests []R
	faults   []F
	stall    chan struct{} // non-nil: Receive waits until it is closed
}

// Start serves h over plain HTTP on loopback and sets URL. Stop it with
// Close.
func (s *Server[R, F]) Start(h http.Handler) {
	s.srv = httptest.NewServer(h)
	s.URL = s.srv.URL
}

// Close stops the server, releasing a stall first so that no handler
// waits forever.
func (s *Server[R, F]) Close() {
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
func (s *Server[R, F]) Requests() []R {
	s.mu.Lock()
	defer s.mu.Unlock()
	return append([]R(nil), s.requests...)
}

// Record appends a request to what Requests returns. Receive records the
// requests it admits; call Record for others (token requests, say, which
// no stall holds up).
func (s *Server[R, F]) Record(r R) {
	s.mu.Lock()
	s.requests = append(s.requests, r)
	s.mu.Unlock()
}

// Receive reads r's body (up to 10 MiB), records the request as rec makes
// it, and waits while the fake is stalled. It returns false when the client
// gave up during the stall: the handler should then return without an
// answer.
func (s *Server[R, F]) Receive(r *http.Request, rec func(body []byte) R) (body []byte, ok bool) {
	body, _ = io.ReadAll(io.LimitReader(r.Body, maxBody))
	s.mu.Lock()
	s.requests = append(s.requests, rec(body))
	stall := s.stall
	s.mu.Unlock()
	if stall != nil {
		select {
		case <-stall:
		case <-r.Context().Done():
			return body, false
		}
	}
	return body, true
}

// Fail scripts the answers to the next requests, one fault each, in order.
// What a fault means (and whether its zero value lets a request through)
// is the embedding fake's to say.
func (s *Server[R, F]) Fail(faults ...F) {
	s.mu.Lock()
	s.faults = append(s.faults, faults...)
	s.mu.Unlock()
}

// NextFault takes the next scripted fault, if any.
func (s *Server[R, F]) NextFault() (F, bool) {
	s.mu.Lock()
	defer s.mu.Unlock()
	if len(s.faults) == 0 {
		var zero F
		return zero, false
	}
	f := s.faults[0]
	s.faults = s.faults[1:]
	return f, true
}

// Stall makes requests hang in Receive until release is called (or the
// client gives up), as an overloaded service would.
func (s *Server[R, F]) Stall() (release func()) {
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

// Now is the fake's clock: time.Now moved forward by Advance.
func (s *Server[R, F]) Now() time.Time {
	s.mu.Lock()
	defer s.mu.Unlock()
	return time.Now().Add(s.offset)
}

// Advance moves the fake's clock, so that tokens expire without waiting.
func (s *Server[R, F]) Advance(d time.Duration) {
	s.mu.Lock()
	s.offset += d
	s.mu.Unlock()
}

// IssueToken makes tok a valid bearer token for ttl from now on the fake's
// clock, counts it, and returns that now.
func (s *Server[R, F]) IssueToken(tok string, ttl time.Duration) (now time.Time) {
	s.mu.Lock()
	defer s.mu.Unlock()
	now = time.Now().Add(s.offset)
	if s.tokens == nil {
		s.tokens = map[string]time.Time{}
	}
	s.tokens[tok] = now.Add(ttl)
	s.issued++
	return now
}

// TokensIssued counts the tokens issued.
func (s *Server[R, F]) TokensIssued() int {
	s.mu.Lock()
	defer s.mu.Unlock()
	return s.issued
}

// RevokeTokens invalidates every issued token, as a service restart or an
// administrator would; the next bearer request is refused.
func (s *Server[R, F]) RevokeTokens() {
	s.mu.Lock()
	s.tokens = nil
	s.mu.Unlock()
}

// Authorized reports whether r carries an issued bearer token that has not
// expired on the fake's clock.
func (s *Server[R, F]) Authorized(r *http.Request) bool {
	tok, ok := strings.CutPrefix(r.Header.Get("Authorization"), "Bearer ")
	if !ok {
		return false
	}
	s.mu.Lock()
	defer s.mu.Unlock()
	exp, ok := s.tokens[tok]
	return ok && time.Now().Add(s.offset).Before(exp)
}

// WriteJSON answers with status and v as JSON, with the Content-Type
// ServiceNow and Salesforce send.
func WriteJSON(w http.ResponseWriter, status int, v any) {
	w.Header().Set("Content-Type", "application/json;charset=UTF-8")
	w.WriteHeader(status)
	_ = json.NewEncoder(w).Encode(v)
}
