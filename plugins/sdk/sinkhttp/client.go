// Package sinkhttp is the outbound HTTP client for sinks that call a remote
// over HTTP: the built-in http, servicenow and salesforce sinks use it, and
// a custom sink may too.
//
// It does what every such sink must and is easy to get subtly wrong:
//
//   - it dials through the gateway's netguard policy and never through a
//     proxy from the environment (a proxy would connect past the guard);
//   - it runs each exchange on the caller's goroutine (HTTP/1.1, pooled
//     connections; see transport), several times cheaper in CPU than
//     net/http's Transport for the small requests sinks send;
//   - it never follows a redirect (that would carry the payload, and any
//     Authorization header, somewhere the configuration did not name);
//   - it keeps at most sdk.MaxResponseBody of an answer and drains a
//     bounded remainder, so a huge answer costs 64 KiB and short ones keep
//     the connection;
//   - its errors never contain the URL, whose query may hold a token or
//     values from the payload;
//   - it classifies as the gateway expects: 2xx success; 5xx, 408, 429,
//     timeouts and connection failures retryable, with the Retry-After the
//     remote sent; everything else, redirects included, final.
//
// A sink makes one Client in Configure and shares it across its concurrent
// deliveries:
//
//	c := sinkhttp.New(sinkhttp.Options{Policy: netguard.Policy{AllowHTTP: cfg.AllowHTTP,
//		AllowPrivateNetworks: cfg.AllowPrivateNetworks}, Service: "Teams"})
//	...
//	resp, res := c.Do(ctx, &sinkhttp.Request{Method: "POST", URL: u, Header: h, Body: body})
//	if res != nil {
//		return res, nil // no answer: already classified
//	}
//	return c.Result(resp, ""), nil
package sinkhttp

import (
	"cmp"
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

	"github.com/hookgate/hookgate/plugins/internal/memo"
	"github.com/hookgate/hookgate/plugins/sdk"
	"github.com/hookgate/hookgate/plugins/sdk/netguard"
)

// DrainLimit is how much of an answer past sdk.MaxResponseBody is read and
// discarded so that the connection can be reused; past it, closing the
// connection is cheaper than reading on.
const DrainLimit = 256 << 10

// Options configure a Client. The zero value is a usable client with the
// strictest network policy.
type Options struct {
	// Policy is the gateway's network policy (sdk.Config.AllowHTTP and
	// AllowPrivateNetworks); every connection is checked by its dialer on
	// the address actually dialled.
	Policy netguard.Policy
	// UserAgent is sent with requests that set none.
	UserAgent string
	// Service names the remote in errors: "timed out waiting for
	// ServiceNow", "connection to ServiceNow failed: ...". Leave it empty
	// when the remote is whatever URL a webhook names: the errors are then
	// "timed out after <Request.Timeout>" and "connection failed: ...".
	Service string
	// Now is the clock an HTTP-date Retry-After is judged by; default
	// time.Now.
	Now func() time.Time
	// KeepSetCookie keeps Set-Cookie in Result headers. By default it is
	// dropped: a session cookie is a credential and Result headers end up
	// in the delivery log.
	KeepSetCookie bool

	// MaxIdleConns and MaxIdleConnsPerHost size the connection pool; zero
	// keeps net/http's defaults (no total limit, 2 per host).
	MaxIdleConns, MaxIdleConnsPerHost int
	// MaxResponseHeaderBytes bounds an answer's header; zero keeps
	// net/http's default (10 MiB).
	MaxResponseHeaderBytes int64
	// DisableCompression is kept for sinks written against earlier
	// versions; it no longer changes anything: the Client never asks for
	// gzip on its own, so exactly the caller's headers are sent.
	DisableCompression bool
}

// Pool and handshake limits, as net/http's DefaultTransport has them.
const (
	defaultMaxIdlePerHost = 2
	defaultMaxHeaderBytes = 10 << 20
	idleConnTimeout       = 90 * time.Second
	tlsHandshakeTimeout   = 10 * time.Second
)

