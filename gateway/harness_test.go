package gateway

import (
	"context"
	"testing"

	"github.com/hookgate/hookgate/config"
	"github.com/hookgate/hookgate/gateway/gatewaytest"
)

func TestMain(m *testing.M) { gatewaytest.Main(m) }

// testGateway is a running gateway and a client of it (gatewaytest).
type testGateway = gatewaytest.Harness[*Gateway]

// startGateway starts a gateway on cfg; start=false leaves the dispatcher stopped.
func startGateway(t *testing.T, cfg *config.Config, start bool) *testGateway {
	return startGatewayTB(t, cfg, start)
}

func startGatewayTB(t testing.TB, cfg *config.Config, start bool) *testGateway {
	return startGatewayClock(t, cfg, start, gatewaytest.NewManualClock(gatewaytest.T0))
}

// startGatewayClock starts a gateway with the given clock; benchmarks use
// the wall clock so due times spread out as in production. opts change the
// Options (a logger to read, no sink processes).
func startGatewayClock(t testing.TB, cfg *config.Config, start bool, clk Clock, opts ...func(*Options)) *testGateway {
	t.Helper()
	clock, _ := clk.(*gatewaytest.ManualClock)
	o := Options{
		Config: cfg, Clock: clk, BuiltinCommand: gatewaytest.SinkCommand,
		Logger: gatewaytest.Logger(), PollInterval: gatewaytest.PollInterval,
	}
	for _, f := range opts {
		f(&o)
	}
	g, err := New(context.Background(), o)
	if err != nil {
		t.Fatalf("New: %v", err)
	}
	return gatewaytest.Serve(t, g, nil, cfg, clock, start)
}

// startAPIGateway is startGateway, started, with server.public_url set to
// the address it listens on, so pre-signed URLs can be followed.
func startAPIGateway(t *testing.T, cfg *config.Config) *testGateway {
	t.Helper()
	ln := gatewaytest.ListenPublic(t, cfg)
	clock := gatewaytest.NewManualClock(gatewaytest.T0)
	g, err := New(context.Background(), Options{
		Config: cfg, Clock: clock, BuiltinCommand: gatewaytest.SinkCommand, Logger: gatewaytest.Logger(), PollInterval: gatewaytest.PollInterval,
	})
	if err != nil {
		ln.Close()
		t.Fatalf("New: %v", err)
	}
	return gatewaytest.Serve(t, g, ln, cfg, clock, true)
}

// startLogged starts a gateway without sink processes whose log goes to a
// file (gatewaytest.LogFile); the returned func reads what it holds so far.
func startLogged(t *testing.T, cfg *config.Config) (*testGateway, func() string) {
	t.Helper()
	log, logs := gatewaytest.LogFile(t)
	tg := startGatewayClock(t, cfg, false, gatewaytest.NewManualClock(gatewaytest.T0), func(o *Options) {
		o.Logger, o.Sinks = log, gatewaytest.NopSinks{}
	})
	return tg, logs
}
