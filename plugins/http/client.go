package httpsink

import (
	"context"
	"fmt"
	"net/http"
	"net/textproto"

	"golang.org/x/net/http/httpguts"

	"github.com/hookgate/hookgate/plugins/internal/memo"
	"github.com/hookgate/hookgate/plugins/sdk"
	"github.com/hookgate/hookgate/plugins/sdk/netguard"
	"github.com/hookgate/hookgate/plugins/sdk/sinkhttp"
)

const userAgent = "hookgate-webhooks/1"

// newClient returns the one client (and so the one connection pool) a
// configured sink shares across all deliveries.
func newClient(p netguard.Policy) *sinkhttp.Client {
	return sinkhttp.New(sinkhttp.Options{
		Policy:    p,
		UserAgent: userAgent,
		// The delivery log shows the receiver's answer as it came.
		KeepSetCookie: true,
		// The gateway runs up to 64 workers (more with several gateways'
		// worth of webhooks on one receiver), so keep enough idle
		// connections per host that a busy receiver is not re-dialled
		// constantly.
		MaxIdleConns:           1024,
		MaxIdleConnsPerHost:    128,
		MaxResponseHeaderBytes: 256 << 10,
	})
}

// canonicalKeys remembers the canonical form of header names: a
// webhook's names repeat on every delivery, and canonicalizing one that is
// not canonical yet ("X-FN-Signature") allocates.
var canonicalKeys = memo.Memo[string]{F: textproto.CanonicalMIMEHeaderKey, Max: 1024}

// send delivers req as it is: its method, URL, headers and body.
func send(ctx context.Context, c *sinkhttp.Client, req *sdk.Request) *sdk.Result {
	// What h.Set(k, v) does for each header, with one slice for all the
	// values instead of one each.
	h := make(http.Header, len(req.Headers))
	vals := make([]string, 0, len(req.Headers))
	for k, v := range req.Headers {
		vals = append(vals, v)
		h[canonicalKeys.Get(k)] = vals[len(vals)-1 : len(vals) : len(vals)]
	}
	resp, res := c.Do(ctx, &sinkhttp.Request{Method: req.Method, URL: req.URL, Header: h, Body: req.Body, Timeout: req.Timeout})
	if res != nil {
		return res
	}
	return classify(c, resp)
}

// classify turns a response into a Result: 2xx succeeds; 5xx, 408 and 429
// are retryable (429 and 503 with the receiver's Retry-After); every other
// status, redirects included, is final.
func classify(c *sinkhttp.Client, resp *sinkhttp.Response) *sdk.Result {
	code := resp.Status
	var detail string
	if code >= 300 && code < 400 {
		detail = "redirect not followed"
		if loc := resp.Header.Get("Location"); loc != "" {
			detail += " (Location: " + loc + ")"
		}
	}
	res := c.Result(resp, detail)
	// HTTP defines Retry-After for these two; from an arbitrary receiver's
	// 500 or 408 it is more likely noise than a request to wait.
	if code != http.StatusTooManyRequests && code != http.StatusServiceUnavailable {
		res.RetryAfter = 0
	}
	return res
}

func checkHeaders(h map[string]string) error {
	for k, v := range h {
		if !httpguts.ValidHeaderFieldName(k) {
			return fmt.Errorf("invalid header name %q", k)
		}
		if !httpguts.ValidHeaderFieldValue(v) {
			return fmt.Errorf("invalid value for header %q", k)
		}
	}
	return nil
}