// Client is one connection pool and its policy. It is safe for concurrent
// use; make one per configuration, not per request.
type Client struct {
	// tr never follows a redirect: a 3xx is reported as it is, since
	// following it would send the request somewhere the configuration did
	// not name.
	tr            *transport
	userAgent     string
	service       string
	now           func() time.Time
	keepSetCookie bool
	targets       *memo.Memo[*target] // what each URL gives the transport
}

// New returns a Client for opts.
func New(opts Options) *Client {
	d := opts.Policy.Dialer()
	d.Timeout = 30 * time.Second // the request's ctx usually ends it sooner
	d.KeepAlive = 30 * time.Second
	// No proxy, ever: a proxy connects on our behalf, past the dialer's
	// guard. No timeout on the answer: the request's ctx bounds the wait.
	tr := &transport{
		dialer:         d,
		tlsConfig:      &tls.Config{MinVersion: tls.VersionTLS12, NextProtos: []string{"http/1.1"}},
		tlsTimeout:     tlsHandshakeTimeout,
		idleTimeout:    idleConnTimeout,
		maxIdle:        opts.MaxIdleConns,
		maxIdlePerHost: cmp.Or(opts.MaxIdleConnsPerHost, defaultMaxIdlePerHost),
		maxHeaderBytes: cmp.Or(opts.MaxResponseHeaderBytes, defaultMaxHeaderBytes),
	}
	now := opts.Now
	if now == nil {
		now = time.Now
	}
	return &Client{
		tr:            tr,
		userAgent:     opts.UserAgent,
		service:       opts.Service,
		now:           now,
		keepSetCookie: opts.KeepSetCookie,
		targets:       &memo.Memo[*target]{F: newTarget, Max: maxTargets},
	}
}

// CloseIdleConnections closes the pool's idle connections; call it on a
// Client that a new configuration replaced.
func (c *Client) CloseIdleConnections() { c.tr.closeIdle() }

// ParseURL is url.Parse(rawURL), from the Client's memo of the URLs it
// has seen (a sink that checks each delivery's URL before Do parses it
// once, not twice per delivery). The URL is the caller's to change.
func (c *Client) ParseURL(rawURL string) (*url.URL, error) {
	t := c.targets.Get(rawURL)
	if t.err != nil {
		return nil, t.err
	}
	u := t.parsed
	return &u, nil
}

// Request is one outgoing request.
type Request struct {
	Method string
	URL    string
	// Header is sent as is (the Client adds User-Agent when it is absent).
	Header http.Header
	// Body is sent as is; nil sends none.
	Body []byte
	// Timeout is the attempt's timeout, named in the error when it runs
	// out and the Client has no Service name. It does not bound the
	// request: ctx does.
	Timeout time.Duration
}

// Response is a read answer.
type Response struct {
	Status int
	Header http.Header
	Body   []byte // at most sdk.MaxResponseBody bytes
	// Size is the size of the whole body: the announced Content-Length, or
	// the bytes read (a lower bound when the answer went on past DrainLimit).
	Size int64
}

// Do performs one HTTP exchange. When there is no answer the failure comes
// back as a Result, already classified: a policy refusal or an invalid
// request is final; a timeout, cancellation or connection failure is
// retryable. Its error never includes the URL.
func (c *Client) Do(ctx context.Context, r *Request) (*Response, *sdk.Result) {
	o, err := newOutgoing(r.Method, c.targets.Get(r.URL), r.Header, r.Body, c.userAgent)
	if err != nil {
		return nil, &sdk.Result{Error: "invalid request: " + StripURL(err).Error()}
	}
	span := startRequestSpan(ctx, o)
	resp, cn, err := c.tr.roundTrip(ctx, o)
	if err != nil {
		endRequestSpan(span, 0, err)
		return nil, c.transportFailure(ctx, err, r.Timeout)
	}
	endRequestSpan(span, resp.StatusCode, nil)
	body, size, complete := readBody(resp.Body, resp.ContentLength)
	// The connection carries another request only if this answer was read
	// to its end; an answer cut at the drain limit closes it.
	c.tr.release(cn, complete && keepAlive(o, resp))
	return &Response{Status: resp.StatusCode, Header: resp.Header, Body: body, Size: size}, nil
}

