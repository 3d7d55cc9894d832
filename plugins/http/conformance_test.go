package httpsink

import (
	"net/http"
	"os"
	"testing"

	"github.com/hookgate/hookgate/plugins/sdk"
	"github.com/hookgate/hookgate/plugins/sdk/sdktest"
	"github.com/hookgate/hookgate/plugins/sdk/sdktest/fakeserver"
)

// TestMain doubles as the sink process Conformance starts.
func TestMain(m *testing.M) {
	sdktest.ServeIfChild(map[string]sdk.Sink{"http": New()})
	os.Exit(m.Run())
}

// receiver is a webhook receiver that can be told to fail (a fault is the
// status of the next answer) or to stall. It records the bodies it gets.
type receiver struct {
	fakeserver.Server[string, int]
}

func (r *receiver) ServeHTTP(w http.ResponseWriter, req *http.Request) {
	if _, ok := r.Receive(req, func(b []byte) string { return string(b) }); !ok {
		return
	}
	if req.Header.Get("Authorization") != "Bearer rcv-token-7Hq" {
		w.WriteHeader(http.StatusUnauthorized)
		return
	}
	status, _ := r.NextFault()
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
		rcv.Start(rcv)
		t.Cleanup(rcv.Close)
		return &sdktest.Fake{
			Settings: nil,
			// The webhook URL's token and the custom Authorization header
			// are the webhook owner's credentials.
			Secrets: []string{"url-token-Pz4", "rcv-token-7Hq"},
			Request: func() *sdk.Request {
				return &sdk.Request{Method: "POST", URL: rcv.URL + "/hook?token=url-token-Pz4",
					Headers: map[string]string{"Authorization": "Bearer rcv-token-7Hq"}, Body: []byte(`{"a":1}`)}
			},
			Check: func(t *testing.T, res *sdk.Result) {
				if got := rcv.Requests(); len(got) == 0 || got[len(got)-1] != `{"a":1}` {
					t.Errorf("received %q", got)
				}
			},
			FailRetryable: func() { rcv.Fail(http.StatusServiceUnavailable) },
			FailFinal:     func() { rcv.Fail(http.StatusUnprocessableEntity) },
			Stall:         rcv.Stall,
			BadSettings:   []sdktest.BadConfig{{Settings: map[string]string{"url": "x"}, Want: `unknown setting "url"`}},
		}
	}})
}
