package sinkhttp

import (
	"context"
	"net/http"
	"net/http/httptest"
	"strings"
	"sync/atomic"
	"testing"
	"time"

	"github.com/hookgate/hookgate/plugins/sdk"
	"github.com/hookgate/hookgate/plugins/sdk/netguard"
)

func TestRetryAfter(t *testing.T) {
	now := time.Date(2026, 1, 2, 3, 4, 5, 0, time.UTC)
	cases := map[string]time.Duration{
		"":                              0,
		"120":                           120 * time.Second,
		" 5 ":                           5 * time.Second,
		"0":                             0,
		"-3":                            0,
		"soon":                          0,
		"Fri, 02 Jan 2026 03:05:05 GMT": time.Minute,
		"Fri, 02 Jan 2026 03:00:00 GMT": 0, // in the past
		"99999999999999999999":          0, // overflows int64: unparsable
	}
	for v, want := range cases {
		if got := RetryAfter(v, now); got != want {
			t.Errorf("RetryAfter(%q) = %v, want %v", v, got, want)
		}
	}
}

func TestResultClassifies(t *testing.T) {
	c := New(Options{})
	h := http.Header{"Retry-After": {"7"}, "Set-Cookie": {"JSESSIONID=s3cret"}, "X-Id": {"1"}}
	for _, tc := range []struct {
		status    int
		retryable bool
		err       string
	}{
		{200, false, ""}, {201, false, ""},
		{301, false, "HTTP 301 Moved Permanently: d"},
		{400, false, "HTTP 400 Bad Request: d"}, {403, false, "HTTP 403 Forbidden: d"},
		{408, true, "HTTP 408 Request Timeout: d"}, {429, true, "HTTP 429 Too Many Requests: d"},
		{500, true, "HTTP 500 Internal Server Error: d"}, {599, true, "HTTP 599: d"},
	} {
		res := c.Result(&Response{Status: tc.status, Header: h}, "d")
		if res.Retryable != tc.retryable || res.Error != tc.err || res.Status != tc.status {
			t.Errorf("%d: %+v", tc.status, res)
		}
		if tc.retryable != (res.RetryAfter == 7*time.Second) {
			t.Errorf("%d: RetryAfter %v", tc.status, res.RetryAfter)
		}
		if _, ok := res.Headers["Set-Cookie"]; ok || res.Headers["X-Id"] != "1" {
			t.Errorf("%d: headers %v", tc.status, res.Headers)
		}
	}
	if res := New(Options{KeepSetCookie: true}).Result(&Response{Status: 200, Header: h}, ""); res.Headers["Set-Cookie"] == "" {
		t.Errorf("KeepSetCookie: headers %v", res.Headers)
	}
}

// TestFailureWording: failures without an answer name the service when
// there is one, the timeout otherwise, and never the URL.
func TestFailureWording(t *testing.T) {
	stalled := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) { <-r.Context().Done() }))
	defer stalled.Close()
	loose := netguard.Policy{AllowHTTP: true, AllowPrivateNetworks: true}
	for _, tc := range []struct {
		opts             Options
		refused, timeout string
	}{
		{Options{Policy: loose, Service: "Acme"}, "connection to Acme failed: ", "timed out waiting for Acme"},
		{Options{Policy: loose}, "connection failed: ", "timed out after 50ms"},
	} {
		c := New(tc.opts)
		_, res := c.Do(context.Background(), &Request{Method: "POST", URL: "http://127.0.0.1:1/x?token=s3cret"})
		if res == nil || !res.Retryable || !strings.HasPrefix(res.Error, tc.refused) || strings.Contains(res.Error, "s3cret") {
			t.Errorf("%+v", res)
		}
		res = Attempt(context.Background(), 50*time.Millisecond, func(ctx context.Context) *sdk.Result {
			_, res := c.Do(ctx, &Request{Method: "GET", URL: stalled.URL, Timeout: 50 * time.Millisecond})
			return res
		})
		if res == nil || !res.Retryable || res.Error != tc.timeout || res.Duration < 50*time.Millisecond {
			t.Errorf("%+v", res)
		}
	}
	_, res := New(Options{}).Do(context.Background(), &Request{Method: "GET", URL: "http://127.0.0.1:1/"})
	if res == nil || res.Retryable || !strings.Contains(res.Error, "refused") {
		t.Errorf("the default policy let plain http to loopback through: %+v", res)
	}
}

func TestRequestToken(t *testing.T) {
	var status atomic.Int32
	srv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		_ = r.ParseForm()
		w.Header().Set("Retry-After", "9")
		switch status.Load() {
		case 0:
			_, _ = w.Write([]byte(`{"access_token":"tok","expires_in":120,"instance_url":"https://x"}`))
		case 200:
			_, _ = w.Write([]byte(`{}`))
		default:
			w.WriteHeader(int(status.Load()))
			_, _ = w.Write([]byte(`{"error":"invalid_client","error_description":"bad client ` + r.PostForm.Get("client_secret") + `"}`))
		}
	}))
	defer srv.Close()
	c := New(Options{Policy: netguard.Policy{AllowHTTP: true, AllowPrivateNetworks: true}})
	form := map[string][]string{"grant_type": {"client_credentials"}, "client_secret": {"sec"}}
	tok, res := c.RequestToken(context.Background(), srv.URL, form, "check the client")
	if res != nil || tok.AccessToken != "tok" || tok.ExpiresIn != 2*time.Minute || !strings.Contains(string(tok.Body), "instance_url") {
		t.Fatalf("%+v %+v", tok, res)
	}
	status.Store(401)
	if _, res := c.RequestToken(context.Background(), srv.URL, form, "check the client"); res == nil || res.Retryable ||
		res.Error != "oauth token request: HTTP 401 Unauthorized: invalid_client: bad client sec (check the client)" || res.Body != nil {
		t.Fatalf("%+v", res)
	}
	status.Store(503)
	if _, res := c.RequestToken(context.Background(), srv.URL, form, "check the client"); res == nil || !res.Retryable || res.RetryAfter != 9*time.Second {
		t.Fatalf("%+v", res)
	}
	status.Store(200)
	if _, res := c.RequestToken(context.Background(), srv.URL, form, ""); res == nil || res.Error != "oauth token request: HTTP 200 OK: no access_token in the answer" {
		t.Fatalf("%+v", res)
	}
}

