package servicenow

import (
	"bytes"
	"context"
	"crypto/tls"
	"errors"
	"fmt"
	"io"
	"net"
	"net/http"
	"net/url"
	"strconv"
	"strings"
	"time"

	"github.com/hookgate/hookgate/plugins/sdk"
	"github.com/hookgate/hookgate/plugins/sdk/netguard"
)

const userAgent = "hookgate-servicenow/1"

// newHTTPClient returns the one client (and connection pool) a configured
// sink uses: dials through the netguard policy, never through a proxy from
// the environment (a proxy would dial past the guard), never follows
// redirects (they would carry the Authorization header elsewhere).
func newHTTPClient(p netguard.Policy) *http.Client {
	d := p.Dialer()
	d.Timeout = 30 * time.Second // the request's ctx usually ends it sooner
	d.KeepAlive = 30 * time.Second
	return &http.Client{
		Transport: &http.Transport{
			Proxy:                 nil,
			DialContext:           d.DialContext,
			ForceAttemptHTTP2:     true,
			MaxIdleConnsPerHost:   32,
			IdleConnTimeout:       90 * time.Second,
			TLSHandshakeTimeout:   10 * time.Second,
			ResponseHeaderTimeout: 0, // bounded by the request's ctx
			TLSClientConfig:       &tls.Config{MinVersion: tls.VersionTLS12},
		},
		CheckRedirect: func(*http.Request, []*http.Request) error { return http.ErrUseLastResponse },
	}
}

// response is a read answer: at most sdk.MaxResponseBody of the body.
type response struct {
	status int
	header http.Header
	body   []byte
}

// send performs one HTTP exchange. The error is already a failed Result
// (transport failures are retryable, policy refusals final); it never
// includes the URL, whose query may hold values from the payload.
func send(ctx context.Context, hc *http.Client, method, u string, header http.Header, body []byte) (*response, *sdk.Result) {
	var rd io.Reader
	if body != nil {
		rd = bytes.NewReader(body)
	}
	req, err := http.NewRequestWithContext(ctx, method, u, rd)
	if err != nil {
		return nil, &sdk.Result{Error: "invalid request: " + unwrapURLError(err).Error()}
	}
	req.Header = header
	req.Header.Set("User-Agent", userAgent)
	resp, err := hc.Do(req)
	if err != nil {
		return nil, transportFailure(ctx, err)
	}
	defer resp.Body.Close()
	b, _ := io.ReadAll(io.LimitReader(resp.Body, sdk.MaxResponseBody))
	_, _ = io.CopyN(io.Discard, resp.Body, 256<<10) // let short remainders keep the connection
	return &response{status: resp.StatusCode, header: resp.Header, body: b}, nil
}

func transportFailure(ctx context.Context, err error) *sdk.Result {
	var ne net.Error
	var refused *netguard.RefusedError
	switch {
	case errors.As(err, &refused):
		return &sdk.Result{Error: refused.Error()}
	case errors.Is(ctx.Err(), context.DeadlineExceeded) || errors.Is(err, context.DeadlineExceeded) ||
		(errors.As(err, &ne) && ne.Timeout()):
		return &sdk.Result{Error: "timed out waiting for ServiceNow", Retryable: true}
	case errors.Is(err, context.Canceled):
		return &sdk.Result{Error: "canceled", Retryable: true}
	}
	return &sdk.Result{Error: "connection to ServiceNow failed: " + unwrapURLError(err).Error(), Retryable: true}
}

func unwrapURLError(err error) error {
	var ue *url.Error
	if errors.As(err, &ue) {
		return ue.Err
	}
	return err
}

// retryAfter parses Retry-After (delay-seconds or an HTTP-date); anything
// unparsable or in the past means no particular wait.
func retryAfter(v string, now time.Time) time.Duration {
	v = strings.TrimSpace(v)
	if v == "" {
		return 0
	}
	if secs, err := strconv.ParseInt(v, 10, 64); err == nil {
		if secs <= 0 {
			return 0
		}
		return time.Duration(min(secs, int64(24*time.Hour/time.Second))) * time.Second
	}
	if t, err := http.ParseTime(v); err == nil && t.After(now) {
		return t.Sub(now)
	}
	return 0
}

func statusText(code int) string {
	if t := http.StatusText(code); t != "" {
		return fmt.Sprintf("%d %s", code, t)
	}
	return strconv.Itoa(code)
}

// firstValues keeps the first value of each response header for the
// delivery log, minus Set-Cookie: a session cookie is a credential.
func firstValues(h http.Header) map[string]string {
	if len(h) == 0 {
		return nil
	}
	m := make(map[string]string, len(h))
	for k, vs := range h {
		if len(vs) > 0 && k != "Set-Cookie" {
			m[k] = vs[0]
		}
	}
	return m
}
