package sinkhttp

import (
	"bufio"
	"context"
	"crypto/tls"
	"errors"
	"fmt"
	"io"
	"math"
	"net"
	"net/http"
	"net/url"
	"sync"
	"syscall"
	"time"

	"golang.org/x/net/http/httpguts"
)

// transport runs HTTP/1.1 exchanges on the caller's goroutine over a pool
// of connections dialled through the netguard dialer.
//
// net/http's Transport keeps a read and a write goroutine per connection
// and hands every request and answer between them and the caller: on a
// sink that sends thousands of small requests a second those hand-offs,
// their wake-ups and the scheduler were three quarters of the sink
// process's CPU. Here the caller writes the request and reads the answer
// itself, with net/http's own wire code (Request.Write, ReadResponse), so
// what goes on the wire and the http.Header a sink reads are as before.
// It speaks HTTP/1.1 only (HTTPS included: ALPN offers http/1.1), which
// every webhook receiver and the SaaS APIs of the built-in sinks accept.
type transport struct {
	dialer         *net.Dialer
	tlsConfig      *tls.Config
	tlsTimeout     time.Duration
	idleTimeout    time.Duration
	maxIdle        int // all hosts; 0 is no limit
	maxIdlePerHost int
	maxHeaderBytes int64

	mu    sync.Mutex
	idle  map[string][]*conn // per scheme://host:port, oldest first
	nIdle int
	swept time.Time // when idle connections of every host were last expired
}

// conn is one pooled connection and its buffers.
type conn struct {
	key    string
	nc     net.Conn
	lr     limitReader // bounds the answer's header (Options.MaxResponseHeaderBytes)
	br     *bufio.Reader
	bw     *bufio.Writer
	reused bool
	idleAt time.Time
	// unwatch stops the ctx watcher of the exchange in progress; false
	// means the watcher ran (ctx ended) and moved the deadline to the past.
	unwatch func() bool
	cut     func()       // ends the exchange in progress: the ctx watcher
	fields  []field      // scratch for outgoing.write
	req     http.Request // what ReadResponse is told the request was
	body    fixedBody    // a plain answer's body (plainHead)
}

// limitReader fails a read once n bytes have been read: set to the header
// limit while an answer's header is read, unlimited otherwise.
type limitReader struct {
	r io.Reader
	n int64
}

var errHeaderTooLarge = errors.New("server response headers exceeded the limit")

func (l *limitReader) Read(p []byte) (int, error) {
	if l.n <= 0 {
		return 0, errHeaderTooLarge
	}
	if int64(len(p)) > l.n {
		p = p[:l.n]
	}
	n, err := l.r.Read(p)
	l.n -= int64(n)
	return n, err
}

// aLongTimeAgo is a deadline that has passed: setting it makes a blocked
// read or write return at once.
var aLongTimeAgo = time.Unix(1, 0)

// closedError is a connection found closed (EOF, reset, broken pipe)
// before any byte of the answer arrived. On a connection that sat in the
// pool it most likely means the server had closed it while idle, so the
// request is sent once more on a new one; a timeout or a cancel is not
// this, and is never retried.
type closedError struct{ err error }

func (e closedError) Error() string { return e.err.Error() }
func (e closedError) Unwrap() error { return e.err }

// noAnswer wraps err, the failure that left an exchange without any byte
// of the answer, as a closedError when it says the peer had closed.
func noAnswer(err error) error {
	if errors.Is(err, io.EOF) || errors.Is(err, io.ErrUnexpectedEOF) ||
		errors.Is(err, syscall.ECONNRESET) || errors.Is(err, syscall.EPIPE) {
		return closedError{err}
	}
	return err
}

// roundTrip sends req and reads the answer's header. The answer's body is
// read from the returned conn's buffer; pass the conn to release when done.
// ctx bounds the whole exchange, body included, until release.
func (t *transport) roundTrip(ctx context.Context, req *outgoing) (*http.Response, *conn, error) {
	key, addr := req.key, req.addr
	if req.addrErr != nil {
		return nil, nil, req.addrErr
	}
	if req.wireErr != nil {
		return nil, nil, req.wireErr
	}
	var err error
	for retried := false; ; retried = true {
		c := t.pooled(key)
		if c == nil {
			if c, err = t.dial(ctx, key, addr, req.url); err != nil {
				return nil, nil, err
			}
		}
		resp, err := t.exchange(ctx, c, req)
		if err == nil {
			return resp, c, nil
		}
		t.release(c, false)
		if ctx.Err() != nil {
			return nil, nil, ctx.Err()
		}
		var closed closedError
		if !c.reused || retried || !errors.As(err, &closed) {
			return nil, nil, err
		}
	}
}

