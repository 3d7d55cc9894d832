package api_test

import (
	"context"
	"net"
	"testing"

	"github.com/hookgate/hookgate/config"
	"github.com/hookgate/hookgate/gateway"
	"github.com/hookgate/hookgate/gateway/gatewaytest"
)

// The HTTP tests of the API run the assembled gateway (gatewaytest): real
// Badger, the sinks as subprocesses of this test binary, real HTTP.
func TestMain(m *testing.M) { gatewaytest.Main(m) }

type testGateway = gatewaytest.Harness[*gateway.Gateway]

// serve builds a gateway on cfg with a manual clock at gatewaytest.T0
// (opts change its Options), serves it on ln (nil: a new port) and starts
// delivering when run is set.
func serve(t *testing.T, cfg *config.Config, run bool, ln net.Listener, opts ...func(*gateway.Options)) *testGateway {
	t.Helper()
	clock := gatewaytest.NewManualClock(gatewaytest.T0)
	o := gateway.Options{Config: cfg, Clock: clock, BuiltinCommand: gatewaytest.SinkCommand,
		Logger: gatewaytest.Logger(), PollInterval: gatewaytest.PollInterval}
	for _, f := range opts {
		f(&o)
	}
	g, err := gateway.New(context.Background(), o)
	if err != nil {
		t.Fatalf("gateway.New: %v", err)
	}
	return gatewaytest.Serve(t, g, ln, cfg, clock, run)
}

func startGateway(t *testing.T, cfg *config.Config, run bool) *testGateway {
	return serve(t, cfg, run, nil)
}

// startAPIGateway is startGateway, started, with server.public_url set to
// the address it listens on, so pre-signed URLs can be followed.
func startAPIGateway(t *testing.T, cfg *config.Config) *testGateway {
	return serve(t, cfg, true, gatewaytest.ListenPublic(t, cfg))
}

// startLogged starts a gateway without sink processes whose log goes to a
// file; the returned func reads what it holds so far.
func startLogged(t *testing.T, cfg *config.Config) (*testGateway, func() string) {
	log, logs := gatewaytest.LogFile(t)
	return serve(t, cfg, false, nil, func(o *gateway.Options) { o.Logger, o.Sinks = log, gatewaytest.NopSinks{} }), logs
}
