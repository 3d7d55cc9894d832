// The example's config and template, run against the fake instance: what a
// new user copies must work.
package servicenow_test

import (
	"os"
	"strings"
	"testing"

	"github.com/hookgate/hookgate/examples/internal/exampletest"
	"github.com/hookgate/hookgate/plugins/servicenow"
	"github.com/hookgate/hookgate/plugins/servicenow/snowfake"
)

func TestExampleUpsertsTheIncident(t *testing.T) {
	fake := snowfake.New(snowfake.Options{Username: "integration", Password: "user-password", ClientID: "hookgate-app", ClientSecret: "app-secret"})
	defer fake.Close()
	cfg := exampletest.Load(t, map[string]string{
		"HOOKGATE_ALLOW_HTTP": "true", "HOOKGATE_ALLOW_PRIVATE_NETWORKS": "true", "HOOKGATE_CLIENT_SECRET": "s",
		"SNOW_INSTANCE_URL": fake.URL, "SNOW_CLIENT_ID": "hookgate-app", "SNOW_CLIENT_SECRET": "app-secret",
		"SNOW_USER": "integration", "SNOW_PASSWORD": "user-password",
	})
	if len(cfg.Sinks) != 1 || cfg.Sinks[0].Type != "servicenow" || cfg.Webhooks[0].Sink != "snow" {
		t.Fatalf("sinks %+v", cfg.Sinks)
	}
	sink := servicenow.New()
	exampletest.Configure(t, cfg, sink)
	seed, err := os.ReadFile("workorder-envelope.json")
	if err != nil {
		t.Fatal(err)
	}
	first := exampletest.Deliver(t, cfg, sink, "snow-incidents", seed)
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
	second := exampletest.Deliver(t, cfg, sink, "snow-incidents", []byte(done))
	if second.ExternalRef != first.ExternalRef || fake.Records("incident")[first.ExternalRef]["state"] != "6" || len(fake.Records("incident")) != 1 {
		t.Fatalf("second delivery %+v; records %v", second, fake.Records("incident"))
	}
}
