package dashboard

import (
	"bytes"
	"encoding/base64"
	"encoding/json"
	"fmt"
	"net/http"
	"net/http/httptest"
	"net/url"
	"os"
	"path"
	"regexp"
	"strings"
	"testing"
	"time"
)

var now = time.Date(2026, 1, 20, 14, 0, 0, 0, time.UTC)

// fakeJWT is a token with the claims the dashboard reads; the signature is
// the API's business, which the fake API stands for.
func fakeJWT(exp time.Time) string {
	enc := base64.RawURLEncoding.EncodeToString
	claims, _ := json.Marshal(map[string]any{"client_id": "acme", "user_id": 1068, "company_id": 100,
		"scope": "webhooks:read webhooks:write", "exp": exp.Unix()})
	return enc([]byte(`{"alg":"HS256","typ":"JWT"}`)) + "." + enc(claims) + ".c2ln"
}

// fakeAPI answers the few API calls these tests make. A token ending in
// "revoked" is refused with 401, as the API does for a token it no longer
// accepts. It records the calls.
type fakeAPI struct {
	calls []string
	bodys []string
	xff   []string // X-Forwarded-For of each call
}

func (f *fakeAPI) ServeHTTP(w http.ResponseWriter, r *http.Request) {
	f.calls = append(f.calls, r.Method+" "+r.URL.Path)
	f.xff = append(f.xff, strings.Join(r.Header.Values("X-Forwarded-For"), " | "))
	var b bytes.Buffer
	_, _ = b.ReadFrom(r.Body)
	f.bodys = append(f.bodys, b.String())
	w.Header().Set("Content-Type", "application/json")
	if r.URL.Path == "/authentication/api/oauth/token" {
		form, _ := url.ParseQuery(b.String())
		if form.Get("client_secret") != "acme-secret" {
			w.WriteHeader(http.StatusUnauthorized)
			_, _ = w.Write([]byte(`{"error":"invalid_client"}`))
			return
		}
		_, _ = fmt.Fprintf(w, `{"access_token":%q,"token_type":"Bearer","expires_in":3600}`, fakeJWT(now.Add(time.Hour)))
		return
	}
	if strings.HasSuffix(r.Header.Get("Authorization"), "revoked") || !strings.HasPrefix(r.Header.Get("Authorization"), "Bearer ") {
		w.WriteHeader(http.StatusUnauthorized)
		_, _ = w.Write([]byte(`{"metadata":{},"errors":[{"code":401,"message":"token expired"}],"result":{}}`))
		return
	}
	switch r.URL.Path {
	case "/api/v1/sinks":
		_, _ = w.Write([]byte(`{"metadata":{"total":2},"result":[{"name":"http","type":"http"},{"name":"snow-b","type":"servicenow"}]}`))
	case "/api/v1/webhooks/events":
		_, _ = w.Write([]byte(`{"metadata":{"total":1},"result":[{"name":"workorder.created","label":"Created","description":"","model":"WorkOrder"}]}`))
	case "/api/v1/webhooks":
		if r.Method == http.MethodPost {
			w.WriteHeader(http.StatusBadRequest)
			_, _ = w.Write([]byte(`{"metadata":{},"errors":[{"code":400,"message":"Invalid request: 'url' must be https"}],"result":{}}`))
			return
		}
		_, _ = w.Write([]byte(`{"metadata":{"total":0,"count":0},"result":[]}`))
	case "/api/v1/webhooks/wh-secret", "/api/v1/webhooks/wh-nosecret":
		// The API shows the secret only when fields names it (and to a writer).
		secret := ""
		if strings.Contains(r.URL.Query().Get("fields"), "secret") && strings.HasSuffix(r.URL.Path, "/wh-secret") {
			secret = `,"secret":"5c1e0a4e-8d7b-4f43-9a51-2f0f1d9b7c11"`
		}
		_, _ = fmt.Fprintf(w, `{"metadata":{"total":1,"count":1},"result":{"webhookId":%q,"url":"https://erp.example.com/in"%s}}`, path.Base(r.URL.Path), secret)
	case "/api/v1/webhooks/delivery-logs":
		_, _ = w.Write([]byte(`{"metadata":{"total":0,"count":0},"result":[]}`))
	case "/api/v1/webhooks/wh-ordered":
		_, _ = w.Write([]byte(`{"metadata":{"total":1,"count":1},"result":{"webhookId":"wh-ordered","url":"https://erp.example.com/in",` +
			`"status":"active","ordering":"work_order","orderingOnDead":"hold"}}`))
	case "/api/v1/webhooks/wh-ordered/lanes":
		_, _ = w.Write([]byte(`{"metadata":{"total":1,"count":1},"result":{"webhookId":"wh-ordered","ordering":"work_order",` +
			`"orderingOnDead":"hold","heldLanes":[{"workOrderId":4242,"deliveryUuid":"d-dead","sequence":3,` +
			`"deadReason":"final failure: HTTP 404 Not Found","deadAt":"2026-01-20T13:00:00Z","waiting":5}]}}`))
	case "/api/v1/webhooks/wh-ordered/lanes/4242/release":
		_, _ = w.Write([]byte(`{"metadata":{"total":1,"count":1},"result":{"workOrderId":4242,"deliveryUuid":"d-dead","released":true}}`))
	default:
		w.WriteHeader(http.StatusNotFound)
		_, _ = w.Write([]byte(`{"metadata":{},"errors":[{"code":404,"message":"Webhook not found"}],"result":{}}`))
	}
}

