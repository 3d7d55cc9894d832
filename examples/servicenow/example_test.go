// The example's config and template, run against the fake instance: what a
// new user copies must work.
package servicenow_test

import (
	"context"
	"os"
	"strings"
	"testing"
	"time"

	"github.com/hookgate/hookgate/config"
	"github.com/hookgate/hookgate/plugins/sdk"
	"github.com/hookgate/hookgate/plugins/servicenow"
	"github.com/hookgate/hookgate/plugins/servicenow/snowfake"
	"github.com/hookgate/hookgate/transforms"
)

func load(t *testing.T, instance string) *config.Config {
	t.Helper()
	src, err := os.ReadFile("gateway.hcl")
	if err != nil {
		t.Fatal(err)
	}
	env := map[string]string{
		"HOOKGATE_ALLOW_HTTP": "true", "HOOKGATE_ALLOW_PRIVATE_NETWORKS": "true", "HOOKGATE_CLIENT_SECRET": "s",
		"SNOW_INSTANCE_URL": instance, "SNOW_CLIENT_ID": "hookgate-app", "SNOW_CLIENT_SECRET": "app-secret",
		"SNOW_USER": "integration", "SNOW_PASSWORD": "user-password",
	}
	cfg, diags := config.Parse("gateway.hcl", src, func(k string) (string, bool) { v, ok := env[k]; return v, ok }, ".")
	if diags.HasErrors() {
		t.Fatal(config.FormatDiagnostics(diags))
	}
	return cfg
}

// render applies the webhook's payload template to an envelope.
func render(t *testing.T, cfg *config.Config, webhook string, envelope []byte) []byte {
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

func TestExampleUpsertsTheIncident(t *testing.T) {
	fake := snowfake.New(snowfake.Options{Username: "integration", Password: "user-password", ClientID: "hookgate-app", ClientSecret: "app-secret"})
	defer fake.Close()
	cfg := load(t, fake.URL)
	if len(cfg.Sinks) != 1 || cfg.Sinks[0].Type != "servicenow" || cfg.Webhooks[0].Sink != "snow" {
		t.Fatalf("sinks %+v", cfg.Sinks)
	}
	sink := servicenow.New()
	if err := sink.Configure(context.Background(), sdk.Config{Name: "snow", Settings: cfg.Sinks[0].Settings,
		AllowHTTP: cfg.Delivery.AllowHTTP, AllowPrivateNetworks: cfg.Delivery.AllowPrivateNetworks}); err != nil {
		t.Fatal(err)
	}
	seed, err := os.ReadFile("workorder-envelope.json")
	if err != nil {
		t.Fatal(err)
	}
	deliver := func(envelope []byte) *sdk.Result {
		res, _ := sink.Deliver(context.Background(), &sdk.Request{ID: "d:1", Body: render(t, cfg, "snow-incidents", envelope), Timeout: 10 * time.Second})
		if !res.OK() {
			t.Fatalf("delivery failed: %+v", res)
		}
		return res
	}
	first := deliver(seed)
	rec := fake.Records("incident")[first.ExternalRef]
	want := map[string]string{
		"correlation_id": "12345", "u_external_ticket_id": "12345", "short_description": "Router Installation - Site 42",
		"state": "2", "u_client_company": "Acme Corporation", "u_technician": "", "correlation_display": "Field Nation",
		"work_notes": "Field Nation: workorder.status.published (status Published) at 2026-01-20T08:55:58-06:00",
	}
	for k, v := range want {
		if rec[k] != v {
			t.Errorf("%s = %q, want %q", k, rec[k], v)
		}
	}
	// The same work order, now done: the same incident is updated.
	done := strings.Replace(string(seed), `"name": "Published"`, `"name": "Work Done"`, 1)
	second := deliver([]byte(done))
	if second.ExternalRef != first.ExternalRef || fake.Records("incident")[first.ExternalRef]["state"] != "6" || len(fake.Records("incident")) != 1 {
		t.Fatalf("second delivery %+v; records %v", second, fake.Records("incident"))
	}
}
