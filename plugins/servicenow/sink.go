// Package servicenow is the built-in ServiceNow sink (type = "servicenow"):
// it upserts one record per work order through the Table API.
//
// The delivery's body (the webhook's payload template result) is the
// record. Its correlation_field names the upsert key: the sink looks the
// record up with GET /api/now/table/{table}?sysparm_query=<field>=<value>,
// then PATCHes /api/now/table/{table}/{sys_id} or POSTs a new record to
// /api/now/table/{table}. The record's sys_id is the delivery's external
// reference. The webhook's url and method are not used: the instance comes
// from instance_url.
//
// Authentication is basic, or OAuth through /oauth_token.do (client
// credentials or password grant) with the token cached until shortly before
// it expires and fetched again once when ServiceNow answers 401.
//
// 429, 408 and 5xx are retryable (Retry-After honoured); every other
// failure, 400 and 403 included, is final and carries ServiceNow's
// error.message and error.detail.
package servicenow

import (
	"context"
	"sync/atomic"
	"time"

	"github.com/hookgate/hookgate/plugins/sdk"
	"github.com/hookgate/hookgate/plugins/sdk/netguard"
	"github.com/hookgate/hookgate/plugins/sdk/sinkhttp"
)

// Sink is the ServiceNow sink. The zero value is not usable; call New.
type Sink struct {
	now   func() time.Time
	state atomic.Pointer[state] // replaced as a whole by Configure
}

type state struct {
	s    *settings
	api  *tableAPI
	auth *authorizer
}

var _ sdk.Sink = (*Sink)(nil)

// New returns an unconfigured ServiceNow sink.
func New() *Sink { return &Sink{now: time.Now} }

// NewWithClock is New with the clock token expiry is judged by (tests).
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
		Policy:    netguard.Policy{AllowHTTP: cfg.AllowHTTP, AllowPrivateNetworks: cfg.AllowPrivateNetworks},
		UserAgent: "hookgate-servicenow/1", Service: "ServiceNow", Now: k.now, MaxIdleConnsPerHost: 32,
	})
	auth := newAuthorizer(s, hc, k.now)
	k.state.Store(&state{s: s, auth: auth, api: &tableAPI{s: s, hc: hc, auth: auth}})
	return nil
}

// Deliver upserts the record in req.Body. Every failure is reported in the
// Result; the error is always nil.
func (k *Sink) Deliver(ctx context.Context, req *sdk.Request) (*sdk.Result, error) {
	st := k.state.Load()
	if st == nil {
		return &sdk.Result{Error: "servicenow sink used before Configure", Retryable: true}, nil
	}
	return sinkhttp.Attempt(ctx, req.Timeout, func(ctx context.Context) *sdk.Result { return st.api.upsert(ctx, req.Body) }), nil
}