// TestShowSecret: a writer's POST shows the webhook's secret (the way to
// read one generated for an HCL webhook), asked of the API with
// fields=secret, never cached; when the API shows none, the page says why.
func TestShowSecret(t *testing.T) {
	d, api := newTestDashboard(false)
	tok := &http.Cookie{Name: tokenCookie, Value: fakeJWT(now.Add(time.Hour))}
	c, _ := csrfPair(d, "")
	csrf := csrfOfPage(t, serve(d, browserReq("GET", "/ui/webhooks", nil, tok, c)))
	w := serve(d, browserReq("POST", "/ui/webhooks/wh-secret/secret/show", url.Values{"csrf": {csrf}}, tok, c))
	if w.Code != http.StatusOK || !strings.Contains(w.Body.String(), "5c1e0a4e-8d7b-4f43-9a51-2f0f1d9b7c11") {
		t.Fatalf("show secret: %d, secret not on the page", w.Code)
	}
	if cc := w.Header().Get("Cache-Control"); cc != "no-store" {
		t.Errorf("Cache-Control %q, want no-store", cc)
	}
	if last := api.calls[len(api.calls)-1]; last != "GET /api/v1/webhooks/wh-secret" {
		t.Errorf("last API call %q", last)
	}
	w = serve(d, browserReq("POST", "/ui/webhooks/wh-nosecret/secret/show", url.Values{"csrf": {csrf}}, tok, c))
	if w.Code != http.StatusSeeOther || strings.Contains(w.Body.String(), "5c1e0a4e") {
		t.Fatalf("without a secret from the API: %d", w.Code)
	}
	if f := cookieOf(w, "hookgate_flash"); f == nil || !strings.Contains(flashText(f), "webhooks:write") {
		t.Errorf("flash %v does not say the scope it needs", f)
	}
	if w := serve(d, browserReq("GET", "/ui/webhooks/wh-secret/secret/show", nil, tok, c)); w.Code == http.StatusOK {
		t.Errorf("a GET showed the secret")
	}
}

// flashText is the message a flash cookie carries.
func flashText(c *http.Cookie) string {
	b, _ := base64.RawURLEncoding.DecodeString(c.Value)
	return string(b)
}