// exchange writes req on c and reads the answer's header, skipping 1xx
// interim answers. It arms c for ctx: its deadline and, when ctx can be
// canceled, a watcher that cuts the exchange short.
func (t *transport) exchange(ctx context.Context, c *conn, req *outgoing) (*http.Response, error) {
	dl, _ := ctx.Deadline() // zero: none
	if err := c.nc.SetDeadline(dl); err != nil {
		return nil, err
	}
	if ctx.Done() != nil {
		c.unwatch = context.AfterFunc(ctx, c.cut)
	}
	var werr error
	c.fields, werr = req.write(c.bw, c.fields)
	if werr == nil {
		werr = c.bw.Flush()
	}
	// A write the network refused still looks for an answer, as net/http
	// does: a server may refuse a large body (413) and close before
	// reading it all. The connection is broken or past its deadline by
	// then, so the look does not wait. Any other failure (the request
	// could not be written) ends here: the server may be waiting for the
	// rest.
	var ne *net.OpError
	if werr != nil && !errors.As(werr, &ne) {
		return nil, werr
	}
	for {
		c.lr.n = t.maxHeaderBytes
		if _, err := c.br.Peek(1); err != nil {
			if werr != nil {
				err = werr
			}
			return nil, noAnswer(err)
		}
		// Most answers are plain and whole in the buffer by now; the rest
		// go to net/http's reader.
		resp, plain := plainHead(c.br, req.method, &c.body)
		if !plain {
			// ReadResponse looks only at the method (a HEAD's answer has
			// no body); the conn's own Request spares an allocation.
			c.req.Method = req.method
			var err error
			resp, err = http.ReadResponse(c.br, &c.req)
			if errors.Is(err, errHeaderTooLarge) {
				return nil, fmt.Errorf("server response headers exceeded %d bytes; aborted", t.maxHeaderBytes)
			}
			if err != nil {
				return nil, cutShort(ctx, dl, err)
			}
		}
		c.lr.n = math.MaxInt64
		// 1xx are interim; 101 (switching protocols) is the answer, and
		// one this client cannot follow.
		if resp.StatusCode >= 100 && resp.StatusCode < 200 && resp.StatusCode != http.StatusSwitchingProtocols {
			continue
		}
		return resp, nil
	}
}

// cutShort is the error of an answer's header that could not be read:
// the context's end when the exchange was cut by it (its deadline or a
// cancel, which move the connection's deadline), else err. A read cut
// mid-line hands the partial line to the parser as if it were whole
// (bufio.Reader.ReadLine), which would otherwise call a slow server's
// answer malformed instead of timed out.
func cutShort(ctx context.Context, dl time.Time, err error) error {
	if ctxErr := ctx.Err(); ctxErr != nil {
		return ctxErr
	}
	var ne net.Error
	if (errors.As(err, &ne) && ne.Timeout()) || (!dl.IsZero() && !time.Now().Before(dl)) {
		return context.DeadlineExceeded
	}
	return err
}

// release ends c's exchange: it goes back to the pool when reusable (the
// answer was read to its end and neither side asked to close), else it is
// closed.
func (t *transport) release(c *conn, reusable bool) {
	if c.unwatch != nil {
		if !c.unwatch() {
			reusable = false // its deadline was moved to the past
		}
		c.unwatch = nil
	}
	if !reusable {
		_ = c.nc.Close()
		return
	}
	now := time.Now()
	c.idleAt, c.reused = now, true
	t.mu.Lock()
	var stale []*conn
	if now.Sub(t.swept) > t.idleTimeout {
		stale = t.expireLocked(now)
		t.swept = now
	}
	list := t.idle[c.key]
	if len(list) >= t.maxIdlePerHost || (t.maxIdle > 0 && t.nIdle >= t.maxIdle) {
		stale = append(stale, c)
	} else {
		if t.idle == nil {
			t.idle = make(map[string][]*conn)
		}
		t.idle[c.key] = append(list, c)
		t.nIdle++
	}
	t.mu.Unlock()
	for _, s := range stale {
		_ = s.nc.Close()
	}
}

