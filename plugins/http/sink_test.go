package httpsink

import (
	"context"
	"io"
	"net/http"
	"net/http/httptest"
	"strings"
	"sync/atomic"
	"testing"
	"time"

	"github.com/hookgate/hookgate/plugins/sdk"
)

func configured(t *testing.T, cfg sdk.Config) *Sink {
	t.Helper()
	s := New()
	if err := s.Configure(context.Background(), cfg); err != nil {
		t.Fatal(err)
	}
	return s
}

func TestConfigureRejectsUnknownSettings(t *testing.T) {
	err := New().Configure(context.Background(), sdk.Config{Settings: map[string]string{"zeta": "1", "alpha": "2"}})
	if err == nil || err.Error() != `unknown setting "alpha", "zeta": the http sink takes no settings` {
		t.Fatalf("err = %v", err)
	}
}

func TestUnconfiguredIsRetryable(t *testing.T) {
	res, _ := New().Deliver(context.Background(), &sdk.Request{URL: "https://example.com"})
	if !res.Retryable {
		t.Fatalf("%+v", res)
	}
}

// TestEndlessBodyIsBounded: a receiver that never stops sending must cost
// 64 KiB plus the bounded drain, not the whole stream.
func TestEndlessBodyIsBounded(t *testing.T) {
	var written atomic.Int64
	rcv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		chunk := []byte(strings.Repeat("z", 32<<10))
		for written.Load() < 1<<30 {
			n, err := w.Write(chunk)
			written.Add(int64(n))
			if err != nil {
				return
			}
		}
	}))
	defer rcv.Close()
	s := configured(t, sdk.Config{AllowHTTP: true, AllowPrivateNetworks: true})
	res, _ := s.Deliver(context.Background(), &sdk.Request{Method: "GET", URL: rcv.URL, Timeout: 10 * time.Second})
	if !res.OK() || len(res.Body) != sdk.MaxResponseBody {
		t.Fatalf("status %d, %d body bytes, error %q", res.Status, len(res.Body), res.Error)
	}
	if w := written.Load(); w >= 1<<30 {
		t.Fatalf("the sink read the whole stream (%d bytes)", w)
	}
}

func TestInvalidRequestsAreFinal(t *testing.T) {
	s := configured(t, sdk.Config{AllowHTTP: true, AllowPrivateNetworks: true})
	for name, req := range map[string]*sdk.Request{
		"bad url":          {Method: "POST", URL: "http://[::1"},
		"bad method":       {Method: "PO ST", URL: "http://127.0.0.1:1/"},
		"bad header name":  {Method: "POST", URL: "http://127.0.0.1:1/", Headers: map[string]string{"X Bad": "v"}},
		"bad header value": {Method: "POST", URL: "http://127.0.0.1:1/", Headers: map[string]string{"X-Ok": "a\r\nInjected: 1"}},
	} {
		res, _ := s.Deliver(context.Background(), req)
		if res.Retryable || res.Error == "" {
			t.Errorf("%s: %+v, want a final failure", name, res)
		}
	}
}

func TestDialGuardRefusesNameResolvingToLoopback(t *testing.T) {
	var hit atomic.Bool
	rcv := httptest.NewServer(http.HandlerFunc(func(http.ResponseWriter, *http.Request) { hit.Store(true) }))
	defer rcv.Close()
	s := configured(t, sdk.Config{AllowHTTP: true})
	url := strings.Replace(rcv.URL, "127.0.0.1", "localhost", 1)
	res, _ := s.Deliver(context.Background(), &sdk.Request{Method: "POST", URL: url, Timeout: 5 * time.Second})
	if res.Retryable || !strings.Contains(res.Error, "refused") || hit.Load() {
		t.Fatalf("%+v (receiver hit: %v)", res, hit.Load())
	}
}

func TestErrorsDoNotLeakTheURL(t *testing.T) {
	s := configured(t, sdk.Config{AllowHTTP: true, AllowPrivateNetworks: true})
	res, _ := s.Deliver(context.Background(), &sdk.Request{Method: "POST", URL: "http://127.0.0.1:1/hook?token=s3cret", Timeout: 5 * time.Second})
	if !res.Retryable || strings.Contains(res.Error, "s3cret") {
		t.Fatalf("%+v", res)
	}
}

func TestRedirectIsReturnedAsIs(t *testing.T) {
	rcv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		if r.URL.Path == "/" {
			http.Redirect(w, r, "/moved", http.StatusMovedPermanently)
			return
		}
		_, _ = io.WriteString(w, "followed")
	}))
	defer rcv.Close()
	s := configured(t, sdk.Config{AllowHTTP: true, AllowPrivateNetworks: true})
	res, _ := s.Deliver(context.Background(), &sdk.Request{Method: "POST", URL: rcv.URL + "/", Timeout: 5 * time.Second})
	if res.Status != 301 || res.Retryable || !strings.Contains(res.Error, "/moved") {
		t.Fatalf("%+v", res)
	}
}
