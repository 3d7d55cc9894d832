package sinkhttp

import (
	"bufio"
	"context"
	"crypto/tls"
	"crypto/x509"
	"io"
	"net"
	"net/http"
	"net/http/httptest"
	"strconv"
	"strings"
	"sync/atomic"
	"testing"
	"time"

	"github.com/hookgate/hookgate/plugins/sdk"
	"github.com/hookgate/hookgate/plugins/sdk/netguard"
)

var loose = netguard.Policy{AllowHTTP: true, AllowPrivateNetworks: true}

// countingServer counts the connections its clients open.
func countingServer(t *testing.T, h http.HandlerFunc) (*httptest.Server, *atomic.Int32) {
	t.Helper()
	var conns atomic.Int32
	srv := httptest.NewUnstartedServer(h)
	srv.Config.ConnState = func(_ net.Conn, s http.ConnState) {
		if s == http.StateNew {
			conns.Add(1)
		}
	}
	srv.Start()
	t.Cleanup(srv.Close)
	return srv, &conns
}

func mustDo(t *testing.T, c *Client, url string) *Response {
	t.Helper()
	ctx, cancel := context.WithTimeout(context.Background(), 5*time.Second)
	defer cancel()
	resp, res := c.Do(ctx, &Request{Method: "POST", URL: url, Body: []byte("x"), Timeout: 5 * time.Second})
	if res != nil {
		t.Fatalf("%s: %+v", url, res)
	}
	return resp
}

// TestConnectionReuse: answers read to their end leave the connection for
// the next request; an answer cut at the drain limit, or one that asks to
// close, does not.
func TestConnectionReuse(t *testing.T) {
	srv, conns := countingServer(t, func(w http.ResponseWriter, r *http.Request) {
		switch r.URL.Path {
		case "/huge":
			_, _ = w.Write([]byte(strings.Repeat("h", sdk.MaxResponseBody+DrainLimit+1)))
		case "/close":
			w.Header().Set("Connection", "close")
		case "/chunked":
			w.(http.Flusher).Flush()
			_, _ = w.Write([]byte("chunk"))
		}
	})
	c := New(Options{Policy: loose})
	for _, path := range []string{"/", "/chunked", "/", "/chunked"} {
		mustDo(t, c, srv.URL+path)
	}
	if n := conns.Load(); n != 1 {
		t.Fatalf("4 sequential requests opened %d connections, want 1", n)
	}
	if r := mustDo(t, c, srv.URL+"/huge"); len(r.Body) != sdk.MaxResponseBody {
		t.Fatalf("kept %d bytes", len(r.Body))
	}
	mustDo(t, c, srv.URL+"/")
	if n := conns.Load(); n != 2 {
		t.Fatalf("after an answer cut at the drain limit: %d connections, want 2", n)
	}
	mustDo(t, c, srv.URL+"/close")
	mustDo(t, c, srv.URL+"/")
	if n := conns.Load(); n != 3 {
		t.Fatalf("after Connection: close: %d connections, want 3", n)
	}
}

// TestIdleConnectionClosedByServer: a pooled connection the server has
// closed meanwhile costs a second try on a new one, not a failed delivery.
func TestIdleConnectionClosedByServer(t *testing.T) {
	var requests atomic.Int32
	srv, conns := countingServer(t, func(w http.ResponseWriter, r *http.Request) { requests.Add(1) })
	c := New(Options{Policy: loose})
	mustDo(t, c, srv.URL)
	srv.CloseClientConnections()
	mustDo(t, c, srv.URL)
	if n, r := conns.Load(), requests.Load(); n != 2 || r != 2 {
		t.Fatalf("%d connections, %d requests; want 2 and 2", n, r)
	}
}

