package config

import "testing"

// TestTelemetryDecode: the block's attributes land in Config.Telemetry,
// env() included; without the block tracing is off with the defaults.
func TestTelemetryDecode(t *testing.T) {
	cfg := mustParse(t, `
telemetry {
  otlp_endpoint = "http://127.0.0.1:4318"
  headers       = { "x-api-key" = env("OTLP_KEY") }
  sample_ratio  = 0.25
  service_name  = "edge"
  trace_url     = "https://traces.example.com/trace/{trace_id}"
}
`, map[string]string{"OTLP_KEY": "k1"})
	tel := cfg.Telemetry
	if !tel.Enabled() || tel.OTLPEndpoint != "http://127.0.0.1:4318" || tel.Headers["x-api-key"] != "k1" ||
		tel.SampleRatio != 0.25 || tel.ServiceName != "edge" || tel.TraceURL != "https://traces.example.com/trace/{trace_id}" {
		t.Errorf("Telemetry = %+v", tel)
	}
	def := mustParse(t, ``, nil).Telemetry
	if def.Enabled() || def.SampleRatio != 1 || def.ServiceName != "hookgate" {
		t.Errorf("default Telemetry = %+v, want off, ratio 1, service hookgate", def)
	}
}

func TestTelemetryDiagnostics(t *testing.T) {
	_, diags := parse(t, `
telemetry {
  otlp_endpoint = "127.0.0.1:4318"
  sample_ratio  = 1.5
  service_name  = ""
  trace_url     = "https://traces.example.com/trace/"
}
`, nil)
	expectDiags(t, diags,
		`t.hcl:3:3: invalid telemetry.otlp_endpoint "127.0.0.1:4318"`,
		`t.hcl:4:3: invalid telemetry.sample_ratio: 1.5`,
		`t.hcl:5:3: empty telemetry.service_name`,
		`t.hcl:6:3: invalid telemetry.trace_url`,
	)
}
