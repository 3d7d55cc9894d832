package host_test

import (
	"bytes"
	"context"
	"fmt"
	"io"
	"net"
	"net/http"
	"net/http/httptest"
	"strconv"
	"strings"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	"github.com/hookgate/hookgate/plugins/host"
	"github.com/hookgate/hookgate/plugins/sdk"
	"github.com/hookgate/hookgate/plugins/sdk/sdktest"
)

func TestDeliverThroughHTTPSinkRoundTrip(t *testing.T) {
	type seen struct {
		method, path string
		header       http.Header
		body         []byte
	}
	got := make(chan seen, 1)
	rcv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		b, _ := io.ReadAll(r.Body)
		got <- seen{r.Method, r.URL.RequestURI(), r.Header.Clone(), b}
		w.Header().Add("X-Reply", "first")
		w.Header().Add("X-Reply", "second")
		w.WriteHeader(http.StatusAccepted)
		_, _ = w.Write([]byte(`{"ok":true}`))
	}))
	defer rcv.Close()
	h := startHost(t, openPolicy, httpSpec("web"))

	body := make([]byte, 0, 512)
	for i := range 512 { // every byte value, twice: no re-encoding allowed
		body = append(body, byte(i))
	}
	headers := map[string]string{
		"X-FN-Signature":   "abc123",
		"X-FN-Delivery-Id": "6f1c7a2e-0000-4000-8000-000000000001:3",
		"Content-Type":     "application/json; charset=utf-8",
		"X-Custom":         "  spaced value  ",
	}
	res := deliver(t, h, "web", &sdk.Request{
		ID: "6f1c7a2e-0000-4000-8000-000000000001:3", Method: "PUT",
		URL: rcv.URL + "/hook/path?x=1&y=%20", Headers: headers, Body: body,
	})
	s := <-got
	if s.method != "PUT" || s.path != "/hook/path?x=1&y=%20" {
		t.Errorf("receiver saw %s %s", s.method, s.path)
	}
	for k, v := range headers {
		if s.header.Get(k) != strings.TrimSpace(v) && s.header.Get(k) != v {
			t.Errorf("header %s = %q, want %q", k, s.header.Get(k), v)
		}
	}
	if !bytes.Equal(s.body, body) {
		t.Errorf("body differs: got %d bytes, want %d", len(s.body), len(body))
	}
	if !res.OK() || res.Status != 202 || res.Retryable {
		t.Errorf("result %+v, want a 202 success", res)
	}
	if string(res.Body) != `{"ok":true}` || res.Headers["X-Reply"] != "first" {
		t.Errorf("response body %q headers %v", res.Body, res.Headers)
	}
	if res.Duration <= 0 {
		t.Errorf("Duration = %v, want > 0", res.Duration)
	}
}

func TestHTTPStatusClassification(t *testing.T) {
	var redirectedTo atomic.Bool
	date := time.Now().Add(time.Hour).UTC().Format(http.TimeFormat)
	rcv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		switch r.URL.Path {
		case "/elsewhere":
			redirectedTo.Store(true)
		case "/302":
			w.Header().Set("Location", "/elsewhere")
		case "/429":
			w.Header().Set("Retry-After", "120")
		case "/503":
			w.Header().Set("Retry-After", date)
		}
		var code int
		_, _ = fmt.Sscan(strings.TrimPrefix(r.URL.Path, "/"), &code)
		if code == 0 {
			code = 200
		}
		w.WriteHeader(code)
	}))
	defer rcv.Close()
	h := startHost(t, openPolicy, httpSpec("web"))

	cases := []struct {
		status     int
		ok, retry  bool
		retryAfter time.Duration // minimum expected
	}{
		{200, true, false, 0},
		{204, true, false, 0},
		{500, false, true, 0},
		{502, false, true, 0},
		{503, false, true, 59 * time.Minute},
		{429, false, true, 120 * time.Second},
		{408, false, true, 0},
		{404, false, false, 0},
		{410, false, false, 0},
		{400, false, false, 0},
		{302, false, false, 0},
	}
	for _, c := range cases {
		t.Run(fmt.Sprint(c.status), func(t *testing.T) {
			res := deliver(t, h, "web", &sdk.Request{URL: fmt.Sprintf("%s/%d", rcv.URL, c.status)})
			if res.Status != c.status || res.OK() != c.ok || res.Retryable != c.retry {
				t.Fatalf("got %+v; want status %d ok=%v retryable=%v", res, c.status, c.ok, c.retry)
			}
			if res.RetryAfter < c.retryAfter || (c.retryAfter == 0 && res.RetryAfter != 0) {
				t.Errorf("RetryAfter = %v, want >= %v", res.RetryAfter, c.retryAfter)
			}
			if !c.ok && res.Error == "" {
				t.Errorf("failure without an Error text")
			}
		})
	}
	if redirectedTo.Load() {
		t.Error("the sink followed a redirect")
	}
}