// TestCancelEndsExchange: canceling ctx ends an exchange
// waiting for the answer, as net/http's Transport did.
func TestCancelEndsExchange(t *testing.T) {
	got := make(chan struct{})
	release := make(chan struct{})
	defer close(release)
	srv, _ := countingServer(t, func(w http.ResponseWriter, r *http.Request) {
		close(got)
		select {
		case <-release:
		case <-r.Context().Done():
		}
	})
	c := New(Options{Policy: loose})
	// The deadline only ends the test if the cancel were not honoured:
	// the error would then say "timed out".
	ctx, cancel := context.WithTimeout(context.Background(), 10*time.Second)
	defer cancel()
	go func() {
		<-got
		cancel()
	}()
	_, res := c.Do(ctx, &Request{Method: "POST", URL: srv.URL, Body: []byte("x")})
	if res == nil || res.Error != "canceled" || !res.Retryable {
		t.Fatalf("%+v", res)
	}
}

// TestResponseHeaderLimit: an answer whose header runs past
// MaxResponseHeaderBytes is a failed exchange, not an unbounded read.
func TestResponseHeaderLimit(t *testing.T) {
	srv, _ := countingServer(t, func(w http.ResponseWriter, r *http.Request) {
		w.Header().Set("X-Big", strings.Repeat("b", 4<<10))
	})
	c := New(Options{Policy: loose, MaxResponseHeaderBytes: 1 << 10})
	_, res := c.Do(context.Background(), &Request{Method: "GET", URL: srv.URL})
	if res == nil || !res.Retryable || !strings.Contains(res.Error, "headers exceeded 1024 bytes") {
		t.Fatalf("%+v", res)
	}
}

// TestHTTPS: TLS with the server's certificate checked, HTTP/1.1 over it,
// and the error net/http gives for an https URL on a plain HTTP server.
func TestHTTPS(t *testing.T) {
	var proto atomic.Value
	srv := httptest.NewTLSServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) { proto.Store(r.Proto) }))
	defer srv.Close()
	c := New(Options{Policy: loose})
	_, res := c.Do(context.Background(), &Request{Method: "GET", URL: srv.URL})
	if res == nil || !strings.Contains(res.Error, "certificate") {
		t.Fatalf("an unknown certificate was accepted: %+v", res)
	}
	roots := x509.NewCertPool()
	roots.AddCert(srv.Certificate())
	c.tr.tlsConfig = &tls.Config{MinVersion: tls.VersionTLS12, NextProtos: []string{"http/1.1"}, RootCAs: roots}
	if r := mustDo(t, c, srv.URL); r.Status != 200 || proto.Load() != "HTTP/1.1" {
		t.Fatalf("status %d, proto %v", r.Status, proto.Load())
	}
	plain, _ := countingServer(t, func(http.ResponseWriter, *http.Request) {})
	_, res = c.Do(context.Background(), &Request{Method: "GET", URL: strings.Replace(plain.URL, "http:", "https:", 1)})
	if res == nil || !strings.Contains(res.Error, http.ErrSchemeMismatch.Error()) {
		t.Fatalf("%+v", res)
	}
}

// TestWireFormat reads what the Client sends on the wire: header names
// exactly as the caller wrote them (a signature may cover them), the body
// with its length; and it answers with a 100 Continue before the answer,
// which is skipped.
func TestWireFormat(t *testing.T) {
	lines := make(chan []string, 1)
	addr := serveOneConn(t, func(conn net.Conn, br *bufio.Reader) {
		var head []string
		length := 0
		for {
			l, err := br.ReadString('\n')
			if err != nil {
				return
			}
			l = strings.TrimRight(l, "\r\n")
			if l == "" {
				break
			}
			head = append(head, l)
			if v, ok := strings.CutPrefix(l, "Content-Length: "); ok {
				length, _ = strconv.Atoi(v)
			}
		}
		body := make([]byte, length)
		_, _ = io.ReadFull(br, body)
		lines <- append(head, "body="+string(body))
		_, _ = io.WriteString(conn, "HTTP/1.1 100 Continue\r\n\r\nHTTP/1.1 201 Created\r\nX-Id: 7\r\nContent-Length: 2\r\n\r\nok")
	})
	c := New(Options{Policy: loose, UserAgent: "ua/1"})
	h := http.Header{"webhook-id": {"msg_1"}, "X-MiXeD": {"a", "b"}}
	resp, res := c.Do(context.Background(), &Request{Method: "POST", URL: "http://" + addr + "/p?q=1", Header: h, Body: []byte(`{"a":1}`)})
	if res != nil || resp.Status != 201 || string(resp.Body) != "ok" || resp.Header.Get("X-Id") != "7" {
		t.Fatalf("%+v %+v", resp, res)
	}
	got := strings.Join(<-lines, "\n")
	for _, want := range []string{"POST /p?q=1 HTTP/1.1", "Host: " + addr, "User-Agent: ua/1",
		"webhook-id: msg_1", "X-MiXeD: a", "X-MiXeD: b", "Content-Length: 7", `body={"a":1}`} {
		if !strings.Contains(got, want+"\n") && !strings.HasSuffix(got, want) {
			t.Errorf("the request lacks %q:\n%s", want, got)
		}
	}
	if strings.Contains(got, "Accept-Encoding") {
		t.Errorf("the Client asked for compression on its own:\n%s", got)
	}
}