func newTestDashboard(secure bool) (*Dashboard, *fakeAPI) {
	api := &fakeAPI{}
	return New(Options{API: api, Secure: secure, Now: func() time.Time { return now }, CSRFKey: []byte("k"),
		PublicURL: "https://hooks.example.com"}), api
}

// browserReq builds a request carrying the given cookies.
func browserReq(method, target string, form url.Values, cookies ...*http.Cookie) *http.Request {
	var r *http.Request
	if form != nil {
		r = httptest.NewRequest(method, target, strings.NewReader(form.Encode()))
		r.Header.Set("Content-Type", "application/x-www-form-urlencoded")
	} else {
		r = httptest.NewRequest(method, target, nil)
	}
	for _, c := range cookies {
		r.AddCookie(c)
	}
	return r
}

func serve(d *Dashboard, r *http.Request) *httptest.ResponseRecorder {
	w := httptest.NewRecorder()
	d.ServeHTTP(w, r)
	return w
}

func cookieOf(w *httptest.ResponseRecorder, name string) *http.Cookie {
	for _, c := range w.Result().Cookies() {
		if c.Name == name {
			return c
		}
	}
	return nil
}

// csrfPair is a CSRF cookie and its form token in session (the token
// cookie's value, "" for the sign-in form).
func csrfPair(d *Dashboard, session string) (*http.Cookie, string) {
	secret := strings.Repeat("ab", 16)
	return &http.Cookie{Name: csrfCookie, Value: secret}, d.csrfToken(secret, session)
}

func TestSignInSetsStrictHttpOnlyCookie(t *testing.T) {
	for _, secure := range []bool{false, true} {
		d, _ := newTestDashboard(secure)
		c, tok := csrfPair(d, "")
		w := serve(d, browserReq("POST", "/ui/login", url.Values{"csrf": {tok}, "client_id": {"acme"}, "client_secret": {"acme-secret"}, "next": {"/ui/logs?webhookId=x"}}, c))
		if w.Code != http.StatusSeeOther || w.Header().Get("Location") != "/ui/logs?webhookId=x" {
			t.Fatalf("sign in: %d to %q", w.Code, w.Header().Get("Location"))
		}
		tc := cookieOf(w, tokenCookie)
		if tc == nil || !tc.HttpOnly || tc.SameSite != http.SameSiteStrictMode || tc.Secure != secure || tc.Path != "/ui" || tc.MaxAge != 3600 {
			t.Fatalf("secure=%v: token cookie %+v", secure, tc)
		}
		if tc.Value != fakeJWT(now.Add(time.Hour)) {
			t.Error("the cookie does not hold the API's token")
		}
	}
}

// TestAPICallsCarryForwardedFor: the dashboard's in-process API calls
// carry the browser request's X-Forwarded-For (and its peer address), so
// behind a trusted proxy the API counts sign-ins by the user's address.
func TestAPICallsCarryForwardedFor(t *testing.T) {
	d, api := newTestDashboard(false)
	c, tok := csrfPair(d, "")
	r := browserReq("POST", "/ui/login", url.Values{"csrf": {tok}, "client_id": {"acme"}, "client_secret": {"acme-secret"}}, c)
	r.Header.Add("X-Forwarded-For", "198.51.100.1")
	r.Header.Add("X-Forwarded-For", "203.0.113.5, 10.0.0.7")
	if w := serve(d, r); w.Code != http.StatusSeeOther {
		t.Fatalf("sign in: %d", w.Code)
	}
	if len(api.xff) != 1 || api.xff[0] != "198.51.100.1 | 203.0.113.5, 10.0.0.7" {
		t.Errorf("X-Forwarded-For seen by the API: %q", api.xff)
	}
}