func TestTimeoutIsRetryable(t *testing.T) {
	release := make(chan struct{})
	rcv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		select {
		case <-release:
		case <-r.Context().Done():
		}
	}))
	defer rcv.Close()
	defer close(release)
	h := startHost(t, openPolicy, httpSpec("web"))

	start := time.Now()
	res := deliver(t, h, "web", &sdk.Request{URL: rcv.URL, Timeout: 200 * time.Millisecond})
	if res.Status != 0 || !res.Retryable || !strings.Contains(res.Error, "timed out") {
		t.Fatalf("result %+v, want a retryable timeout", res)
	}
	if el := time.Since(start); el > 3*time.Second {
		t.Errorf("took %v for a 200ms timeout", el)
	}
}

func TestConnectionErrorsAreRetryable(t *testing.T) {
	reset := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		conn, _, err := w.(http.Hijacker).Hijack()
		if err != nil {
			return
		}
		if tc, ok := conn.(*net.TCPConn); ok {
			_ = tc.SetLinger(0) // close with RST
		}
		_ = conn.Close()
	}))
	defer reset.Close()
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	refusedURL := "http://" + ln.Addr().String() + "/"
	_ = ln.Close()
	h := startHost(t, openPolicy, httpSpec("web"))

	for name, url := range map[string]string{"reset": reset.URL, "refused": refusedURL, "dns": "http://no-such-host.invalid/"} {
		t.Run(name, func(t *testing.T) {
			res := deliver(t, h, "web", &sdk.Request{URL: url})
			if res.Status != 0 || !res.Retryable || res.Error == "" {
				t.Fatalf("result %+v, want a retryable connection failure", res)
			}
			t.Logf("%s: %s", name, res.Error)
		})
	}
}

func TestLargeResponseIsTruncated(t *testing.T) {
	const size = 10 << 20
	big := bytes.Repeat([]byte("0123456789abcdef"), size/16)
	rcv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		_, _ = w.Write(big)
	}))
	defer rcv.Close()
	h := startHost(t, openPolicy, httpSpec("web"))

	res := deliver(t, h, "web", &sdk.Request{URL: rcv.URL})
	if !res.OK() || len(res.Body) != sdk.MaxResponseBody || !bytes.Equal(res.Body, big[:sdk.MaxResponseBody]) {
		t.Fatalf("status %d, body %d bytes; want 200 and the first %d bytes", res.Status, len(res.Body), sdk.MaxResponseBody)
	}
}

func TestSSRFGuardRefusesPrivateDestinations(t *testing.T) {
	var hits atomic.Int32
	rcv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) { hits.Add(1) }))
	defer rcv.Close()
	_, port, _ := net.SplitHostPort(strings.TrimPrefix(rcv.URL, "http://"))
	h := startHost(t, host.Options{AllowHTTP: true}, httpSpec("web"))

	urls := []string{
		rcv.URL + "/",                             // 127.0.0.1 literal
		"http://localhost:" + port + "/",          // a name resolving to loopback: the dialler check
		"http://[::ffff:127.0.0.1]:" + port + "/", // IPv4-mapped IPv6
		"http://[::1]:" + port + "/",
		"http://2130706433:" + port + "/", // decimal
		"http://0x7f.0.0.1:" + port + "/", // hex
		"http://0177.0.0.1:" + port + "/", // octal
		"http://127.1:" + port + "/",      // short form
		"http://0:" + port + "/",          // 0.0.0.0 reaches loopback on Linux
		"http://10.0.0.1/", "http://169.254.169.254/latest/meta-data/", "http://100.64.0.1/",
		"http://[fd00::1]/", "http://[fe80::1]/", "http://224.0.0.1/",
	}
	for _, u := range urls {
		t.Run(u, func(t *testing.T) {
			res := deliver(t, h, "web", &sdk.Request{URL: u, Timeout: 2 * time.Second})
			if res.Retryable || res.Status != 0 || !strings.Contains(res.Error, "refused") {
				t.Fatalf("result %+v, want a final refusal", res)
			}
			t.Log(res.Error)
		})
	}
	if n := hits.Load(); n != 0 {
		t.Fatalf("receiver was reached %d times", n)
	}
}

func TestPlainHTTPRefusedUnlessAllowed(t *testing.T) {
	h := startHost(t, host.Options{AllowPrivateNetworks: true}, httpSpec("web"))
	res := deliver(t, h, "web", &sdk.Request{URL: "http://example.com/"})
	if res.Retryable || !strings.Contains(res.Error, "http://") {
		t.Fatalf("result %+v, want a final refusal of plain http", res)
	}
}