// TestPoolLimits: the pool keeps at most maxIdlePerHost connections per
// host and maxIdle in all, closes the rest, and hands out none that sat
// idle past idleTimeout.
func TestPoolLimits(t *testing.T) {
	tr := &transport{maxIdle: 2, maxIdlePerHost: 1, idleTimeout: time.Minute}
	newConn := func(key string) *conn {
		a, b := net.Pipe()
		t.Cleanup(func() { _ = b.Close() })
		return &conn{key: key, nc: a}
	}
	closed := func(c *conn) bool {
		_ = c.nc.SetWriteDeadline(time.Now().Add(time.Millisecond))
		_, err := c.nc.Write([]byte("x"))
		return err == io.ErrClosedPipe
	}
	a1, a2, b1, c1 := newConn("a"), newConn("a"), newConn("b"), newConn("c")
	for _, c := range []*conn{a1, a2, b1, c1} {
		tr.release(c, true)
	}
	if closed(a1) || !closed(a2) || closed(b1) || !closed(c1) {
		t.Fatalf("closed: a1 %v a2 %v b1 %v c1 %v; want the second of a host and the third in all closed",
			closed(a1), closed(a2), closed(b1), closed(c1))
	}
	if got := tr.pooled("a"); got != a1 || !got.reused {
		t.Fatalf("pooled(a) = %v", got)
	}
	b1.idleAt = time.Now().Add(-2 * time.Minute)
	if got := tr.pooled("b"); got != nil || !closed(b1) || tr.nIdle != 0 {
		t.Fatalf("an expired connection: pooled %v, closed %v, %d idle", got, closed(b1), tr.nIdle)
	}
}

// TestStatusLineCutByDeadline: a server that sends part of its status line
// and stalls is a timeout when the attempt's deadline cuts the read, not a
// "malformed HTTP response" (the parser is handed the partial line as if
// it were whole) — a timeout is what the delivery log and the retry say.
func TestStatusLineCutByDeadline(t *testing.T) {
	stop := make(chan struct{})
	defer close(stop)
	addr := serveOneConn(t, func(conn net.Conn, br *bufio.Reader) {
		if _, err := http.ReadRequest(br); err != nil {
			return
		}
		conn.Write([]byte("HTTP/1."))
		<-stop
	})
	c := New(Options{Policy: loose})
	ctx, cancel := context.WithTimeout(context.Background(), 200*time.Millisecond)
	defer cancel()
	_, res := c.Do(ctx, &Request{Method: "POST", URL: "http://" + addr + "/", Body: []byte("x"), Timeout: 200 * time.Millisecond})
	if res == nil || !res.Retryable || !strings.HasPrefix(res.Error, "timed out after") {
		t.Fatalf("%+v, want a retryable timeout", res)
	}
}

// serveOneConn listens on loopback, hands the first connection (and a
// reader of it) to handle on its own goroutine, and closes both when
// handle returns or the test ends: a raw server for answers net/http
// would not write. It returns the address.
func serveOneConn(t *testing.T, handle func(conn net.Conn, br *bufio.Reader)) string {
	t.Helper()
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { ln.Close() })
	go func() {
		conn, err := ln.Accept()
		if err != nil {
			return
		}
		defer conn.Close()
		handle(conn, bufio.NewReader(conn))
	}()
	return ln.Addr().String()
}
