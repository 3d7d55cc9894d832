package httpsink

import (
	"fmt"
	"net/http"
	"strconv"
	"strings"
	"time"

	"github.com/hookgate/hookgate/plugins/sdk"
)

// classify turns a response into a Result: 2xx succeeds; 5xx, 408 and 429
// are retryable (429 and 503 with the receiver's Retry-After); every other
// status, redirects included, is final.
func classify(resp *http.Response, body []byte, now time.Time) *sdk.Result {
	res := &sdk.Result{
		Status:  resp.StatusCode,
		Headers: firstValues(resp.Header),
		Body:    body,
	}
	code := resp.StatusCode
	switch {
	case code >= 200 && code < 300:
		return res
	case code >= 300 && code < 400:
		res.Error = fmt.Sprintf("HTTP %s: redirect not followed", statusText(code))
		if loc := resp.Header.Get("Location"); loc != "" {
			res.Error += " (Location: " + loc + ")"
		}
	case code >= 500 && code < 600, code == http.StatusRequestTimeout, code == http.StatusTooManyRequests:
		res.Error = "HTTP " + statusText(code)
		res.Retryable = true
		if code == http.StatusTooManyRequests || code == http.StatusServiceUnavailable {
			res.RetryAfter = retryAfter(resp.Header.Get("Retry-After"), now)
		}
	default:
		res.Error = "HTTP " + statusText(code)
	}
	return res
}

func statusText(code int) string {
	if t := http.StatusText(code); t != "" {
		return fmt.Sprintf("%d %s", code, t)
	}
	return strconv.Itoa(code)
}

// retryAfter parses a Retry-After value: delay-seconds or an HTTP-date.
// Anything unparsable, or a date in the past, means no wait.
func retryAfter(v string, now time.Time) time.Duration {
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

func firstValues(h http.Header) map[string]string {
	if len(h) == 0 {
		return nil
	}
	m := make(map[string]string, len(h))
	for k, vs := range h {
		if len(vs) > 0 {
			m[k] = vs[0]
		}
	}
	return m
}