func TestSignInRefusals(t *testing.T) {
	d, _ := newTestDashboard(false)
	c, tok := csrfPair(d, "")
	// A wrong secret: the form again with a message, and no token.
	w := serve(d, browserReq("POST", "/ui/login", url.Values{"csrf": {tok}, "client_id": {"acme"}, "client_secret": {"nope"}}, c))
	if w.Code != http.StatusUnauthorized || cookieOf(w, tokenCookie) != nil || !strings.Contains(w.Body.String(), "not right") {
		t.Fatalf("wrong secret: %d %v", w.Code, cookieOf(w, tokenCookie))
	}
	// No CSRF token (login CSRF): refused before the API is asked.
	d2, api := newTestDashboard(false)
	w = serve(d2, browserReq("POST", "/ui/login", url.Values{"client_id": {"acme"}, "client_secret": {"acme-secret"}}, c))
	if w.Code != http.StatusForbidden || cookieOf(w, tokenCookie) != nil || len(api.calls) != 0 {
		t.Fatalf("sign-in without CSRF: %d, calls %v", w.Code, api.calls)
	}
	// next cannot leave the dashboard.
	for _, next := range []string{"//evil.example/x", "https://evil.example/", "/ui\\..\\x", "/api/v1/webhooks"} {
		w = serve(d, browserReq("POST", "/ui/login", url.Values{"csrf": {tok}, "client_id": {"acme"}, "client_secret": {"acme-secret"}, "next": {next}}, c))
		if loc := w.Header().Get("Location"); loc != "/ui/webhooks" {
			t.Errorf("next %q redirected to %q", next, loc)
		}
	}
}

func TestCSRFRefusal(t *testing.T) {
	d, api := newTestDashboard(false)
	token := &http.Cookie{Name: tokenCookie, Value: fakeJWT(now.Add(time.Hour))}
	c, tok := csrfPair(d, token.Value)
	form := url.Values{"url": {"http://x"}, "method": {"post"}, "events": {"workorder.created"}}
	cases := []struct {
		name    string
		cookies []*http.Cookie
		token   string
	}{
		{"no token", []*http.Cookie{token, c}, ""},
		{"no cookie", []*http.Cookie{token}, tok},
		{"token of another cookie", []*http.Cookie{token, {Name: csrfCookie, Value: strings.Repeat("cd", 16)}}, tok},
		{"forged", []*http.Cookie{token, c}, strings.Repeat("0", 64)},
	}
	for _, tc := range cases {
		f := url.Values{}
		for k, v := range form {
			f[k] = v
		}
		if tc.token != "" {
			f.Set("csrf", tc.token)
		}
		w := serve(d, browserReq("POST", "/ui/webhooks", f, tc.cookies...))
		if w.Code != http.StatusForbidden || !strings.Contains(w.Body.String(), "CSRF") {
			t.Errorf("%s: %d", tc.name, w.Code)
		}
	}
	for _, call := range api.calls {
		if strings.HasPrefix(call, "POST") {
			t.Errorf("a refused form reached the API: %v", api.calls)
		}
	}
	// With the right token the form reaches the API (which refuses the URL).
	form.Set("csrf", tok)
	w := serve(d, browserReq("POST", "/ui/webhooks", form, token, c))
	if w.Code != http.StatusUnprocessableEntity || !strings.Contains(w.Body.String(), "must be https") {
		t.Fatalf("valid form: %d %s", w.Code, w.Body.String())
	}
	// The header works for script calls.
	r := httptest.NewRequest("POST", "/ui/preview", strings.NewReader(`{}`))
	r.AddCookie(token)
	r.AddCookie(c)
	r.Header.Set(csrfHeader, "bad")
	if w := serve(d, r); w.Code != http.StatusForbidden {
		t.Errorf("preview with a bad CSRF header: %d", w.Code)
	}
}

// csrfOfPage reads the CSRF token a page hands its scripts (data-csrf).
func csrfOfPage(t *testing.T, w *httptest.ResponseRecorder) string {
	t.Helper()
	m := regexp.MustCompile(`data-csrf="([0-9a-f]{64})"`).FindStringSubmatch(w.Body.String())
	if w.Code != http.StatusOK || m == nil {
		t.Fatalf("page %d without a CSRF token", w.Code)
	}
	return m[1]
}

