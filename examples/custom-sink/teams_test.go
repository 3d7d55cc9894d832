package main

import (
	"encoding/json"
	"io"
	"net/http"
	"os"
	"sync/atomic"
	"testing"

	"github.com/hookgate/hookgate/plugins/sdk"
	"github.com/hookgate/hookgate/plugins/sdk/sdktest"
	"github.com/hookgate/hookgate/plugins/sdk/sdktest/fakeserver"
)

// TestMain doubles as the sink process the conformance suite starts.
func TestMain(m *testing.M) {
	sdktest.ServeIfChild(map[string]sdk.Sink{"teams": newTeamsSink()})
	os.Exit(m.Run())
}

const sig = "Zq8xN2vLr5TtYw0ab"

// fakeTeams is a Teams workflow webhook trigger: POST
// /workflows/{id}/triggers/manual/paths/invoke?...&sig=..., 202 Accepted
// with x-ms-workflow-run-id, 401 for a wrong signature, error bodies
// {"error":{"code","message"}}. It records the bodies it receives; a fault
// is the status of the next answer.
type fakeTeams struct {
	fakeserver.Server[[]byte, int]
	runs atomic.Int32
}

func (f *fakeTeams) ServeHTTP(w http.ResponseWriter, r *http.Request) {
	body, ok := f.Receive(r, func(b []byte) []byte { return b })
	if !ok {
		return
	}
	w.Header().Set("Content-Type", "application/json")
	if r.URL.Query().Get("sig") != sig {
		w.WriteHeader(http.StatusUnauthorized)
		_, _ = io.WriteString(w, `{"error":{"code":"DirectApiAuthorizationRequired","message":"The request must be authenticated."}}`)
		return
	}
	switch next, _ := f.NextFault(); next {
	case 0:
	case 429:
		w.Header().Set("Retry-After", "7")
		w.WriteHeader(429)
		_, _ = io.WriteString(w, `{"error":{"code":"WorkflowTriggerIsThrottled","message":"The workflow trigger is throttled."}}`)
		return
	default:
		w.WriteHeader(next)
		_, _ = io.WriteString(w, `{"error":{"code":"InvalidRequestContent","message":"The request content is not valid."}}`)
		return
	}
	if !json.Valid(body) {
		w.WriteHeader(http.StatusBadRequest)
		_, _ = io.WriteString(w, `{"error":{"code":"InvalidRequestContent","message":"The request content is not valid JSON."}}`)
		return
	}
	w.Header().Set("x-ms-workflow-run-id", "08584"+string(rune('0'+f.runs.Add(1)%10))+"CU00")
	w.WriteHeader(http.StatusAccepted)
}

func TestConformance(t *testing.T) {
	sdktest.Conformance(t, sdktest.Suite{Sink: "teams", Fake: func(t *testing.T) *sdktest.Fake {
		f := &fakeTeams{}
		f.Start(f)
		t.Cleanup(f.Close)
		hook := f.URL + "/workflows/abc/triggers/manual/paths/invoke?api-version=1&sp=%2Ftriggers%2Fmanual%2Frun&sv=1.0&sig=" + sig
		return &sdktest.Fake{
			Settings: map[string]string{"webhook_url": hook},
			Secrets:  []string{sig},
			Request: func() *sdk.Request {
				return &sdk.Request{Method: "POST", URL: "https://ignored.example", Body: []byte(`{"type":"message","attachments":[]}`)}
			},
			Check: func(t *testing.T, res *sdk.Result) {
				var card map[string]any
				if got := f.Requests(); len(got) > 0 {
					_ = json.Unmarshal(got[len(got)-1], &card)
				}
				if res.Status != 202 || card["type"] != "message" {
					t.Errorf("status %d, last card %v", res.Status, card)
				}
			},
			FailRetryable: func() { f.Fail(429) },
			FailFinal:     func() { f.Fail(400) },
			Stall:         f.Stall,
			BadSettings: []sdktest.BadConfig{
				{Settings: map[string]string{}, Want: "webhook_url: required"},
				{Settings: map[string]string{"webhook_url": "teams.example/?sig=" + sig}, Want: "webhook_url: must be an https URL"},
				{Settings: map[string]string{"webhook_url": hook, "channel": "x"}, Want: "channel: unknown setting"},
			},
		}
	}})
}
