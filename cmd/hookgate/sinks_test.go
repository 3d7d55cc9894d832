package main

import (
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"testing"

	"github.com/hookgate/hookgate/plugins/servicenow/snowfake"
)

const sinkConfig = `
delivery {
  allow_http             = true
  allow_private_networks = true
}
sink "snow" {
  type      = "servicenow"
  companies = [100]
  config    = {
    instance_url      = "%s"
    table             = "incident"
    correlation_field = "correlation_id"
    auth              = "basic"
    username          = "hookgate"
    password          = env("SNOW_PASSWORD")
  }
}
webhook "snow-incidents" {
  company_id       = 100
  url              = "https://acme.service-now.com/"
  events           = ["workorder.created"]
  payload_template = "{\"correlation_id\": $string(workorder.id), \"short_description\": workorder.title}"
  sink             = "snow"
}
`

func writeConfig(t *testing.T, instance string) string {
	t.Helper()
	p := filepath.Join(t.TempDir(), "gateway.hcl")
	if err := os.WriteFile(p, []byte(strings.Replace(sinkConfig, "%s", instance, 1)), 0o600); err != nil {
		t.Fatal(err)
	}
	return p
}

func hookgate(t *testing.T, env []string, args ...string) (string, int) {
	t.Helper()
	cmd := exec.Command(binary, args...)
	cmd.Env = append(os.Environ(), env...)
	out, err := cmd.CombinedOutput()
	code := 0
	if ee, ok := err.(*exec.ExitError); ok {
		code = ee.ExitCode()
	} else if err != nil {
		t.Fatal(err)
	}
	return string(out), code
}

// The sink's own Configure judges its settings, reported at the block.
func TestValidateRunsTheSinksOwnCheck(t *testing.T) {
	p := writeConfig(t, "https://acme.service-now.com")
	out, code := hookgate(t, nil, "validate", p) // SNOW_PASSWORD unset
	if code != 1 || !strings.Contains(out, p+`:6:1: sink "snow": password: required when auth = "basic"`) {
		t.Fatalf("exit %d, output:\n%s", code, out)
	}
	if out, code := hookgate(t, []string{"SNOW_PASSWORD=pw-9Kd"}, "validate", p); code != 0 || strings.Contains(out, "pw-9Kd") {
		t.Fatalf("exit %d, output:\n%s", code, out)
	}
	if out, code := hookgate(t, nil, "validate", "--offline", p); code != 0 {
		t.Fatalf("--offline: exit %d, output:\n%s", code, out)
	}
}

func TestSinkTestSendsOneDelivery(t *testing.T) {
	fake := snowfake.New(snowfake.Options{Username: "hookgate", Password: "pw-9Kd"})
	defer fake.Close()
	p := writeConfig(t, fake.URL)
	envelope := filepath.Join(t.TempDir(), "envelope.json")
	_ = os.WriteFile(envelope, []byte(`{"workorder":{"id":77,"title":"Fix the router"}}`), 0o600)
	out, code := hookgate(t, []string{"SNOW_PASSWORD=pw-9Kd"}, "sink", "test", "snow", "--config", p, "--payload", envelope, "--webhook", "snow-incidents")
	if code != 0 || !strings.Contains(out, "result:       ok") || !strings.Contains(out, "status:       201") {
		t.Fatalf("exit %d, output:\n%s", code, out)
	}
	recs := fake.Records("incident")
	if len(recs) != 1 {
		t.Fatalf("records %v", recs)
	}
	for id, r := range recs {
		if r["correlation_id"] != "77" || r["short_description"] != "Fix the router" || !strings.Contains(out, "external ref: "+id) {
			t.Fatalf("record %v; output:\n%s", r, out)
		}
	}
	out, _ = hookgate(t, []string{"SNOW_PASSWORD=pw-9Kd"}, "sink", "list", "--config", p)
	if !strings.Contains(out, "snow             type servicenow; settings: auth, correlation_field, instance_url, password, table, username; used by companies 100") || strings.Contains(out, "pw-9Kd") {
		t.Fatalf("sink list:\n%s", out)
	}
}