// TestCSRFBoundToSession: the CSRF token is bound to the session (the token
// cookie), not only to the CSRF cookie. With one CSRF cookie shared by two
// sessions (planted by a sibling subdomain, or left by the previous user of
// the browser), the token of session A is refused with session B's cookie,
// and the sign-in form's token (bound to the pre-session cookie alone) is
// refused for a signed-in form.
func TestCSRFBoundToSession(t *testing.T) {
	d, api := newTestDashboard(false)
	c, loginTok := csrfPair(d, "")
	a := &http.Cookie{Name: tokenCookie, Value: fakeJWT(now.Add(time.Hour))}
	b := &http.Cookie{Name: tokenCookie, Value: fakeJWT(now.Add(2 * time.Hour))}
	tokA := csrfOfPage(t, serve(d, browserReq("GET", "/ui/webhooks", nil, a, c)))
	tokB := csrfOfPage(t, serve(d, browserReq("GET", "/ui/webhooks", nil, b, c)))
	if tokA == tokB {
		t.Fatal("two sessions with one CSRF cookie got the same token")
	}
	form := func(tok string) url.Values {
		return url.Values{"csrf": {tok}, "url": {"http://x"}, "method": {"post"}, "events": {"workorder.created"}}
	}
	for _, tc := range []struct {
		name   string
		cookie *http.Cookie
		token  string
	}{
		{"session A's token with session B's cookie", b, tokA},
		{"the sign-in form's token in a session", a, loginTok},
	} {
		if w := serve(d, browserReq("POST", "/ui/webhooks", form(tc.token), tc.cookie, c)); w.Code != http.StatusForbidden || !strings.Contains(w.Body.String(), "CSRF") {
			t.Errorf("%s: %d", tc.name, w.Code)
		}
	}
	if w := serve(d, browserReq("POST", "/ui/logout", url.Values{"csrf": {tokA}}, b, c)); w.Code != http.StatusForbidden || cookieOf(w, tokenCookie) != nil {
		t.Errorf("sign-out of B with A's token: %d", w.Code)
	}
	// A session token does not sign in either.
	if w := serve(d, browserReq("POST", "/ui/login", url.Values{"csrf": {tokA}, "client_id": {"acme"}, "client_secret": {"acme-secret"}}, c)); w.Code != http.StatusForbidden {
		t.Errorf("sign-in with a session's token: %d", w.Code)
	}
	for _, call := range api.calls {
		if strings.HasPrefix(call, "POST") {
			t.Fatalf("a refused form reached the API: %v", api.calls)
		}
	}
	// Each session's own token works.
	for _, s := range []struct {
		cookie *http.Cookie
		token  string
	}{{a, tokA}, {b, tokB}} {
		if w := serve(d, browserReq("POST", "/ui/webhooks", form(s.token), s.cookie, c)); w.Code != http.StatusUnprocessableEntity {
			t.Errorf("own token: %d %s", w.Code, w.Body.String())
		}
	}
}

