// Package salesforce is the built-in Salesforce sink (type = "salesforce"):
// it upserts one record per work order through the REST API.
//
// It authenticates with the OAuth 2.0 client credentials flow at
// {login_url}/services/oauth2/token and caches the access token and the
// instance_url from the answer. That answer carries no expires_in, so the
// session is reused for token_ttl (default 1h, inside the default two-hour
// session timeout) and fetched again once whenever Salesforce answers 401
// INVALID_SESSION_ID.
//
// The delivery's body (the payload template's result) is the record; its
// external_id_field holds the upsert key, which Salesforce wants in the
// URL and not in the body, so the sink moves it:
// PATCH {instance_url}/services/data/{api_version}/sobjects/{object}/{field}/{value}.
// 201 means created, 200 (API v46.0+) or 204 updated; the record id is the
// delivery's external reference (after a 204, which has no body, it is read
// back with a GET).
//
// REQUEST_LIMIT_EXCEEDED, UNABLE_TO_LOCK_ROW, 429, 408 and 5xx are
// retryable; field errors (INVALID_FIELD, REQUIRED_FIELD_MISSING,
// MALFORMED_ID, ...) and every other failure are final, with Salesforce's
// errorCode and message in the error.
package salesforce

import (
	"context"
	"sync/atomic"
	"time"

	"github.com/hookgate/hookgate/plugins/sdk"
	"github.com/hookgate/hookgate/plugins/sdk/sinkhttp"
)

// Sink is the Salesforce sink. The zero value is not usable; call New.
type Sink struct {
	now   func() time.Time
	state atomic.Pointer[restAPI] // replaced as a whole by Configure
}

var _ sdk.Sink = (*Sink)(nil)

// New returns an unconfigured Salesforce sink.
func New() *Sink { return &Sink{now: time.Now} }

// NewWithClock is New with the clock token reuse is judged by (tests).
func NewWithClock(now func() time.Time) *Sink { return &Sink{now: now} }

// Configure validates the settings (see docs/sinks.md). It makes no network
// call, so `hookgate validate` can run it offline.
func (k *Sink) Configure(_ context.Context, cfg sdk.Config) error {
	s, err := parseSettings(cfg)
	if err != nil {
		return err
	}
	// One client (and connection pool) per configuration. Redirects are
	// never followed: they would carry the Authorization header elsewhere.
	hc := sinkhttp.New(sinkhttp.Options{
		Policy: s.policy, UserAgent: "hookgate-salesforce/1", Service: "Salesforce", Now: k.now, MaxIdleConnsPerHost: 32,
	})
	k.state.Store(&restAPI{s: s, hc: hc, sessions: newSessions(s, hc, k.now)})
	return nil
}

// Deliver upserts the record in req.Body. Every failure is reported in the
// Result; the error is always nil.
func (k *Sink) Deliver(ctx context.Context, req *sdk.Request) (*sdk.Result, error) {
	api := k.state.Load()
	if api == nil {
		return &sdk.Result{Error: "salesforce sink used before Configure", Retryable: true}, nil
	}
	return sinkhttp.Attempt(ctx, req.Timeout, func(ctx context.Context) *sdk.Result { return api.upsert(ctx, req.Body) }), nil
}
