package sinkhttp

import (
	"fmt"
	"net/http"
	"slices"
	"strconv"
	"strings"
	"time"

	"github.com/hookgate/hookgate/plugins/sdk"
)

// Retryable reports whether an answer with this status is worth another
// attempt: 5xx (the remote is failing or overloaded), 408 and 429 (it asked
// us to come back). Every other status, redirects and 4xx included, is
// final: trying again would get the same answer.
func Retryable(status int) bool {
	return (status >= 500 && status < 600) || status == http.StatusRequestTimeout || status == http.StatusTooManyRequests
}

// Result turns an answer into a Result: its status, first header values
// (see Options.KeepSetCookie) and body. A status outside 2xx is a failure
// with the Error "HTTP <status>" or "HTTP <status>: <detail>" (detail is
// the service's own error text, when it has one); a Retryable status gets
// Retryable and the answer's Retry-After.
func (c *Client) Result(resp *Response, detail string) *sdk.Result {
	res := &sdk.Result{Status: resp.Status, Headers: c.headers(resp.Header), Body: resp.Body, BodySize: resp.Size}
	if resp.Status >= 200 && resp.Status < 300 {
		return res
	}
	res.Error = "HTTP " + StatusText(resp.Status)
	if detail != "" {
		res.Error += ": " + detail
	}
	if Retryable(resp.Status) {
		res.Retryable = true
		res.RetryAfter = c.RetryAfter(resp)
	}
	return res
}

// RetryAfter is the wait the answer's Retry-After header asks for, judged
// by the Client's clock (see the package function RetryAfter).
func (c *Client) RetryAfter(resp *Response) time.Duration {
	return RetryAfter(resp.Header.Get("Retry-After"), c.now())
}

// StatusText is "404 Not Found", or just the number for a status without a
// standard text.
func StatusText(code int) string {
	if t := http.StatusText(code); t != "" {
		return fmt.Sprintf("%d %s", code, t)
	}
	return strconv.Itoa(code)
}

// RetryAfter parses a Retry-After value: delay-seconds or an HTTP-date.
// Anything unparsable, or a date in the past, means no particular wait. It
// is not capped beyond what a time.Duration holds: the gateway bounds the
// wait with delivery.max_retry_after.
func RetryAfter(v string, now time.Time) time.Duration {
	v = strings.TrimSpace(v)
	if v == "" {
		return 0
	}
	if secs, err := strconv.ParseInt(v, 10, 64); err == nil {
		if secs <= 0 {
			return 0
		}
		const maxSecs = int64(1<<63-1) / int64(time.Second)
		return time.Duration(min(secs, maxSecs)) * time.Second
	}
	if t, err := http.ParseTime(v); err == nil && t.After(now) {
		return t.Sub(now)
	}
	return 0
}

// FirstValues keeps the first value of each header, the form a Result
// carries, leaving out the names in omit (canonical form).
func FirstValues(h http.Header, omit ...string) map[string]string {
	if len(h) == 0 {
		return nil
	}
	m := make(map[string]string, len(h))
	for k, vs := range h {
		if len(vs) > 0 && !slices.Contains(omit, k) {
			m[k] = vs[0]
		}
	}
	return m
}

func (c *Client) headers(h http.Header) map[string]string {
	if c.keepSetCookie {
		return FirstValues(h)
	}
	return FirstValues(h, "Set-Cookie")
}