// TestOriginCheck: a state-changing request a browser sends from another
// site is refused by its Origin (or Sec-Fetch-Site, or the Referer when it
// sends neither), even with a valid CSRF token; the dashboard's own origin
// (the request's Host, or server.public_url) and requests without any of
// these headers pass on to the CSRF check.
func TestOriginCheck(t *testing.T) {
	token := &http.Cookie{Name: tokenCookie, Value: fakeJWT(now.Add(time.Hour))}
	post := func(d *Dashboard, path string, form url.Values, hdr map[string]string, cookies ...*http.Cookie) *httptest.ResponseRecorder {
		r := browserReq("POST", path, form, cookies...)
		r.Host = "127.0.0.1:8080" // as a browser addressed it
		for k, v := range hdr {
			r.Header.Set(k, v)
		}
		return serve(d, r)
	}
	for _, tc := range []struct {
		name string
		hdr  map[string]string
		want int
	}{
		{"another site's Origin", map[string]string{"Origin": "https://evil.example"}, http.StatusForbidden},
		{"another port", map[string]string{"Origin": "http://127.0.0.1:9999"}, http.StatusForbidden},
		{"Origin null", map[string]string{"Origin": "null"}, http.StatusForbidden},
		{"cross-site fetch", map[string]string{"Sec-Fetch-Site": "cross-site"}, http.StatusForbidden},
		{"sibling subdomain", map[string]string{"Sec-Fetch-Site": "same-site", "Origin": "https://evil.hooks.example.com"}, http.StatusForbidden},
		{"another site's Referer", map[string]string{"Referer": "https://evil.example/page"}, http.StatusForbidden},
		{"own Host", map[string]string{"Origin": "http://127.0.0.1:8080"}, http.StatusUnprocessableEntity},
		{"server.public_url behind a proxy", map[string]string{"Origin": "https://hooks.example.com", "Sec-Fetch-Site": "cross-site"}, http.StatusUnprocessableEntity},
		{"same-origin fetch", map[string]string{"Sec-Fetch-Site": "same-origin"}, http.StatusUnprocessableEntity},
		{"own Referer", map[string]string{"Referer": "http://127.0.0.1:8080/ui/webhooks"}, http.StatusUnprocessableEntity},
		{"no browser headers", nil, http.StatusUnprocessableEntity},
	} {
		d, api := newTestDashboard(false)
		c, tok := csrfPair(d, token.Value)
		form := url.Values{"csrf": {tok}, "url": {"http://x"}, "method": {"post"}, "events": {"workorder.created"}}
		w := post(d, "/ui/webhooks", form, tc.hdr, token, c)
		if w.Code != tc.want {
			t.Errorf("%s: %d, want %d", tc.name, w.Code, tc.want)
		}
		if tc.want == http.StatusForbidden && (!strings.Contains(w.Body.String(), "came from another site") || len(api.calls) != 0) {
			t.Errorf("%s: the refusal does not say why, or the API was called: %v", tc.name, api.calls)
		}
	}
	// Sign-in and sign-out are state changes too (login CSRF).
	d, api := newTestDashboard(false)
	c, loginTok := csrfPair(d, "")
	evil := map[string]string{"Origin": "https://evil.example"}
	if w := post(d, "/ui/login", url.Values{"csrf": {loginTok}, "client_id": {"acme"}, "client_secret": {"acme-secret"}}, evil, c); w.Code != http.StatusForbidden || cookieOf(w, tokenCookie) != nil || len(api.calls) != 0 {
		t.Errorf("cross-site sign-in: %d, calls %v", w.Code, api.calls)
	}
	_, outTok := csrfPair(d, token.Value)
	if w := post(d, "/ui/logout", url.Values{"csrf": {outTok}}, evil, token, c); w.Code != http.StatusForbidden || cookieOf(w, tokenCookie) != nil {
		t.Errorf("cross-site sign-out: %d", w.Code)
	}
	// Reading is never refused: links from other sites must work.
	r := browserReq("GET", "/ui/webhooks", nil, token, c)
	r.Header.Set("Origin", "https://evil.example")
	r.Header.Set("Sec-Fetch-Site", "cross-site")
	if w := serve(d, r); w.Code != http.StatusOK {
		t.Errorf("cross-site GET: %d", w.Code)
	}
}

