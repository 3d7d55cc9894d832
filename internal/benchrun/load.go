package benchrun

import (
	"bytes"
	"context"
	"encoding/json"
	"fmt"
	"io"
	"net"
	"net/http"
	"net/url"
	"strings"
	"sync"
	"sync/atomic"
	"time"
)

// Envelope is a Field Nation workorder.created envelope for work order i,
// of company 100. With size above its natural length (~420 bytes) a
// workorder.description pads it to about size bytes.
func Envelope(i, size int) []byte {
	const head = `{"event":{"name":"workorder.created","params":{"work_order_id":%d,"work_order_company_id":100}},` +
		`"timestamp":"2026-01-20T08:55:58-06:00","triggered_by_user":{"id":1068},"workorder":{"id":%d,"title":"Router Installation - Site 42",` +
		`"status":{"id":2,"name":"Published"},"company":{"id":100,"name":"Acme Corporation"},"location":{"city":"San Francisco","state":"CA","zip":"94105","country":"US"}`
	env := fmt.Sprintf(head, i, i)
	if pad := size - len(env) - len(`,"description":""}}`); pad > 0 {
		env += `,"description":"` + strings.Repeat("x", pad) + `"`
	}
	return []byte(env + "}}")
}

// EachConcurrently calls fn(i) for i = 1..n from conc goroutines, each
// taking the next i, and returns when all are done or ctx ends.
func EachConcurrently(ctx context.Context, n, conc int, fn func(i int)) {
	var next atomic.Int64
	var wg sync.WaitGroup
	for range conc {
		wg.Go(func() {
			for i := int(next.Add(1)); i <= n && ctx.Err() == nil; i = int(next.Add(1)) {
				fn(i)
			}
		})
	}
	wg.Wait()
}

// NewClient is an HTTP client keeping up to conns idle connections to one
// host, so that conc goroutines reuse their connections.
func NewClient(conns int) *http.Client {
	return &http.Client{Transport: &http.Transport{MaxIdleConnsPerHost: conns}, Timeout: time.Minute}
}

// PlainRate posts n envelopes of size bytes to url from conc goroutines
// with a plain Go client and returns requests/s and how many failed.
func PlainRate(ctx context.Context, url string, n, conc, size int) (rate float64, failed int64) {
	client := NewClient(conc)
	defer client.CloseIdleConnections()
	var bad atomic.Int64
	start := time.Now()
	EachConcurrently(ctx, n, conc, func(i int) {
		req, _ := http.NewRequestWithContext(ctx, "POST", url, bytes.NewReader(Envelope(i, size)))
		req.Header.Set("Content-Type", "application/json")
		resp, err := client.Do(req)
		if err != nil {
			bad.Add(1)
			return
		}
		io.Copy(io.Discard, resp.Body)
		resp.Body.Close()
	})
	return float64(n) / time.Since(start).Seconds(), bad.Load()
}

// Publish posts one envelope to the gateway at base and returns the
// response's status and the accepted event's trace id.
func Publish(ctx context.Context, client *http.Client, base, token string, env []byte) (status int, trace string, err error) {
	req, err := http.NewRequestWithContext(ctx, "POST", base+"/api/v1/events", bytes.NewReader(env))
	if err != nil {
		return 0, "", err
	}
	req.Header.Set("Authorization", "Bearer "+token)
	req.Header.Set("Content-Type", "application/json")
	resp, err := client.Do(req)
	if err != nil {
		return 0, "", err
	}
	defer resp.Body.Close()
	body, _ := io.ReadAll(resp.Body)
	return resp.StatusCode, TraceOf(body), nil
}

// TraceOf is the traceId of a publish response body, "" if it has none.
func TraceOf(body []byte) string {
	i := bytes.Index(body, []byte(`"traceId":"`))
	if i < 0 {
		return ""
	}
	rest := body[i+len(`"traceId":"`):]
	j := bytes.IndexByte(rest, '"')
	if j < 0 {
		return ""
	}
	return string(rest[:j])
}

// Token signs in to the gateway at base with client credentials and
// returns the access token.
func Token(ctx context.Context, base, clientID, secret string) (string, error) {
	form := url.Values{"grant_type": {"client_credentials"}, "client_id": {clientID}, "client_secret": {secret}}
	req, err := http.NewRequestWithContext(ctx, "POST", base+"/authentication/api/oauth/token", strings.NewReader(form.Encode()))
	if err != nil {
		return "", err
	}
	req.Header.Set("Content-Type", "application/x-www-form-urlencoded")
	resp, err := http.DefaultClient.Do(req)
	if err != nil {
		return "", err
	}
	defer resp.Body.Close()
	var b struct {
		AccessToken string `json:"access_token"`
	}
	if err := json.NewDecoder(resp.Body).Decode(&b); err != nil || b.AccessToken == "" {
		return "", fmt.Errorf("token for client %q: status %d", clientID, resp.StatusCode)
	}
	return b.AccessToken, nil
}

// Server is an HTTP server on a loopback port.
type Server struct {
	URL string
	s   *http.Server
}

// Serve starts h on a free loopback port.
func Serve(h http.Handler) (*Server, error) {
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		return nil, err
	}
	s := &http.Server{Handler: h}
	go s.Serve(ln) // ends when Close closes the listener
	return &Server{URL: "http://" + ln.Addr().String(), s: s}, nil
}

// Close stops the server and its connections.
func (s *Server) Close() { s.s.Close() }

// FreeAddr is a loopback address with a port nothing listens on now.
func FreeAddr() (string, error) {
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		return "", err
	}
	defer ln.Close()
	return ln.Addr().String(), nil
}