// TestConcurrentDeliveries: every result reaches its own caller, with the
// stream unbatched, batched (protocol 3: the sink batches its results
// too) and with a sink that speaks only protocol 2, as one built with an
// older SDK.
func TestConcurrentDeliveries(t *testing.T) {
	batched := openPolicy
	batched.BatchMax, batched.BatchLinger = 8, time.Millisecond
	old := batched
	old.BuiltinCommand = sdktest.CommandProtocol(sdk.ProtocolV2)
	for name, c := range map[string]struct {
		opts     host.Options
		protocol int
	}{"unbatched": {openPolicy, sdk.ProtocolV3}, "batched": {batched, sdk.ProtocolV3}, "protocol_2": {old, sdk.ProtocolV2}} {
		t.Run(name, func(t *testing.T) { concurrentDeliveries(t, c.opts, c.protocol) })
	}
}

func concurrentDeliveries(t *testing.T, opts host.Options, protocol int) {
	rcv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		b, _ := io.ReadAll(r.Body)
		w.Header().Set("X-Echo-Path", r.URL.Path)
		_, _ = w.Write(b)
	}))
	defer rcv.Close()
	h := startHost(t, opts, httpSpec("web"))
	if st := h.Status(); st[0].Protocol != protocol {
		t.Fatalf("the handshake settled on protocol %d, want %d", st[0].Protocol, protocol)
	}

	const n = 200
	var wg sync.WaitGroup
	errs := make(chan string, n)
	for i := range n {
		wg.Add(1)
		go func() {
			defer wg.Done()
			body := fmt.Sprintf(`{"n":%d,"pad":%q}`, i, strings.Repeat("x", i*7))
			res, err := h.Deliver(t.Context(), "web", &sdk.Request{
				ID: fmt.Sprintf("d:%d", i), Method: "POST", URL: fmt.Sprintf("%s/%d", rcv.URL, i),
				Body: []byte(body), Timeout: 20 * time.Second,
			})
			switch {
			case err != nil:
				errs <- err.Error()
			case !res.OK() || string(res.Body) != body || res.Headers["X-Echo-Path"] != fmt.Sprintf("/%d", i):
				errs <- fmt.Sprintf("%d: status %d error %q body %.40q", i, res.Status, res.Error, res.Body)
			}
		}()
	}
	wg.Wait()
	close(errs)
	for e := range errs {
		t.Error(e)
	}
}

// TestSlowRequestDoesNotHoldBackOthers: with batching on, a request that
// stays in flight (a receiver that does not answer) does not keep a
// finished delivery's result from its caller: a result waits at most the
// linger for company.
func TestSlowRequestDoesNotHoldBackOthers(t *testing.T) {
	arrived, release := make(chan struct{}), make(chan struct{})
	rcv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		if r.URL.Path == "/slow" {
			close(arrived)
			<-release
		}
	}))
	defer rcv.Close()
	defer close(release)
	opts := openPolicy
	opts.BatchMax, opts.BatchLinger = 64, 20*time.Millisecond
	h := startHost(t, opts, httpSpec("web"))
	slow := make(chan *sdk.Result, 1)
	go func() { slow <- deliver(t, h, "web", &sdk.Request{URL: rcv.URL + "/slow", Timeout: time.Minute}) }()
	<-arrived
	if res := deliver(t, h, "web", &sdk.Request{URL: rcv.URL + "/fast"}); !res.OK() {
		t.Fatalf("fast delivery: status %d error %q", res.Status, res.Error)
	}
	select {
	case res := <-slow:
		t.Fatalf("the slow delivery finished first: %+v", res)
	default:
	}
}

// TestResultsLargerThanTheWindow: results adding up to more than the
// host's fixed flow-control window, in messages as large as it, all
// arrive whole.
func TestResultsLargerThanTheWindow(t *testing.T) {
	h := startHost(t, openPolicy, host.Spec{Name: "l", Type: "large"})
	const size = sdk.MaxResponseBody // what a result keeps at most
	var wg sync.WaitGroup
	for range 160 { // 10 MiB of results, batches of up to 64 (4 MiB)
		wg.Go(func() {
			res, err := h.Deliver(context.Background(), "l", &sdk.Request{ID: "00000000-0000-0000-0000-000000000000:1", Method: "POST",
				Body: []byte(strconv.Itoa(size)), Timeout: 10 * time.Second})
			if err != nil {
				t.Error(err)
				return
			}
			if !res.OK() || len(res.Body) != size {
				t.Errorf("result of %d bytes, status %d, error %q; want %d bytes", len(res.Body), res.Status, res.Error, size)
			}
		})
	}
	wg.Wait()
}