func TestSignOut(t *testing.T) {
	d, _ := newTestDashboard(true)
	token := &http.Cookie{Name: tokenCookie, Value: fakeJWT(now.Add(time.Hour))}
	c, tok := csrfPair(d, token.Value)
	if w := serve(d, browserReq("POST", "/ui/logout", url.Values{}, token, c)); w.Code != http.StatusForbidden || cookieOf(w, tokenCookie) != nil {
		t.Fatalf("sign-out without CSRF: %d", w.Code)
	}
	w := serve(d, browserReq("POST", "/ui/logout", url.Values{"csrf": {tok}}, token, c))
	gone := cookieOf(w, tokenCookie)
	if w.Code != http.StatusSeeOther || w.Header().Get("Location") != "/ui/login" || gone == nil || gone.MaxAge >= 0 || gone.Value != "" || !gone.Secure || !gone.HttpOnly {
		t.Fatalf("sign-out: %d %q cookie %+v", w.Code, w.Header().Get("Location"), gone)
	}
}

func TestExpiredTokenGoesToSignIn(t *testing.T) {
	d, api := newTestDashboard(false)
	for _, tc := range []struct{ name, token string }{
		{"expired by its exp", fakeJWT(now.Add(-time.Minute))},
		{"refused by the API", fakeJWT(now.Add(time.Hour)) + "revoked"},
		{"garbage", "not-a-jwt"},
	} {
		w := serve(d, browserReq("GET", "/ui/webhooks?status=active", nil, &http.Cookie{Name: tokenCookie, Value: tc.token}))
		loc, _ := url.Parse(w.Header().Get("Location"))
		if w.Code != http.StatusSeeOther || loc.Path != "/ui/login" || loc.Query().Get("next") != "/ui/webhooks?status=active" {
			t.Errorf("%s: %d to %v", tc.name, w.Code, loc)
		}
		if c := cookieOf(w, tokenCookie); c == nil || c.MaxAge >= 0 {
			t.Errorf("%s: the token cookie is not cleared: %+v", tc.name, c)
		}
	}
	// Without any cookie: to sign-in, not "expired".
	w := serve(d, browserReq("GET", "/ui/logs", nil))
	if loc := w.Header().Get("Location"); !strings.HasPrefix(loc, "/ui/login?next=") || strings.Contains(loc, "expired") {
		t.Errorf("no cookie: %q", loc)
	}
	// A script call gets 401 JSON, not a redirect it cannot follow.
	r := httptest.NewRequest("POST", "/ui/preview", strings.NewReader(`{}`))
	r.Header.Set(csrfHeader, "x")
	if w := serve(d, r); w.Code != http.StatusUnauthorized {
		t.Errorf("script call without a token: %d", w.Code)
	}
	for _, c := range api.calls {
		if strings.Contains(c, "expired") {
			t.Error(c)
		}
	}
}

func TestPagesHaveSecurityHeaders(t *testing.T) {
	d, _ := newTestDashboard(false)
	w := serve(d, browserReq("GET", "/ui/login", nil))
	if w.Code != 200 || !strings.Contains(w.Body.String(), `name="csrf"`) {
		t.Fatalf("login page: %d", w.Code)
	}
	for k, want := range map[string]string{"Cache-Control": "no-store", "X-Frame-Options": "DENY", "X-Content-Type-Options": "nosniff"} {
		if got := w.Header().Get(k); got != want {
			t.Errorf("%s = %q", k, got)
		}
	}
	if csp := w.Header().Get("Content-Security-Policy"); !strings.Contains(csp, "script-src 'self'") || !strings.Contains(csp, "frame-ancestors 'none'") {
		t.Errorf("CSP %q", csp)
	}
	if c := cookieOf(w, csrfCookie); c == nil || !c.HttpOnly || c.SameSite != http.SameSiteStrictMode {
		t.Errorf("CSRF cookie %+v", c)
	}
	if w := serve(d, browserReq("GET", "/ui/static/app.js", nil)); w.Code != 200 || !strings.Contains(w.Header().Get("Content-Type"), "javascript") {
		t.Errorf("app.js: %d %s", w.Code, w.Header().Get("Content-Type"))
	}
}

