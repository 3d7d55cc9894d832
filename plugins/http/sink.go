// Package httpsink is the built-in HTTP sink: it sends each delivery as an
// HTTP request to the webhook's URL and classifies the answer.
//
// It takes no settings. It honours the gateway's network policy: https only
// unless AllowHTTP, and no connection to non-public addresses unless
// AllowPrivateNetworks (checked on the address actually dialled). Redirects
// are never followed: a 3xx is a final failure, because following one would
// send the signed payload somewhere the webhook's owner did not name.
package httpsink

import (
	"context"
	"fmt"
	"slices"
	"strings"
	"sync/atomic"

	"github.com/hookgate/hookgate/plugins/sdk"
	"github.com/hookgate/hookgate/plugins/sdk/netguard"
	"github.com/hookgate/hookgate/plugins/sdk/sinkhttp"
)

// Sink is the HTTP sink. The zero value is not usable; call New.
type Sink struct {
	// state is replaced as a whole by Configure so that Deliver, which
	// runs concurrently, never sees half a configuration.
	state atomic.Pointer[state]
}

type state struct {
	policy netguard.Policy
	client *sinkhttp.Client
}

var _ sdk.Sink = (*Sink)(nil)

// New returns an unconfigured HTTP sink.
func New() *Sink { return &Sink{} }

// Configure accepts no settings; any setting is an error naming it, so a
// typo in gateway.hcl does not pass silently.
func (s *Sink) Configure(_ context.Context, cfg sdk.Config) error {
	if len(cfg.Settings) > 0 {
		names := make([]string, 0, len(cfg.Settings))
		for k := range cfg.Settings {
			names = append(names, fmt.Sprintf("%q", k))
		}
		slices.Sort(names)
		return fmt.Errorf("unknown setting %s: the http sink takes no settings", strings.Join(names, ", "))
	}
	p := netguard.Policy{AllowHTTP: cfg.AllowHTTP, AllowPrivateNetworks: cfg.AllowPrivateNetworks}
	old := s.state.Swap(&state{policy: p, client: newClient(p)})
	if old != nil {
		old.client.CloseIdleConnections()
	}
	return nil
}

// Deliver sends one attempt. Every failure is reported in the Result; the
// error is always nil.
func (s *Sink) Deliver(ctx context.Context, req *sdk.Request) (*sdk.Result, error) {
	return sinkhttp.Attempt(ctx, req.Timeout, func(ctx context.Context) *sdk.Result { return s.deliver(ctx, req) }), nil
}

func (s *Sink) deliver(ctx context.Context, req *sdk.Request) *sdk.Result {
	st := s.state.Load()
	if st == nil {
		return &sdk.Result{Error: "http sink used before Configure", Retryable: true}
	}
	u, err := st.client.ParseURL(req.URL)
	if err != nil {
		return final("invalid URL: %v", sinkhttp.StripURL(err))
	}
	if err := st.policy.CheckURL(u); err != nil {
		return final("%v", err)
	}
	if err := checkHeaders(req.Headers); err != nil {
		return final("%v", err)
	}
	return send(ctx, st.client, req)
}

func final(format string, args ...any) *sdk.Result {
	return &sdk.Result{Error: fmt.Sprintf(format, args...)}
}
