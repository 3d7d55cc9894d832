package httpsink

import (
	"io"
	"net/http"
	"net/http/httptest"
	"os"
	"sync"
	"testing"

	"github.com/hookgate/hookgate/plugins/sdk"
	"github.com/hookgate/hookgate/plugins/sdk/sdktest"
)

// TestMain doubles as the sink process Conformance starts.
func TestMain(m *testing.M) {
	sdktest.ServeIfChild(map[string]sdk.Sink{"http": New()})
	os.Exit(m.Run())
}

// receiver is a webhook receiver that can be told to fail or stall.
type receiver struct {
	mu    sync.Mutex
	next  int           // status for the next request; 0 = 200
	stall chan struct{} // non-nil: wait for it
	got   []string      // bodies received
}

func (r *receiver) ServeHTTP(w http.ResponseWriter, req *http.Request) {
	r.mu.Lock()
	status, stall := r.next, r.stall
	r.next = 0
	r.mu.Unlock()
	if stall != nil {
		select {
		case <-stall:
		case <-req.Context().Done():
			return
		}
	}
	if req.Header.Get("Authorization") != "Bearer rcv-token-7Hq" {
		w.WriteHeader(http.StatusUnauthorized)
		return
	}
	b, _ := io.ReadAll(req.Body)
	r.mu.Lock()
	r.got = append(r.got, string(b))
	r.mu.Unlock()
	if status == 0 {
		w.Header().Set("X-Request-Id", "rcv-42")
		status = http.StatusOK
	}
	w.WriteHeader(status)
}

func TestConformance(t *testing.T) {
	// A plain HTTP receiver has no record id to return.
	sdktest.Conformance(t, sdktest.Suite{Sink: "http", NoExternalRef: true, Fake: func(t *testing.T) *sdktest.Fake {
		rcv := &receiver{}
		srv := httptest.NewServer(rcv)
		t.Cleanup(srv.Close)
		return &sdktest.Fake{
			Settings: nil,
			// The webhook URL's token and the custom Authorization header
			// are the webhook owner's credentials.
			Secrets: []string{"url-token-Pz4", "rcv-token-7Hq"},
			Request: func() *sdk.Request {
				return &sdk.Request{Method: "POST", URL: srv.URL + "/hook?token=url-token-Pz4",
					Headers: map[string]string{"Authorization": "Bearer rcv-token-7Hq"}, Body: []byte(`{"a":1}`)}
			},
			Check: func(t *testing.T, res *sdk.Result) {
				rcv.mu.Lock()
				defer rcv.mu.Unlock()
				if len(rcv.got) == 0 || rcv.got[len(rcv.got)-1] != `{"a":1}` {
					t.Errorf("received %q", rcv.got)
				}
			},
			FailRetryable: func() { rcv.mu.Lock(); rcv.next = http.StatusServiceUnavailable; rcv.mu.Unlock() },
			FailFinal:     func() { rcv.mu.Lock(); rcv.next = http.StatusUnprocessableEntity; rcv.mu.Unlock() },
			Stall: func() func() {
				ch := make(chan struct{})
				rcv.mu.Lock()
				rcv.stall = ch
				rcv.mu.Unlock()
				var once sync.Once
				return func() {
					once.Do(func() { rcv.mu.Lock(); rcv.stall = nil; rcv.mu.Unlock(); close(ch) })
				}
			},
			BadSettings: []sdktest.BadConfig{{Settings: map[string]string{"url": "x"}, Want: `unknown setting "url"`}},
		}
	}})
}
