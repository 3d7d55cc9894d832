package config

import (
	"testing"
	"time"
)

func TestAPIBlockDefaults(t *testing.T) {
	d := Defaults()
	checks := []struct {
		name      string
		got, want any
	}{
		{"api.rate_limit", d.API.RateLimit, 100},
		{"api.rate_burst", d.API.RateBurst, 20},
		{"api.per_page", d.API.PerPage, 25},
		{"api.max_per_page", d.API.MaxPerPage, 500},
		{"api.log_per_page", d.API.LogPerPage, 50},
		{"smtp.port", d.SMTP.Port, 587},
		{"smtp.tls", d.SMTP.TLS, "starttls"},
		{"smtp.timeout", d.SMTP.Timeout, 10 * time.Second},
		{"lifecycle.auto_deactivate_after", d.Lifecycle.AutoDeactivateAfter, 168 * time.Hour},
		{"lifecycle.check_interval", d.Lifecycle.CheckInterval, time.Hour},
		{"delivery_log.presign_ttl", d.DeliveryLog.PresignTTL, 15 * time.Minute},
	}
	for _, c := range checks {
		if c.got != c.want {
			t.Errorf("%s = %v, want %v", c.name, c.got, c.want)
		}
	}
}

func TestAPIBlocksDecode(t *testing.T) {
	cfg := mustParse(t, `
api {
  rate_limit = 10
  rate_burst = 2
}
smtp {
  host     = "127.0.0.1"
  port     = 2525
  from     = "hookgate@example.com"
  tls      = "none"
}
lifecycle { auto_deactivate_after = "0s" }
`, nil)
	if cfg.API.RateLimit != 10 || cfg.API.RateBurst != 2 || cfg.API.PerPage != 25 {
		t.Errorf("api = %+v", cfg.API)
	}
	if cfg.SMTP.Host != "127.0.0.1" || cfg.SMTP.Port != 2525 || cfg.SMTP.TLS != "none" || cfg.SMTP.Timeout != 10*time.Second {
		t.Errorf("smtp = %+v", cfg.SMTP)
	}
	if cfg.Lifecycle.AutoDeactivateAfter != 0 || cfg.Lifecycle.CheckInterval != time.Hour {
		t.Errorf("lifecycle = %+v (0s disables auto-deactivation)", cfg.Lifecycle)
	}
}

func TestSMTPWithoutHostSendsNothing(t *testing.T) {
	cfg := mustParse(t, "smtp {\n  host = env(\"SMTP_HOST\")\n  username = env(\"U\")\n}\n", nil)
	if cfg.SMTP.Host != "" {
		t.Errorf("host = %q", cfg.SMTP.Host)
	}
}

func TestAPIBlocksDiagnostics(t *testing.T) {
	cases := []struct {
		name string
		src  string
		env  map[string]string
		want []string
	}{
		{"rate_limit zero", "api {\n  rate_limit = 0\n}\n", nil,
			[]string{"t.hcl:2:3: invalid api.rate_limit: 0: must be at least 1"}},
		{"burst negative", "api {\n  rate_burst = -1\n}\n", nil,
			[]string{"t.hcl:2:3: invalid api.rate_burst: -1"}},
		{"per_page above max", "api {\n  per_page = 50\n  max_per_page = 20\n}\n", nil,
			[]string{"t.hcl:2:3: api.per_page 50 is above api.max_per_page 20", "t.hcl:3:3: api.log_per_page 50 is above api.max_per_page 20"}},
		{"max_sort_depth below max_per_page", "api {\n  max_sort_depth = 100\n}\n", nil,
			[]string{"t.hcl:2:3: api.max_sort_depth 100 is below api.max_per_page 500"}},
		{"smtp without from", "smtp {\n  host = \"mail.example.com\"\n}\n", nil,
			[]string{"t.hcl:1:1: smtp has no from address"}},
		{"smtp bad from", "smtp {\n  host = \"m\"\n  from = \"not an address\"\n}\n", nil,
			[]string{"t.hcl:3:3: invalid smtp.from \"not an address\""}},
		{"smtp bad tls", "smtp {\n  tls = \"startls\"\n}\n", nil,
			[]string{`t.hcl:2:3: invalid smtp.tls "startls": valid modes: "starttls", "tls", "none". Did you mean "starttls"?`}},
		{"smtp bad port", "smtp {\n  port = 70000\n}\n", nil,
			[]string{"t.hcl:2:3: invalid smtp.port: 70000"}},
		{"smtp password unset", "smtp {\n  host = \"m\"\n  from = \"a@b.c\"\n  username = \"u\"\n  password = env(\"SMTP_PASSWORD\")\n}\n", nil,
			[]string{"t.hcl:5:3: smtp.username is set but smtp.password is empty: set password = env(\"SMTP_PASSWORD\") (environment variable SMTP_PASSWORD is unset or empty)"}},
		{"smtp password without user", "smtp {\n  host = \"m\"\n  from = \"a@b.c\"\n  password = \"p\"\n}\n", nil,
			[]string{"t.hcl:1:1: smtp.password is set but smtp.username is empty"}},
		{"lifecycle bad duration", "lifecycle {\n  auto_deactivate_after = \"7d\"\n}\n", nil,
			[]string{`t.hcl:2:3: invalid duration "7d" for lifecycle.auto_deactivate_after`}},
		{"check_interval zero", "lifecycle {\n  check_interval = \"0s\"\n}\n", nil,
			[]string{`t.hcl:2:3: invalid duration "0s" for lifecycle.check_interval: must be greater than zero`}},
		{"presign_ttl negative", "delivery_log {\n  presign_ttl = \"-1m\"\n}\n", nil,
			[]string{`t.hcl:2:3: invalid duration "-1m" for delivery_log.presign_ttl`}},
		{"unknown attribute", "api {\n  rate = 5\n}\n", nil,
			[]string{`t.hcl:2:3: Unsupported argument`}},
		{"duplicate block", "api {}\napi {}\n", nil,
			[]string{`t.hcl:2:1: duplicate api block: the first api block is at t.hcl:1`}},
	}
	for _, c := range cases {
		t.Run(c.name, func(t *testing.T) {
			cfg, diags := parse(t, c.src, c.env)
			if cfg != nil {
				t.Fatalf("accepted %q", c.src)
			}
			expectDiags(t, diags, c.want...)
		})
	}
}

// The password is a secret: no diagnostic may print it.
func TestSMTPPasswordNeverInDiagnostics(t *testing.T) {
	_, diags := parse(t, "smtp {\n  host = \"m\"\n  from = \"bad\"\n  password = env(\"P\")\n}\n", map[string]string{"P": "hunter2-secret"})
	for _, d := range diags {
		if contains(d, "hunter2-secret") {
			t.Errorf("diagnostic shows the password: %s", d)
		}
	}
}

func contains(s, sub string) bool {
	return len(sub) > 0 && len(s) >= len(sub) && (s == sub || indexOf(s, sub) >= 0)
}

func indexOf(s, sub string) int {
	for i := 0; i+len(sub) <= len(s); i++ {
		if s[i:i+len(sub)] == sub {
			return i
		}
	}
	return -1
}
