package api_test

import (
	"bytes"
	"encoding/base64"
	"net/url"
	"strconv"
	"strings"
	"testing"
	"time"

	"github.com/hookgate/hookgate/gateway/api"
	"github.com/hookgate/hookgate/gateway/gatewaytest"
)

// tokenReq posts form to the token endpoint with extra headers.
func tokenReq(tg *testGateway, query string, form url.Values, hdr map[string]string) gatewaytest.Response {
	tg.T.Helper()
	h := map[string]string{"Content-Type": "application/x-www-form-urlencoded"}
	for k, v := range hdr {
		h[k] = v
	}
	path := "/authentication/api/oauth/token"
	if query != "" {
		path += "?" + query
	}
	return tg.Do("POST", path, "", []byte(form.Encode()), h)
}

// TestTokenCredentialsNotInQuery: client credentials in the query string
// are refused with a 400 naming the parameter, whatever the body holds;
// the secret appears neither in the answer nor in the log. The body and
// HTTP Basic auth work.
func TestTokenCredentialsNotInQuery(t *testing.T) {
	tg, logs := startLogged(t, gatewaytest.Config(t))
	const secret = "acme-secret"
	grant := url.Values{"grant_type": {"client_credentials"}}
	full := url.Values{"grant_type": {"client_credentials"}, "client_id": {"acme"}, "client_secret": {secret}}
	for name, c := range map[string]struct {
		query string
		form  url.Values
		param string
	}{
		"all in the query":    {full.Encode(), nil, "client_secret"},
		"secret in the query": {"client_secret=" + secret, url.Values{"grant_type": {"client_credentials"}, "client_id": {"acme"}}, "client_secret"},
		"id in the query":     {"client_id=acme", url.Values{"grant_type": {"client_credentials"}, "client_secret": {secret}}, "client_id"},
		"query beside a body": {"client_secret=" + secret, full, "client_secret"},
	} {
		r := tokenReq(tg, c.query, c.form, nil)
		if r.Status != 400 || !strings.Contains(r.ErrMessage(), c.param+" must not be sent in the query string") || r.Body["access_token"] != nil {
			t.Errorf("%s: %d %s", name, r.Status, r.Raw)
		}
		if bytes.Contains(r.Raw, []byte(secret)) {
			t.Errorf("%s: the answer echoes the secret", name)
		}
	}
	if strings.Contains(logs(), secret) {
		t.Errorf("the secret reached the log:\n%s", logs())
	}
	// The body, and HTTP Basic auth, still work; a cache buster in the query is fine.
	if r := tokenReq(tg, "_=1", full, nil); r.Status != 200 || r.Body["access_token"] == nil {
		t.Errorf("credentials in the body: %d %s", r.Status, r.Raw)
	}
	basic := "Basic " + base64.StdEncoding.EncodeToString([]byte("acme:"+secret))
	if r := tokenReq(tg, "", grant, map[string]string{"Authorization": basic}); r.Status != 200 {
		t.Errorf("HTTP Basic: %d %s", r.Status, r.Raw)
	}
	// Parameters in a body that is not a form are not read.
	r := tg.Do("POST", "/authentication/api/oauth/token", "", []byte(`{"grant_type":"client_credentials","client_id":"acme","client_secret":"acme-secret"}`), nil)
	if r.Status != 400 {
		t.Errorf("JSON body: %d %s", r.Status, r.Raw)
	}
}

