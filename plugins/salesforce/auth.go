package salesforce

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

// tokenSkew renews a token this long before it is due, so a request never
// leaves with a token that lapses in flight.
const tokenSkew = 30 * time.Second

// session is an access token and the instance it is valid for.
type session struct {
	token    string
	instance *url.URL
}

// authorizer runs the OAuth 2.0 client credentials flow and caches the
// session until it is due.
type authorizer struct {
	s   *settings
	hc  *http.Client
	now func() time.Time

	mu      sync.Mutex // held while fetching, so concurrent deliveries share one token request
	cur     *session
	expires time.Time
}

func (a *authorizer) session(ctx context.Context) (*session, *sdk.Result) {
	a.mu.Lock()
	defer a.mu.Unlock()
	if a.cur != nil && a.now().Before(a.expires) {
		return a.cur, nil
	}
	sess, ttl, res := a.fetch(ctx)
	if res != nil {
		return nil, res
	}
	a.cur = sess
	a.expires = a.now().Add(max(ttl-tokenSkew, ttl/2))
	return sess, nil
}

// invalidate drops the cached session if it is still the refused one, so
// that of many deliveries refused at once only one fetches a new token.
func (a *authorizer) invalidate(refused *session) {
	a.mu.Lock()
	if a.cur == refused {
		a.cur = nil
	}
	a.mu.Unlock()
}

type tokenResponse struct {
	AccessToken string      `json:"access_token"`
	InstanceURL string      `json:"instance_url"`
	ExpiresIn   json.Number `json:"expires_in"` // not sent by the client credentials flow; honoured if present
	Error       string      `json:"error"`
	Description string      `json:"error_description"`
}

// fetch posts the client credentials to {login_url}/services/oauth2/token.
// Errors never include the request body: it holds the client secret.
func (a *authorizer) fetch(ctx context.Context) (*session, time.Duration, *sdk.Result) {
	form := url.Values{"grant_type": {"client_credentials"}, "client_id": {a.s.clientID}, "client_secret": {a.s.clientSecret}}
	h := http.Header{"Content-Type": {"application/x-www-form-urlencoded"}, "Accept": {"application/json"}}
	resp, res := send(ctx, a.hc, http.MethodPost, a.s.login.JoinPath("services", "oauth2", "token").String(), h, []byte(form.Encode()))
	if res != nil {
		res.Error = "oauth token request: " + res.Error
		return nil, 0, res
	}
	var tr tokenResponse
	_ = json.Unmarshal(resp.body, &tr)
	if resp.status != http.StatusOK || tr.AccessToken == "" {
		return nil, 0, tokenFailure(resp, &tr, a.now())
	}
	// The instance comes from the answer, so it gets the same scrutiny as
	// a configured URL: https unless allowed, no private address.
	inst, err := baseURL("instance_url", strings.TrimRight(tr.InstanceURL, "/"), a.s.policy)
	if err != nil {
		return nil, 0, &sdk.Result{Error: "oauth token answer: " + err.Error()}
	}
	ttl := a.s.tokenTTL
	if secs, err := tr.ExpiresIn.Int64(); err == nil && secs > 0 {
		ttl = time.Duration(secs) * time.Second
	}
	return &session{token: tr.AccessToken, instance: inst}, ttl, nil
}

// tokenFailure: rejected client credentials are final; an unavailable or
// throttled login server is retryable.
func tokenFailure(resp *response, tr *tokenResponse, now time.Time) *sdk.Result {
	msg := "oauth token request: HTTP " + statusText(resp.status)
	if detail := strings.Trim(tr.Error+": "+tr.Description, ": "); detail != "" {
		msg += ": " + detail
	} else if resp.status == http.StatusOK {
		msg += ": no access_token in the answer"
	}
	res := &sdk.Result{Status: resp.status, Error: msg}
	if resp.status >= 500 || resp.status == http.StatusTooManyRequests || resp.status == http.StatusRequestTimeout {
		res.Retryable = true
		res.RetryAfter = retryAfter(resp.header.Get("Retry-After"), now)
	} else {
		res.Error += " (check client_id and client_secret, and that the connected app enables the client credentials flow with a run-as user)"
	}
	return res
}
