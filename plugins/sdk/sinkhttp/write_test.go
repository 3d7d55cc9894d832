package sinkhttp

import (
	"bufio"
	"bytes"
	"net/http"
	"net/url"
	"strings"
	"testing"
)

// TestWriteMatchesNetHTTP: the request the transport writes itself is,
// byte for byte, what http.NewRequest and Request.Write (with the Client's
// User-Agent and a URL's userinfo applied as before) put on the wire, and
// it refuses the same requests with the same errors.
func TestWriteMatchesNetHTTP(t *testing.T) {
	cases := []struct {
		name, method, url, ua string
		h                     http.Header
		body                  []byte
	}{
		{"webhook", "POST", "http://example.com:8080/hook?token=t&x=%20y", "hookgate-webhooks/1",
			http.Header{"Content-Type": {"application/json"}, "X-Fn-Signature": {"abc"}, "webhook-id": {"msg_1"}, "X-MiXeD": {"a", "b"}},
			[]byte(`{"a":1}`)},
		{"no body POST", "POST", "http://example.com/", "", nil, nil},
		{"empty body PUT", "PUT", "http://example.com", "ua", http.Header{}, []byte{}},
		{"empty body PATCH", "PATCH", "http://example.com/p", "", nil, []byte{}},
		{"GET", "", "http://example.com/a/b?c", "", http.Header{"Accept": {"*/*"}}, nil},
		{"DELETE no body", "DELETE", "http://example.com/r/1", "ua", nil, nil},
		{"HEAD", "HEAD", "https://example.com/", "", nil, nil},
		{"values trimmed", "POST", "http://example.com/", "", http.Header{"X-A": {"  padded\t"}, "X-Empty": {""}, "X-None": {}}, []byte("x")},
		{"excluded headers", "POST", "http://example.com/", "ua", http.Header{"Host": {"evil.example"}, "Content-Length": {"99"},
			"Transfer-Encoding": {"chunked"}, "Trailer": {"X"}, "X-Ok": {"1"}}, []byte("body")},
		{"caller's User-Agent", "POST", "http://example.com/", "ua", http.Header{"User-Agent": {"mine/2"}}, []byte("x")},
		{"empty User-Agent, Client's", "POST", "http://example.com/", "ua", http.Header{"User-Agent": {""}}, []byte("x")},
		{"empty User-Agent, none", "POST", "http://example.com/", "", http.Header{"User-Agent": {""}}, []byte("x")},
		{"lowercase user-agent", "POST", "http://example.com/", "ua", http.Header{"user-agent": {"low"}}, []byte("x")},
		{"userinfo", "POST", "http://bob:s3cret@example.com/", "", http.Header{"X-B": {"1"}}, []byte("x")},
		{"userinfo and Authorization", "POST", "http://bob:s3cret@example.com/", "", http.Header{"Authorization": {"Bearer t"}}, []byte("x")},
		{"IPv6 zone", "POST", "http://[fe80::1%25eth0]:8080/", "", nil, []byte("x")},
		{"IDN host", "POST", "http://bücher.example/", "", nil, []byte("x")},
		{"empty port", "POST", "http://example.com:/p", "", nil, []byte("x")},
		{"opaque", "POST", "http:opaque-thing", "", nil, []byte("x")},
		{"connection close", "POST", "http://example.com/", "", http.Header{"Connection": {"close"}}, []byte("x")},
		{"bad method", "PO ST", "http://example.com/", "", nil, nil},
		{"bad URL", "POST", "http://exa mple.com/\x7f", "", nil, nil},
		{"bad header name", "POST", "http://example.com/", "", http.Header{"X Bad": {"1"}}, nil},
		{"CR LF in value", "POST", "http://example.com/", "", http.Header{"X-Bad": {"a\r\nX-Injected: 1"}}, nil},
		{"CR LF in User-Agent option", "POST", "http://example.com/", "ua\r\nX-Injected: 1", nil, []byte("x")},
	}
	for _, c := range cases {
		t.Run(c.name, func(t *testing.T) {
			want, wantErr := netHTTPWire(c.method, c.url, c.h.Clone(), c.body, c.ua)
			before := c.h.Clone()
			var got []byte
			o, gotErr := newOutgoing(c.method, newTarget(c.url), c.h, c.body, c.ua)
			if gotErr == nil && o.wireErr != nil {
				gotErr = o.wireErr
			}
			if gotErr == nil {
				var buf bytes.Buffer
				bw := bufio.NewWriter(&buf)
				if _, err := o.write(bw, nil); err != nil {
					t.Fatal(err)
				}
				_ = bw.Flush()
				got = buf.Bytes()
			}
			if (gotErr == nil) != (wantErr == nil) || (gotErr != nil && StripURL(gotErr).Error() != StripURL(wantErr).Error()) {
				t.Fatalf("error %v, net/http's %v", gotErr, wantErr)
			}
			if !bytes.Equal(got, want) {
				t.Fatalf("wire:\n%q\nnet/http:\n%q", got, want)
			}
			if !headersEqual(c.h, before) {
				t.Fatalf("the caller's header changed: %v, was %v", c.h, before)
			}
		})
	}
}

// netHTTPWire is what the transport sent before it wrote requests itself.
func netHTTPWire(method, url string, h http.Header, body []byte, ua string) ([]byte, error) {
	var rd *bytes.Reader
	if body != nil {
		rd = bytes.NewReader(body)
	}
	var req *http.Request
	var err error
	if rd != nil {
		req, err = http.NewRequest(method, url, rd)
	} else {
		req, err = http.NewRequest(method, url, nil)
	}
	if err != nil {
		return nil, err
	}
	if h != nil {
		req.Header = h
	}
	if err := validHeader(req.Header); err != nil {
		return nil, err
	}
	if ua != "" && req.Header.Get("User-Agent") == "" {
		req.Header.Set("User-Agent", ua)
	}
	if u := req.URL.User; u != nil && req.Header.Get("Authorization") == "" {
		password, _ := u.Password()
		req.SetBasicAuth(u.Username(), password)
	}
	var buf bytes.Buffer
	if err := req.Write(&buf); err != nil {
		return nil, err
	}
	return buf.Bytes(), nil
}

func headersEqual(a, b http.Header) bool {
	if len(a) != len(b) {
		return false
	}
	for k, v := range a {
		if strings.Join(v, "\x00") != strings.Join(b[k], "\x00") || (b[k] == nil) != (v == nil) {
			return false
		}
	}
	return true
}

// TestParseURL: the memo gives url.Parse's result and error, and a URL the
// caller changes does not change what the next delivery gets.
func TestParseURL(t *testing.T) {
	c := New(Options{})
	raw := "https://user@example.com:/p?q=1"
	u, err := c.ParseURL(raw)
	want, _ := url.Parse(raw)
	if err != nil || u.String() != want.String() || u.Host != want.Host {
		t.Fatalf("ParseURL = %v, %v; url.Parse: %v", u, err, want)
	}
	u.Host, u.Path = "evil.example", "/x"
	if again, _ := c.ParseURL(raw); again.String() != want.String() {
		t.Fatalf("the second ParseURL saw the first caller's change: %v", again)
	}
	_, err = c.ParseURL("http://exa mple.com/")
	_, wantErr := url.Parse("http://exa mple.com/")
	if err == nil || err.Error() != wantErr.Error() {
		t.Fatalf("error %v, url.Parse's %v", err, wantErr)
	}
}
