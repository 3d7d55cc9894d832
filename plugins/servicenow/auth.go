package servicenow

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

// defaultTokenLifetime is used when /oauth_token.do omits expires_in: the
// instance's default access token lifespan is 1,800 seconds.
const defaultTokenLifetime = 30 * time.Minute

// tokenSkew renews a token this long before it expires, so a request never
// leaves with a token that lapses in flight.
const tokenSkew = 30 * time.Second

// authorizer sets the Authorization header: fixed for basic auth, a cached
// OAuth token otherwise.
type authorizer struct {
	s   *settings
	hc  *http.Client
	now func() time.Time

	mu      sync.Mutex // held while fetching, so concurrent deliveries share one token request
	token   string
	expires time.Time
}

// header returns the Authorization value, fetching a token when needed.
func (a *authorizer) header(ctx context.Context) (string, *sdk.Result) {
	if a.s.auth == "basic" {
		return "Basic " + basicCredentials(a.s.username, a.s.password), nil
	}
	tok, res := a.bearer(ctx)
	if res != nil {
		return "", res
	}
	return "Bearer " + tok, nil
}

// invalidate drops the cached token if it is still the one that was
// refused, so that of many deliveries refused at once only one refetches.
func (a *authorizer) invalidate(header string) {
	if a.s.auth != "oauth" {
		return
	}
	a.mu.Lock()
	if "Bearer "+a.token == header {
		a.token = ""
	}
	a.mu.Unlock()
}

func (a *authorizer) bearer(ctx context.Context) (string, *sdk.Result) {
	a.mu.Lock()
	defer a.mu.Unlock()
	if a.token != "" && a.now().Before(a.expires) {
		return a.token, nil
	}
	tok, lifetime, res := a.fetch(ctx)
	if res != nil {
		return "", res
	}
	a.token = tok
	a.expires = a.now().Add(max(lifetime-tokenSkew, lifetime/2))
	return tok, nil
}

type tokenResponse struct {
	AccessToken string      `json:"access_token"`
	ExpiresIn   json.Number `json:"expires_in"`
	TokenType   string      `json:"token_type"`
	Error       string      `json:"error"`
	Description string      `json:"error_description"`
}

// fetch requests a token from /oauth_token.do. Failures never include the
// request body: it holds the client secret and the password.
func (a *authorizer) fetch(ctx context.Context) (string, time.Duration, *sdk.Result) {
	form := url.Values{
		"grant_type":    {a.s.grantType},
		"client_id":     {a.s.clientID},
		"client_secret": {a.s.clientSecret},
	}
	if a.s.grantType == "password" {
		form.Set("username", a.s.username)
		form.Set("password", a.s.password)
	}
	h := http.Header{"Content-Type": {"application/x-www-form-urlencoded"}, "Accept": {"application/json"}}
	resp, res := send(ctx, a.hc, http.MethodPost, a.s.instance.JoinPath("/oauth_token.do").String(), h, []byte(form.Encode()))
	if res != nil {
		res.Error = "oauth token request: " + res.Error
		return "", 0, res
	}
	var tr tokenResponse
	_ = json.Unmarshal(resp.body, &tr)
	if resp.status != http.StatusOK || tr.AccessToken == "" {
		return "", 0, tokenFailure(resp, &tr, a.now())
	}
	lifetime := defaultTokenLifetime
	if secs, err := tr.ExpiresIn.Int64(); err == nil && secs > 0 {
		lifetime = time.Duration(secs) * time.Second
	}
	return tr.AccessToken, lifetime, nil
}

// tokenFailure: a rejected client or user is final (retrying cannot fix
// credentials); an unavailable or throttled instance is retryable.
func tokenFailure(resp *response, tr *tokenResponse, now time.Time) *sdk.Result {
	msg := "oauth token request: HTTP " + statusText(resp.status)
	if detail := strings.TrimSpace(strings.Trim(tr.Error+": "+tr.Description, ": ")); detail != "" {
		msg += ": " + detail
	} else if resp.status == http.StatusOK {
		msg += ": no access_token in the answer"
	}
	res := &sdk.Result{Status: resp.status, Error: msg}
	if resp.status >= 500 || resp.status == http.StatusTooManyRequests || resp.status == http.StatusRequestTimeout {
		res.Retryable = true
		res.RetryAfter = retryAfter(resp.header.Get("Retry-After"), now)
	} else {
		res.Error += " (check client_id and client_secret, and username and password for the password grant)"
	}
	return res
}

func basicCredentials(user, pass string) string {
	req := http.Request{Header: http.Header{}}
	req.SetBasicAuth(user, pass)
	return strings.TrimPrefix(req.Header.Get("Authorization"), "Basic ")
}