func TestHistorySides(t *testing.T) {
	h := historyEntry{Action: "events_updated", Changes: map[string]any{
		"events": map[string]any{"added": []any{"a"}, "removed": []any{"b"}},
		"url":    map[string]any{"from": "https://x", "to": "https://y"},
	}}
	prev, next := h.Sides()
	if prev["url"] != "https://x" || next["url"] != "https://y" || prev["events removed"] == nil || next["events added"] == nil {
		t.Errorf("sides %v | %v", prev, next)
	}
	del := historyEntry{Action: "webhook_deleted", Changes: map[string]any{"url": "https://x"}}
	if p, n := del.Sides(); p["url"] != "https://x" || len(n) != 0 {
		t.Errorf("delete sides %v | %v", p, n)
	}
	if (historyEntry{UserID: 0}).Who() != "system" {
		t.Error("user 0 is the system")
	}
}

func TestCSVCellsAreNotFormulas(t *testing.T) {
	for in, want := range map[string]string{"=cmd()": "'=cmd()", "+1": "'+1", "HTTP 500": "HTTP 500", "": ""} {
		if got := csvSafe(in); got != want {
			t.Errorf("csvSafe(%q) = %q", in, got)
		}
	}
}

// The editor's default sample is the spec's seed payload.
func TestSeedEnvelopeIsTheTransformsOne(t *testing.T) {
	want, err := os.ReadFile("../transforms/testdata/seed-envelope.json")
	if err != nil {
		t.Fatal(err)
	}
	if !bytes.Equal(seedEnvelope, want) {
		t.Error("dashboard/web/sample/seed-envelope.json differs from transforms/testdata/seed-envelope.json: copy it again")
	}
}

func TestPagerFollowsTheAPI(t *testing.T) {
	env := &envelope{Metadata: map[string]any{"page": 2.0, "perPage": 25.0, "total": 30.0}}
	p := pagerOf(env, 5)
	if p.From != 26 || p.To != 30 || !p.HasPrev || p.HasNext || p.Prev() != "1" {
		t.Errorf("pager %+v", p)
	}
	q := url.Values{}
	paging(url.Values{"page": {"3"}}, q)
	if q.Get("page") != "3" || q.Has("perPage") {
		t.Errorf("paging without perPage: %v (the API's default must apply)", q)
	}
}

// TestHeldLanesOnTheWebhookPage: an ordered webhook's page shows its
// ordering and its held lanes (work order, dead delivery, how many wait)
// with a release button that posts the API's release.
func TestHeldLanesOnTheWebhookPage(t *testing.T) {
	d, api := newTestDashboard(false)
	tok := &http.Cookie{Name: tokenCookie, Value: fakeJWT(now.Add(time.Hour))}
	c, _ := csrfPair(d, "")
	page := serve(d, browserReq("GET", "/ui/webhooks/wh-ordered", nil, tok, c))
	body := page.Body.String()
	if page.Code != http.StatusOK {
		t.Fatalf("webhook page: %d %s", page.Code, body)
	}
	for _, want := range []string{"by work order, one at a time", "a dead letter holds its work order", "id=\"held-lanes\"",
		"4242", "d-dead", "(#3)", "final failure: HTTP 404 Not Found", "<td>5</td>", "/ui/webhooks/wh-ordered/lanes/4242/release"} {
		if !strings.Contains(body, want) {
			t.Errorf("webhook page lacks %q", want)
		}
	}
	csrf := csrfOfPage(t, page)
	w := serve(d, browserReq("POST", "/ui/webhooks/wh-ordered/lanes/4242/release", url.Values{"csrf": {csrf}}, tok, c))
	if w.Code != http.StatusSeeOther {
		t.Fatalf("release: %d %s", w.Code, w.Body)
	}
	if last := api.calls[len(api.calls)-1]; last != "POST /api/v1/webhooks/wh-ordered/lanes/4242/release" {
		t.Errorf("last API call %q", last)
	}
	if f := cookieOf(w, "hookgate_flash"); f == nil || !strings.Contains(flashText(f), "4242") {
		t.Errorf("flash %v does not name the work order", f)
	}
}