// pooled takes the most recently used idle connection to key, or nil.
func (t *transport) pooled(key string) *conn {
	t.mu.Lock()
	defer t.mu.Unlock()
	list := t.idle[key]
	if len(list) == 0 {
		return nil
	}
	c := list[len(list)-1]
	list[len(list)-1] = nil
	t.idle[key] = list[:len(list)-1]
	t.nIdle--
	if time.Since(c.idleAt) <= t.idleTimeout {
		return c
	}
	// The newest has expired, so have all older ones.
	for _, o := range list[:len(list)-1] {
		_ = o.nc.Close()
	}
	t.nIdle -= len(list) - 1
	delete(t.idle, key)
	_ = c.nc.Close()
	return nil
}

// expireLocked removes the connections idle for longer than idleTimeout
// from every host's list and returns them to be closed. Lists run oldest
// first. It runs at most once per idleTimeout, from release: an idle pool
// is swept by the next request.
func (t *transport) expireLocked(now time.Time) []*conn {
	var stale []*conn
	for key, list := range t.idle {
		n := 0
		for n < len(list) && now.Sub(list[n].idleAt) > t.idleTimeout {
			n++
		}
		if n == 0 {
			continue
		}
		stale = append(stale, list[:n]...)
		t.nIdle -= n
		if n == len(list) {
			delete(t.idle, key)
		} else {
			t.idle[key] = append(list[:0:0], list[n:]...)
		}
	}
	return stale
}

// closeIdle closes every idle connection.
func (t *transport) closeIdle() {
	t.mu.Lock()
	idle := t.idle
	t.idle, t.nIdle = nil, 0
	t.mu.Unlock()
	for _, list := range idle {
		for _, c := range list {
			_ = c.nc.Close()
		}
	}
}

// dial connects to addr through the guarded dialer and, for https, does
// the TLS handshake (bounded by tlsTimeout and ctx).
func (t *transport) dial(ctx context.Context, key, addr string, u *url.URL) (*conn, error) {
	nc, err := t.dialer.DialContext(ctx, "tcp", addr)
	if err != nil {
		return nil, err
	}
	if u.Scheme == "https" {
		cfg := t.tlsConfig.Clone()
		if cfg.ServerName == "" {
			cfg.ServerName = u.Hostname()
		}
		hctx, cancel := context.WithTimeout(ctx, t.tlsTimeout)
		tc := tls.Client(nc, cfg)
		err := tc.HandshakeContext(hctx)
		cancel()
		if err != nil {
			_ = nc.Close()
			var rh tls.RecordHeaderError
			if errors.As(err, &rh) && string(rh.RecordHeader[:]) == "HTTP/" {
				err = http.ErrSchemeMismatch
			}
			return nil, err
		}
		nc = tc
	}
	c := &conn{key: key, nc: nc, lr: limitReader{r: nc, n: math.MaxInt64},
		cut: func() { _ = nc.SetDeadline(aLongTimeAgo) }}
	c.br = bufio.NewReaderSize(&c.lr, 4<<10)
	c.bw = bufio.NewWriterSize(nc, 4<<10)
	return c, nil
}

// connAddr is the pool key (scheme://host:port) and the address to dial
// (host:port, the host in punycode) of u.
func connAddr(u *url.URL) (key, addr string, err error) {
	port := u.Port()
	switch u.Scheme {
	case "http":
		if port == "" {
			port = "80"
		}
	case "https":
		if port == "" {
			port = "443"
		}
	default:
		return "", "", errors.New("unsupported protocol scheme " + u.Scheme)
	}
	if u.Hostname() == "" {
		return "", "", errors.New("no host in request URL")
	}
	addr, err = httpguts.PunycodeHostPort(net.JoinHostPort(u.Hostname(), port))
	if err != nil {
		return "", "", err
	}
	return u.Scheme + "://" + addr, addr, nil
}

// keepAlive reports whether the connection may carry another request
// after this exchange, as far as the two sides' headers go.
func keepAlive(req *outgoing, resp *http.Response) bool {
	return !resp.Close && !httpguts.HeaderValuesContainsToken(req.header["Connection"], "close") &&
		resp.StatusCode != http.StatusSwitchingProtocols
}
