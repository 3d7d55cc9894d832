// Package exampletest runs an example's own gateway.hcl and payload
// templates in its tests, so that what a new user copies is what is
// tested: Load parses the config, Configure starts the sink from it as the
// gateway would (in-process), Deliver renders an event envelope through a
// webhook's template and delivers the result.
package exampletest

import (
	"context"
	"os"
	"testing"
	"time"

	"github.com/hookgate/hookgate/config"
	"github.com/hookgate/hookgate/plugins/sdk"
	"github.com/hookgate/hookgate/transforms"
)

// Load parses gateway.hcl in the current directory (the example's), with
// env as the whole environment its env() calls see.
func Load(t testing.TB, env map[string]string) *config.Config {
	t.Helper()
	src, err := os.ReadFile("gateway.hcl")
	if err != nil {
		t.Fatal(err)
	}
	cfg, diags := config.Parse("gateway.hcl", src, func(k string) (string, bool) { v, ok := env[k]; return v, ok }, ".")
	if diags.HasErrors() {
		t.Fatal(config.FormatDiagnostics(diags))
	}
	return cfg
}

// Configure configures s from the config's only sink block: its name and
// settings, and the delivery block's network policy.
func Configure(t testing.TB, cfg *config.Config, s sdk.Sink) {
	t.Helper()
	if len(cfg.Sinks) != 1 {
		t.Fatalf("%d sink blocks; the example has one", len(cfg.Sinks))
	}
	if err := s.Configure(context.Background(), sdk.Config{Name: cfg.Sinks[0].Name, Settings: cfg.Sinks[0].Settings,
		AllowHTTP: cfg.Delivery.AllowHTTP, AllowPrivateNetworks: cfg.Delivery.AllowPrivateNetworks}); err != nil {
		t.Fatal(err)
	}
}

// Deliver renders envelope through the webhook's payload template and
// delivers the body to s, failing the test unless the delivery succeeds.
func Deliver(t testing.TB, cfg *config.Config, s sdk.Sink, webhook string, envelope []byte) *sdk.Result {
	t.Helper()
	res, err := s.Deliver(context.Background(), &sdk.Request{ID: "d:1", Body: Render(t, cfg, webhook, envelope), Timeout: 10 * time.Second})
	if err != nil || !res.OK() {
		t.Fatalf("delivery failed: %+v (%v)", res, err)
	}
	return res
}

// Render applies the webhook's payload template to envelope.
func Render(t testing.TB, cfg *config.Config, webhook string, envelope []byte) []byte {
	t.Helper()
	tr, err := transforms.New(transforms.Options{Engine: cfg.Transforms.Engine, Timeout: cfg.Transforms.Timeout, MaxDepth: cfg.Transforms.MaxDepth})
	if err != nil {
		t.Fatal(err)
	}
	for _, w := range cfg.Webhooks {
		if w.Name == webhook {
			p, err := tr.Program(w.Name, 1, w.PayloadTemplate, w.URL)
			if err != nil {
				t.Fatal(err)
			}
			body, _, err := p.Apply(context.Background(), envelope)
			if err != nil {
				t.Fatal(err)
			}
			return body
		}
	}
	t.Fatalf("no webhook %q", webhook)
	return nil
}
