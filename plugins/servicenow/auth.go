package servicenow

import (
	"context"
	"net/http"
	"net/url"
	"strings"
	"time"

	"github.com/hookgate/hookgate/plugins/sdk"
	"github.com/hookgate/hookgate/plugins/sdk/sinkhttp"
)

// defaultTokenLifetime is used when /oauth_token.do omits expires_in: the
// instance's default access token lifespan is 1,800 seconds.
const defaultTokenLifetime = 30 * time.Minute

// authorizer sets the Authorization header: fixed for basic auth, a cached
// OAuth token otherwise.
type authorizer struct {
	s      *settings
	hc     *sinkhttp.Client
	tokens *sinkhttp.TokenCache[string]
}

func newAuthorizer(s *settings, hc *sinkhttp.Client, now func() time.Time) *authorizer {
	a := &authorizer{s: s, hc: hc}
	a.tokens = sinkhttp.NewTokenCache(now, a.fetch)
	return a
}

// header returns the Authorization value, fetching a token when needed.
func (a *authorizer) header(ctx context.Context) (string, *sdk.Result) {
	if a.s.auth == "basic" {
		return "Basic " + basicCredentials(a.s.username, a.s.password), nil
	}
	tok, res := a.tokens.Get(ctx)
	if res != nil {
		return "", res
	}
	return "Bearer " + tok, nil
}

// invalidate drops the cached token if it is still the one that was
// refused, so that of many deliveries refused at once only one refetches.
func (a *authorizer) invalidate(header string) {
	if tok, ok := strings.CutPrefix(header, "Bearer "); ok && a.s.auth == "oauth" {
		a.tokens.Invalidate(tok)
	}
}

// fetch requests a token from /oauth_token.do.
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
	tok, res := a.hc.RequestToken(ctx, a.s.instance.JoinPath("/oauth_token.do").String(), form,
		"check client_id and client_secret, and username and password for the password grant")
	if res != nil {
		return "", 0, res
	}
	lifetime := tok.ExpiresIn
	if lifetime == 0 {
		lifetime = defaultTokenLifetime
	}
	return tok.AccessToken, lifetime, nil
}

func basicCredentials(user, pass string) string {
	req := http.Request{Header: http.Header{}}
	req.SetBasicAuth(user, pass)
	return strings.TrimPrefix(req.Header.Get("Authorization"), "Basic ")
}
