package main

import (
	"encoding/json"
	"io"
	"net/http"
	"net/http/httptest"
	"os"
	"sync"
	"testing"

	"github.com/hookgate/hookgate/plugins/sdk"
	"github.com/hookgate/hookgate/plugins/sdk/sdktest"
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
// {"error":{"code","message"}}.
type fakeTeams struct {
	mu    sync.Mutex
	next  int
	stall chan struct{}
	cards []map[string]any
	runs  int
}

func (f *fakeTeams) ServeHTTP(w http.ResponseWriter, r *http.Request) {
	f.mu.Lock()
	next, stall := f.next, f.stall
	f.next = 0
	f.mu.Unlock()
	if stall != nil {
		select {
		case <-stall:
		case <-r.Context().Done():
			return
		}
	}
	w.Header().Set("Content-Type", "application/json")
	if r.URL.Query().Get("sig") != sig {
		w.WriteHeader(http.StatusUnauthorized)
		_, _ = io.WriteString(w, `{"error":{"code":"DirectApiAuthorizationRequired","message":"The request must be authenticated."}}`)
		return
	}
	switch next {
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
	var card map[string]any
	if err := json.NewDecoder(r.Body).Decode(&card); err != nil {
		w.WriteHeader(http.StatusBadRequest)
		_, _ = io.WriteString(w, `{"error":{"code":"InvalidRequestContent","message":"The request content is not valid JSON."}}`)
		return
	}
	f.mu.Lock()
	f.cards = append(f.cards, card)
	f.runs++
	run := "08584" + string(rune('0'+f.runs%10)) + "CU00"
	f.mu.Unlock()
	w.Header().Set("x-ms-workflow-run-id", run)
	w.WriteHeader(http.StatusAccepted)
}

func (f *fakeTeams) set(status int) { f.mu.Lock(); f.next = status; f.mu.Unlock() }

func TestConformance(t *testing.T) {
	sdktest.Conformance(t, sdktest.Suite{Sink: "teams", Fake: func(t *testing.T) *sdktest.Fake {
		f := &fakeTeams{}
		srv := httptest.NewServer(f)
		t.Cleanup(srv.Close)
		hook := srv.URL + "/workflows/abc/triggers/manual/paths/invoke?api-version=1&sp=%2Ftriggers%2Fmanual%2Frun&sv=1.0&sig=" + sig
		return &sdktest.Fake{
			Settings: map[string]string{"webhook_url": hook},
			Secrets:  []string{sig},
			Request: func() *sdk.Request {
				return &sdk.Request{Method: "POST", URL: "https://ignored.example", Body: []byte(`{"type":"message","attachments":[]}`)}
			},
			Check: func(t *testing.T, res *sdk.Result) {
				f.mu.Lock()
				defer f.mu.Unlock()
				if res.Status != 202 || len(f.cards) == 0 || f.cards[len(f.cards)-1]["type"] != "message" {
					t.Errorf("status %d, cards %v", res.Status, f.cards)
				}
			},
			FailRetryable: func() { f.set(429) },
			FailFinal:     func() { f.set(400) },
			Stall: func() func() {
				ch := make(chan struct{})
				f.mu.Lock()
				f.stall = ch
				f.mu.Unlock()
				var once sync.Once
				return func() { once.Do(func() { f.mu.Lock(); f.stall = nil; f.mu.Unlock(); close(ch) }) }
			},
			BadSettings: []sdktest.BadConfig{
				{Settings: map[string]string{}, Want: "webhook_url: required"},
				{Settings: map[string]string{"webhook_url": "teams.example/?sig=" + sig}, Want: "webhook_url: must be an https URL"},
				{Settings: map[string]string{"webhook_url": hook, "channel": "x"}, Want: "channel: unknown setting"},
			},
		}
	}})
}
