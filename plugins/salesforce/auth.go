package salesforce

import (
	"context"
	"encoding/json"
	"net/url"
	"strings"
	"time"

	"github.com/hookgate/hookgate/plugins/sdk"
	"github.com/hookgate/hookgate/plugins/sdk/sinkhttp"
)

// session is an access token and the instance it is valid for.
type session struct {
	token    string
	instance *url.URL
}

// newSessions returns the cache of the session that the client credentials
// flow yields, shared by concurrent deliveries and renewed when it is due.
func newSessions(s *settings, hc *sinkhttp.Client, now func() time.Time) *sinkhttp.TokenCache[*session] {
	return sinkhttp.NewTokenCache(now, func(ctx context.Context) (*session, time.Duration, *sdk.Result) {
		return fetch(ctx, s, hc)
	})
}

// fetch posts the client credentials to {login_url}/services/oauth2/token.
func fetch(ctx context.Context, s *settings, hc *sinkhttp.Client) (*session, time.Duration, *sdk.Result) {
	form := url.Values{"grant_type": {"client_credentials"}, "client_id": {s.clientID}, "client_secret": {s.clientSecret}}
	tok, res := hc.RequestToken(ctx, s.login.JoinPath("services", "oauth2", "token").String(), form,
		"check client_id and client_secret, and that the connected app enables the client credentials flow with a run-as user")
	if res != nil {
		return nil, 0, res
	}
	var tr struct {
		InstanceURL string `json:"instance_url"`
	}
	_ = json.Unmarshal(tok.Body, &tr)
	// The instance comes from the answer, so it gets the same scrutiny as
	// a configured URL: https unless allowed, no private address.
	inst, err := baseURL("instance_url", strings.TrimRight(tr.InstanceURL, "/"), s.policy)
	if err != nil {
		return nil, 0, &sdk.Result{Error: "oauth token answer: " + err.Error()}
	}
	// The client credentials answer has no expires_in; honour one if a
	// future answer has it, else reuse the session for token_ttl.
	ttl := tok.ExpiresIn
	if ttl == 0 {
		ttl = s.tokenTTL
	}
	return &session{token: tok.AccessToken, instance: inst}, ttl, nil
}