// validHeader refuses what net/http's Transport refuses: a header name
// that is not a token, a value with a control character (a CR or LF would
// let a value add headers of its own).
func validHeader(h http.Header) error {
	for k, vs := range h {
		if !httpguts.ValidHeaderFieldName(k) {
			return fmt.Errorf("net/http: invalid header field name %q", k)
		}
		for _, v := range vs {
			if !httpguts.ValidHeaderFieldValue(v) {
				return fmt.Errorf("net/http: invalid header field value for %q", k)
			}
		}
	}
	return nil
}

// readBody returns at most sdk.MaxResponseBody bytes and then discards at
// most DrainLimit more, the body's whole size (the announced one, or what
// was read) and whether it was read to its end. A read error after the
// status line does not change the outcome: the remote has answered. size
// is the announced length, -1 when unknown: the buffer starts at that size
// (io.ReadAll starts at 512 bytes whatever the answer).
func readBody(r io.Reader, size int64) (body []byte, total int64, complete bool) {
	n := 512
	if size >= 0 && size < sdk.MaxResponseBody {
		n = int(size) + 1 // +1: room to see the end without growing
	}
	body = make([]byte, 0, n)
	lr := io.LimitedReader{R: r, N: sdk.MaxResponseBody}
	for {
		if len(body) == cap(body) {
			body = append(body, 0)[:len(body)]
		}
		m, err := lr.Read(body[len(body):cap(body)])
		body = body[:len(body)+m]
		if err == io.EOF && lr.N > 0 {
			return body, max(size, int64(len(body))), true
		}
		if err == io.EOF {
			break // the kept part is full
		}
		if err != nil {
			return body, max(size, int64(len(body))), false
		}
	}
	drained, err := io.CopyN(io.Discard, r, DrainLimit)
	return body, max(size, int64(len(body))+drained), err == io.EOF
}

// transportFailure classifies an exchange that got no answer.
func (c *Client) transportFailure(ctx context.Context, err error, timeout time.Duration) *sdk.Result {
	var ne net.Error
	var refused *netguard.RefusedError
	switch {
	case errors.As(err, &refused):
		return &sdk.Result{Error: refused.Error()}
	case errors.Is(ctx.Err(), context.DeadlineExceeded) || errors.Is(err, context.DeadlineExceeded) ||
		(errors.As(err, &ne) && ne.Timeout()):
		if c.service == "" {
			return &sdk.Result{Error: fmt.Sprintf("timed out after %s", timeout), Retryable: true}
		}
		return &sdk.Result{Error: "timed out waiting for " + c.service, Retryable: true}
	case errors.Is(err, context.Canceled):
		return &sdk.Result{Error: "canceled", Retryable: true}
	}
	to := "connection"
	if c.service != "" {
		to = "connection to " + c.service
	}
	return &sdk.Result{Error: to + " failed: " + StripURL(err).Error(), Retryable: true}
}

// StripURL drops the `Post "https://...":` or `parse "https://...":` prefix
// of a *url.Error, keeping its cause: the URL may carry a token in its
// query, and errors end up in logs. Other errors come back as they are.
func StripURL(err error) error {
	var ue *url.Error
	if errors.As(err, &ue) {
		return ue.Err
	}
	return err
}

// Attempt runs one delivery attempt: fn with ctx bounded by timeout (when
// positive), and the Result's Duration set to how long it took. The SDK
// already bounds ctx by Request.Timeout; bounding it here too keeps that
// promise when a sink is called in-process (tests, `hookgate sink test`).
// A ctx whose deadline already comes no later is used as it is: a second
// timer would change nothing but cost a context and a timer per attempt.
func Attempt(ctx context.Context, timeout time.Duration, fn func(context.Context) *sdk.Result) *sdk.Result {
	start := time.Now()
	if dl, ok := ctx.Deadline(); timeout > 0 && (!ok || dl.Sub(start) > timeout) {
		var cancel context.CancelFunc
		ctx, cancel = context.WithTimeout(ctx, timeout)
		defer cancel()
	}
	res := fn(ctx)
	res.Duration = time.Since(start)
	return res
}
