package httpsink

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
	"time"

	"golang.org/x/net/http/httpguts"

	"github.com/hookgate/hookgate/plugins/sdk"
	"github.com/hookgate/hookgate/plugins/sdk/netguard"
)

// Pool sizes: the gateway runs up to 64 workers (more with several
// gateways' worth of webhooks on one receiver), so keep enough idle
// connections per host that a busy receiver is not re-dialled constantly.
const (
	maxIdleConns        = 1024
	maxIdleConnsPerHost = 128
	// drainLimit is how much of an unread body is discarded so that the
	// connection can be reused; past it, closing the connection is cheaper.
	drainLimit = 256 << 10
	userAgent  = "hookgate-webhooks/1"
)

// client is the one http.Client (and so the one connection pool) a
// configured sink shares across all deliveries.
type client struct {
	hc *http.Client
	tr *http.Transport
}

func newClient(p netguard.Policy) *client {
	d := p.Dialer()
	d.Timeout = 30 * time.Second // the request's ctx usually ends it sooner
	d.KeepAlive = 30 * time.Second
	tr := &http.Transport{
		// Never a proxy from the environment: a proxy connects on our
		// behalf, past the dialer's SSRF guard.
		Proxy:                  nil,
		DialContext:            d.DialContext,
		ForceAttemptHTTP2:      true,
		MaxIdleConns:           maxIdleConns,
		MaxIdleConnsPerHost:    maxIdleConnsPerHost,
		IdleConnTimeout:        90 * time.Second,
		TLSHandshakeTimeout:    10 * time.Second,
		ExpectContinueTimeout:  time.Second,
		MaxResponseHeaderBytes: 256 << 10,
		// Send exactly the headers the gateway signed; no implicit gzip.
		DisableCompression: true,
		TLSClientConfig:    &tls.Config{MinVersion: tls.VersionTLS12},
	}
	return &client{
		tr: tr,
		hc: &http.Client{
			Transport: tr,
			CheckRedirect: func(*http.Request, []*http.Request) error {
				return http.ErrUseLastResponse // report the 3xx as-is
			},
		},
	}
}

func (c *client) close() { c.tr.CloseIdleConnections() }

func (c *client) do(ctx context.Context, req *sdk.Request) *sdk.Result {
	hreq, err := http.NewRequestWithContext(ctx, req.Method, req.URL, bytes.NewReader(req.Body))
	if err != nil {
		return final("invalid request: %v", unwrapURLError(err))
	}
	for k, v := range req.Headers {
		hreq.Header.Set(k, v)
	}
	if hreq.Header.Get("User-Agent") == "" {
		hreq.Header.Set("User-Agent", userAgent)
	}
	resp, err := c.hc.Do(hreq)
	if err != nil {
		return transportFailure(ctx, err, req.Timeout)
	}
	body := readBody(resp.Body)
	_ = resp.Body.Close()
	return classify(resp, body, time.Now())
}

// readBody returns at most sdk.MaxResponseBody bytes and then discards at
// most drainLimit more, so a 10 MB answer costs 64 KiB of memory and the
// connection is reused when the rest is short. A read error after the
// status line does not change the outcome: the receiver has answered.
func readBody(r io.Reader) []byte {
	body, _ := io.ReadAll(io.LimitReader(r, sdk.MaxResponseBody))
	_, _ = io.CopyN(io.Discard, r, drainLimit)
	return body
}

// transportFailure classifies an attempt that got no response.
func transportFailure(ctx context.Context, err error, timeout time.Duration) *sdk.Result {
	var ne net.Error
	switch {
	case netguard.IsRefused(err):
		var r *netguard.RefusedError
		errors.As(err, &r)
		return final("%v", r)
	case errors.Is(ctx.Err(), context.DeadlineExceeded) || errors.Is(err, context.DeadlineExceeded) ||
		(errors.As(err, &ne) && ne.Timeout()):
		return &sdk.Result{Error: fmt.Sprintf("timed out after %s", timeout), Retryable: true}
	case errors.Is(err, context.Canceled):
		return &sdk.Result{Error: "canceled", Retryable: true}
	}
	return &sdk.Result{Error: "connection failed: " + unwrapURLError(err).Error(), Retryable: true}
}

// unwrapURLError drops the "Post \"https://...\":" prefix of a *url.Error:
// the URL may carry a token in its query, and errors end up in logs.
func unwrapURLError(err error) error {
	var ue *url.Error
	if errors.As(err, &ue) {
		return ue.Err
	}
	return err
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