// TestFailedAuthThrottledPerClient: failed authentications for one client
// id count against it from any address (here spread over addresses by a
// trusted proxy's X-Forwarded-For): past auth.max_failures_per_client the
// endpoint answers 429 with Retry-After without checking the secret (so a
// right guess looks like a wrong one). An address that authenticated as
// the client and has not failed since is not locked out; an address that
// fails loses that; unknown client ids and other clients are not locked;
// the lock ends when the bucket refills.
func TestFailedAuthThrottledPerClient(t *testing.T) {
	cfg := gatewaytest.Config(t)
	cfg.Server.TrustedProxies = []string{"127.0.0.1"}
	cfg.Auth.MaxFailuresPerClient = 5
	tg, _ := startLogged(t, cfg)
	try := func(id, secret, from string) gatewaytest.Response {
		return tokenReq(tg, "", url.Values{"grant_type": {"client_credentials"}, "client_id": {id}, "client_secret": {secret}},
			map[string]string{"X-Forwarded-For": from})
	}
	const producer = "198.51.100.7"
	if r := try("acme", "acme-secret", producer); r.Status != 200 {
		t.Fatalf("producer: %d %s", r.Status, r.Raw)
	}
	for i := 1; i <= 5; i++ {
		if r := try("acme", "guess", "203.0.113."+strconv.Itoa(i)); r.Status != 401 {
			t.Fatalf("failure %d: %d %s", i, r.Status, r.Raw)
		}
	}
	r := try("acme", "guess", "203.0.113.6")
	if r.Status != 429 || r.Header.Get("Retry-After") != "12" ||
		!strings.Contains(r.ErrMessage(), `client_id "acme": the limit is auth.max_failures_per_client = 5 a minute, from any address; retry in 12 s`) {
		t.Fatalf("6th failure from a 6th address: %d Retry-After=%q %s", r.Status, r.Header.Get("Retry-After"), r.Raw)
	}
	// Locked: even the right secret from a new address (no oracle).
	if r := try("acme", "acme-secret", "203.0.113.50"); r.Status != 429 {
		t.Errorf("right secret while locked: %d", r.Status)
	}
	// The producer's own address still gets tokens; other clients and
	// unknown ids are not locked.
	if r := try("acme", "acme-secret", producer); r.Status != 200 {
		t.Errorf("producer during the attack: %d %s", r.Status, r.Raw)
	}
	if r := try("globex", "globex-secret", "203.0.113.51"); r.Status != 200 {
		t.Errorf("another client: %d", r.Status)
	}
	for i := range 8 {
		if r := try("nobody", "guess", "203.0.114."+strconv.Itoa(i)); r.Status != 401 {
			t.Fatalf("unknown id, try %d: %d", i+1, r.Status)
		}
	}
	// One failure's worth refills in 60/5 = 12 s.
	tg.Clock.Advance(12 * time.Second)
	if r := try("acme", "acme-secret", "203.0.113.50"); r.Status != 200 {
		t.Errorf("after the lock: %d %s", r.Status, r.Raw)
	}
	// A known address that fails loses its pass.
	if r := try("acme", "guess", producer); r.Status != 401 {
		t.Errorf("producer's failure: %d", r.Status)
	}
	if r := try("acme", "acme-secret", producer); r.Status != 429 {
		t.Errorf("producer after failing: %d, want 429", r.Status)
	}
}

// TestForwardedForTrustedProxiesOnly: the per-address limit of the token
// endpoint counts X-Forwarded-For only from a peer in
// server.trusted_proxies, and then its right-most untrusted hop (a client
// cannot pick its own address by prepending one).
func TestForwardedForTrustedProxiesOnly(t *testing.T) {
	remaining := func(tg *testGateway, xff string) string {
		r := tokenReq(tg, "", url.Values{}, map[string]string{"X-Forwarded-For": xff})
		return r.Header.Get(api.HeaderRateRemaining)
	}
	for _, c := range []struct {
		name    string
		trusted []string
		want    []string // remaining after requests from .1, .2, then .2 again
	}{
		{"no trusted proxies", nil, []string{"1", "0", "0"}},
		{"peer not a trusted proxy", []string{"10.0.0.0/8"}, []string{"1", "0", "0"}},
		{"peer is a trusted proxy", []string{"127.0.0.1", "10.0.0.0/8"}, []string{"1", "1", "0"}},
	} {
		cfg := gatewaytest.Config(t)
		cfg.API.RateLimit, cfg.API.RateBurst = 60, 2
		cfg.Server.TrustedProxies = c.trusted
		tg, _ := startLogged(t, cfg)
		var got []string
		for _, xff := range []string{"203.0.113.1", "203.0.113.2", "203.0.113.2"} {
			got = append(got, remaining(tg, xff))
		}
		if strings.Join(got, " ") != strings.Join(c.want, " ") {
			t.Errorf("%s: remaining %v, want %v", c.name, got, c.want)
		}
		if c.trusted == nil {
			continue
		}
		// Behind a trusted proxy: a hop prepended by the client and the
		// trusted proxies appended after the client change nothing.
		if c.name == "peer is a trusted proxy" {
			if got := remaining(tg, "203.0.113.99, 203.0.113.1, 10.1.2.3"); got != "0" {
				t.Errorf("forged left-most hop: remaining %s, want 0 (counted as 203.0.113.1)", got)
			}
		}
	}
}
