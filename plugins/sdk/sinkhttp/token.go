package sinkhttp

import (
	"context"
	"encoding/json"
	"net/http"
	"net/url"
	"strings"
	"sync"
	"time"

	"github.com/hookgate/hookgate/plugins/sdk"
)

// Token is a successful OAuth 2.0 token answer.
type Token struct {
	AccessToken string
	// ExpiresIn is the answer's expires_in, or 0 when it has none (the
	// caller picks the lifetime then).
	ExpiresIn time.Duration
	// Body is the whole answer, for fields of the service's own (such as
	// Salesforce's instance_url).
	Body []byte
}

// RequestToken posts an OAuth 2.0 token request (RFC 6749 §4: the form
// holds grant_type and the credentials) to tokenURL and reads the answer.
//
// Failures start with "oauth token request: " and never include the form,
// which holds secrets. A refused request (a 4xx, or a 200 without an
// access_token) is final and carries the answer's error and
// error_description, then hint, which tells the operator what to check; an
// unavailable or throttled server (5xx, 408, 429) is retryable with its
// Retry-After.
func (c *Client) RequestToken(ctx context.Context, tokenURL string, form url.Values, hint string) (*Token, *sdk.Result) {
	h := http.Header{"Content-Type": {"application/x-www-form-urlencoded"}, "Accept": {"application/json"}}
	resp, res := c.Do(ctx, &Request{Method: http.MethodPost, URL: tokenURL, Header: h, Body: []byte(form.Encode())})
	if res != nil {
		res.Error = "oauth token request: " + res.Error
		return nil, res
	}
	var tr struct {
		AccessToken string      `json:"access_token"`
		ExpiresIn   json.Number `json:"expires_in"`
		Error       string      `json:"error"`
		Description string      `json:"error_description"`
	}
	_ = json.Unmarshal(resp.Body, &tr)
	if resp.Status != http.StatusOK || tr.AccessToken == "" {
		msg := "oauth token request: HTTP " + StatusText(resp.Status)
		if detail := strings.TrimSpace(strings.Trim(tr.Error+": "+tr.Description, ": ")); detail != "" {
			msg += ": " + detail
		} else if resp.Status == http.StatusOK {
			msg += ": no access_token in the answer"
		}
		// Neither headers nor body: a token endpoint's answer may echo
		// what it was sent.
		res := &sdk.Result{Status: resp.Status, Error: msg}
		if Retryable(resp.Status) {
			res.Retryable = true
			res.RetryAfter = c.RetryAfter(resp)
		} else if hint != "" {
			res.Error += " (" + hint + ")"
		}
		return nil, res
	}
	tok := &Token{AccessToken: tr.AccessToken, Body: resp.Body}
	if secs, err := tr.ExpiresIn.Int64(); err == nil && secs > 0 {
		tok.ExpiresIn = time.Duration(secs) * time.Second
	}
	return tok, nil
}

// tokenSkew renews a token this long before it is due, so a request never
// leaves with a token that lapses in flight.
const tokenSkew = 30 * time.Second

// TokenCache holds one credential (a token, or a session of a token and
// what came with it) that concurrent deliveries share, fetching a new one
// when it is due or was refused. T is compared to tell the refused
// credential from a newer one.
type TokenCache[T comparable] struct {
	fetch func(context.Context) (T, time.Duration, *sdk.Result)
	now   func() time.Time

	// mu is held while fetching, so concurrent deliveries share one token
	// request instead of each sending their own.
	mu      sync.Mutex
	cur     T
	valid   bool
	expires time.Time
}

// NewTokenCache returns a cache that gets credentials from fetch, which
// returns one and how long it lives, or a failed Result. A credential is
// renewed 30 s before that lifetime ends (at half of a shorter one). now is
// the clock it is judged by; nil means time.Now.
func NewTokenCache[T comparable](now func() time.Time, fetch func(context.Context) (T, time.Duration, *sdk.Result)) *TokenCache[T] {
	if now == nil {
		now = time.Now
	}
	return &TokenCache[T]{fetch: fetch, now: now}
}

// Get returns the cached credential, fetching one when there is none or it
// is due. A failed fetch is returned as is and leaves nothing cached.
func (c *TokenCache[T]) Get(ctx context.Context) (T, *sdk.Result) {
	c.mu.Lock()
	defer c.mu.Unlock()
	if c.valid && c.now().Before(c.expires) {
		return c.cur, nil
	}
	cur, lifetime, res := c.fetch(ctx)
	if res != nil {
		var zero T
		return zero, res
	}
	c.cur, c.valid = cur, true
	c.expires = c.now().Add(max(lifetime-tokenSkew, lifetime/2))
	return cur, nil
}

// Invalidate drops the cached credential if it is still the refused one,
// so that of many deliveries refused at once only one fetches anew.
func (c *TokenCache[T]) Invalidate(refused T) {
	c.mu.Lock()
	if c.valid && c.cur == refused {
		var zero T
		c.cur, c.valid = zero, false
	}
	c.mu.Unlock()
}
