package main

import (
	"bytes"
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"log/slog"
	"net"
	"net/http"
	"net/url"
	"strconv"
	"strings"
	"sync/atomic"
	"time"

	"github.com/hookgate/hookgate/plugins/sdk"
	"github.com/hookgate/hookgate/plugins/sdk/netguard"
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
	client *http.Client
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
	d := policy.Dialer()
	d.Timeout = 30 * time.Second
	client := &http.Client{
		// No proxy from the environment: it would dial past the guard.
		Transport:     &http.Transport{Proxy: nil, DialContext: d.DialContext, ForceAttemptHTTP2: true, IdleConnTimeout: 90 * time.Second},
		CheckRedirect: func(*http.Request, []*http.Request) error { return http.ErrUseLastResponse },
	}
	s.cfg.Store(&teamsConfig{url: raw, client: client})
	return nil
}

// Deliver posts the card. Teams answers 202 Accepted once the workflow run
// is queued; the run id (x-ms-workflow-run-id) is the external reference.
func (s *teamsSink) Deliver(ctx context.Context, req *sdk.Request) (*sdk.Result, error) {
	cfg := s.cfg.Load()
	if cfg == nil {
		return &sdk.Result{Error: "teams sink used before Configure", Retryable: true}, nil
	}
	if !json.Valid(req.Body) {
		return &sdk.Result{Error: "the payload is not JSON; the webhook's payload_template must build the card message"}, nil
	}
	hreq, err := http.NewRequestWithContext(ctx, http.MethodPost, cfg.url, bytes.NewReader(req.Body))
	if err != nil {
		return &sdk.Result{Error: "invalid webhook_url"}, nil
	}
	hreq.Header.Set("Content-Type", "application/json")
	resp, err := cfg.client.Do(hreq)
	if err != nil {
		return failure(ctx, err), nil
	}
	defer resp.Body.Close()
	body, _ := io.ReadAll(io.LimitReader(resp.Body, sdk.MaxResponseBody))
	res := &sdk.Result{Status: resp.StatusCode, Body: body, ExternalRef: resp.Header.Get("x-ms-workflow-run-id")}
	switch code := resp.StatusCode; {
	case code >= 200 && code < 300:
		slog.DebugContext(ctx, "card posted", "delivery", req.ID, "run", res.ExternalRef)
	case code == 429 || code == 408 || code >= 500:
		res.Error, res.Retryable = "Teams answered "+strconv.Itoa(code)+errorMessage(body), true
		if secs, err := strconv.Atoi(resp.Header.Get("Retry-After")); err == nil && secs > 0 {
			res.RetryAfter = time.Duration(secs) * time.Second
		}
	default:
		res.Error = "Teams answered " + strconv.Itoa(code) + errorMessage(body)
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

// failure classifies a request that got no answer. The *url.Error's text
// would repeat the URL, so only its cause is kept.
func failure(ctx context.Context, err error) *sdk.Result {
	var ue *url.Error
	if errors.As(err, &ue) {
		err = ue.Err
	}
	var ne net.Error
	switch {
	case netguard.IsRefused(err):
		return &sdk.Result{Error: err.Error()}
	case ctx.Err() != nil || (errors.As(err, &ne) && ne.Timeout()):
		return &sdk.Result{Error: "timed out waiting for Teams", Retryable: true}
	}
	return &sdk.Result{Error: "connection to Teams failed: " + err.Error(), Retryable: true}
}