func TestTokenCache(t *testing.T) {
	now := time.Date(2026, 1, 1, 0, 0, 0, 0, time.UTC)
	var fetched int
	c := NewTokenCache(func() time.Time { return now }, func(context.Context) (int, time.Duration, *sdk.Result) {
		fetched++
		return fetched, time.Minute, nil
	})
	get := func() int {
		v, res := c.Get(context.Background())
		if res != nil {
			t.Fatal(res)
		}
		return v
	}
	if get() != 1 || get() != 1 {
		t.Fatal("not cached")
	}
	now = now.Add(30 * time.Second) // a minute's lifetime is renewed 30 s early
	if get() != 2 {
		t.Fatal("not renewed before it lapses")
	}
	c.Invalidate(1) // an older refusal does not drop the newer credential
	if get() != 2 {
		t.Fatal("dropped the wrong credential")
	}
	c.Invalidate(2)
	if get() != 3 {
		t.Fatal("not fetched after a refusal")
	}
}

// TestDoLikeHTTPClient: calling the Transport directly keeps what
// http.Client.Do did for this client: Basic auth from the URL's userinfo,
// a 3xx reported as it is, bodies of any announced length read whole.
func TestDoLikeHTTPClient(t *testing.T) {
	body := strings.Repeat("b", 1000)
	srv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		switch r.URL.Path {
		case "/auth":
			u, p, ok := r.BasicAuth()
			if !ok || u != "user" || p != "pw" {
				w.WriteHeader(http.StatusUnauthorized)
			}
		case "/moved":
			http.Redirect(w, r, "/elsewhere", http.StatusFound)
		case "/chunked":
			w.(http.Flusher).Flush() // no Content-Length
			_, _ = w.Write([]byte(body))
		default:
			_, _ = w.Write([]byte(body))
		}
	}))
	defer srv.Close()
	c := New(Options{Policy: netguard.Policy{AllowHTTP: true, AllowPrivateNetworks: true}})
	do := func(url string) *Response {
		t.Helper()
		resp, res := c.Do(context.Background(), &Request{Method: "GET", URL: url, Timeout: 5 * time.Second})
		if res != nil {
			t.Fatalf("%s: %+v", url, res)
		}
		return resp
	}
	if r := do(strings.Replace(srv.URL, "http://", "http://user:pw@", 1) + "/auth"); r.Status != 200 {
		t.Errorf("userinfo: status %d, want 200", r.Status)
	}
	if r := do(srv.URL + "/moved"); r.Status != 302 || r.Header.Get("Location") != "/elsewhere" {
		t.Errorf("redirect: status %d, Location %q", r.Status, r.Header.Get("Location"))
	}
	for _, path := range []string{"/", "/chunked"} {
		if r := do(srv.URL + path); string(r.Body) != body {
			t.Errorf("%s: %d body bytes, want %d", path, len(r.Body), len(body))
		}
	}
	// Refused by the policy: the error is the guard's, not wrapped.
	strict := New(Options{Policy: netguard.Policy{AllowHTTP: true}})
	_, res := strict.Do(context.Background(), &Request{Method: "GET", URL: srv.URL + "/", Timeout: 5 * time.Second})
	if res == nil || res.Retryable || !strings.HasPrefix(res.Error, "refused") {
		t.Errorf("refused: %+v", res)
	}
}

// TestResponseSizeBeyondKeptBody: an answer larger than sdk.MaxResponseBody
// keeps its first 64 KiB and reports its whole size, announced or counted,
// so the delivery log can say it was truncated.
func TestResponseSizeBeyondKeptBody(t *testing.T) {
	const n = 200_000
	srv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		if r.URL.Path == "/chunked" {
			w.(http.Flusher).Flush() // no Content-Length
		}
		_, _ = w.Write([]byte(strings.Repeat("r", n)))
	}))
	defer srv.Close()
	c := New(Options{Policy: netguard.Policy{AllowHTTP: true, AllowPrivateNetworks: true}})
	for _, path := range []string{"/", "/chunked", "/short"} {
		resp, res := c.Do(context.Background(), &Request{Method: "GET", URL: srv.URL + path, Timeout: 5 * time.Second})
		if res != nil {
			t.Fatalf("%s: %+v", path, res)
		}
		r := c.Result(resp, "")
		if len(r.Body) != sdk.MaxResponseBody || r.BodySize != n {
			t.Errorf("%s: kept %d bytes, size %d; want %d of %d", path, len(r.Body), r.BodySize, sdk.MaxResponseBody, n)
		}
	}
}
