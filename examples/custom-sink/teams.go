package main

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"log/slog"
	"net/http"
	"net/url"
	"strconv"
	"strings"
	"sync/atomic"

	"github.com/hookgate/hookgate/plugins/sdk"
	"github.com/hookgate/hookgate/plugins/sdk/netguard"
	"github.com/hookgate/hookgate/plugins/sdk/sinkhttp"
)

// teamsSink posts cards to one Teams channel. Its only setting is
// webhook_url, the workflow's "When a Teams webhook request is received"
// URL. That URL carries a signature (sig=...) and is a credential: it never
// appears in an error or a log line.
type teamsSink struct {
	cfg atomic.Pointer[teamsConfig]
}

type teamsConfig struct {
	url    string
	client *sinkhttp.Client
}

func newTeamsSink() *teamsSink { return &teamsSink{} }

// Configure validates webhook_url against the gateway's network policy.
func (s *teamsSink) Configure(_ context.Context, cfg sdk.Config) error {
	for k := range cfg.Settings {
		if k != "webhook_url" {
			return fmt.Errorf("%s: unknown setting (the teams sink takes webhook_url only)", k)
		}
	}
	raw := cfg.Settings["webhook_url"]
	if raw == "" {
		return errors.New("webhook_url: required (the URL of the Teams workflow's webhook trigger)")
	}
	u, err := url.Parse(raw)
	if err != nil || u.Host == "" || (u.Scheme != "https" && u.Scheme != "http") {
		return errors.New("webhook_url: must be an https URL") // the value itself is secret
	}
	policy := netguard.Policy{AllowHTTP: cfg.AllowHTTP, AllowPrivateNetworks: cfg.AllowPrivateNetworks}
	if err := policy.CheckURL(u); err != nil {
		return fmt.Errorf("webhook_url: %v", err)
	}
	// sinkhttp dials through the policy's guard, never through a proxy,
	// never follows a redirect, caps the answer and keeps the URL (a
	// credential) out of its errors.
	s.cfg.Store(&teamsConfig{url: raw, client: sinkhttp.New(sinkhttp.Options{Policy: policy, Service: "Teams"})})
	return nil
}

// Deliver posts the card. Teams answers 202 Accepted once the workflow run
// is queued; the run id (x-ms-workflow-run-id) is the external reference.
// 429 (with Retry-After), 408 and 5xx are retryable, other failures final.
func (s *teamsSink) Deliver(ctx context.Context, req *sdk.Request) (*sdk.Result, error) {
	cfg := s.cfg.Load()
	if cfg == nil {
		return &sdk.Result{Error: "teams sink used before Configure", Retryable: true}, nil
	}
	if !json.Valid(req.Body) {
		return &sdk.Result{Error: "the payload is not JSON; the webhook's payload_template must build the card message"}, nil
	}
	resp, res := cfg.client.Do(ctx, &sinkhttp.Request{Method: http.MethodPost, URL: cfg.url,
		Header: http.Header{"Content-Type": {"application/json"}}, Body: req.Body})
	if res != nil {
		return res, nil // no answer: already classified
	}
	res = cfg.client.Result(resp, "")
	res.ExternalRef = resp.Header.Get("x-ms-workflow-run-id")
	if res.OK() {
		slog.DebugContext(ctx, "card posted", "delivery", req.ID, "run", res.ExternalRef)
	} else {
		res.Error = "Teams answered " + strconv.Itoa(resp.Status) + errorMessage(resp.Body)
	}
	return res, nil
}

// errorMessage reads the workflow endpoint's {"error":{"code","message"}}.
func errorMessage(body []byte) string {
	var e struct {
		Error struct{ Code, Message string } `json:"error"`
	}
	if json.Unmarshal(body, &e) != nil || e.Error.Code == "" {
		return ""
	}
	return ": " + strings.TrimSpace(e.Error.Code+": "+e.Error.Message)
}
