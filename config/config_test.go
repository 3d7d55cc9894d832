package config

import (
	"os"
	"path/filepath"
	"reflect"
	"strings"
	"testing"
	"time"

	"github.com/hashicorp/hcl/v2"
)

// parse runs Parse on an inline source named t.hcl with a fixed environment
// and testdata as the file() base, and returns the formatted diagnostics.
func parse(t *testing.T, src string, env map[string]string) (*Config, []string) {
	t.Helper()
	cfg, diags := Parse("t.hcl", []byte(src), func(k string) (string, bool) {
		v, ok := env[k]
		return v, ok
	}, "testdata")
	if diags.HasErrors() != (cfg == nil) {
		t.Fatalf("config %v returned with diagnostics %v", cfg != nil, diags)
	}
	return cfg, lines(diags)
}

func lines(diags hcl.Diagnostics) []string {
	s := strings.TrimSuffix(FormatDiagnostics(diags), "\n")
	if s == "" {
		return nil
	}
	return strings.Split(s, "\n")
}

// expectDiags checks there is exactly one diagnostic per want entry, each
// "pos: text" matching a line that starts with pos and contains text.
func expectDiags(t *testing.T, got []string, want ...string) {
	t.Helper()
	if len(got) != len(want) {
		t.Errorf("got %d diagnostics, want %d:\n%s", len(got), len(want), strings.Join(got, "\n"))
		return
	}
	for i, w := range want {
		pos, text, _ := strings.Cut(w, " ")
		if !strings.HasPrefix(got[i], pos+" ") || !strings.Contains(got[i], text) {
			t.Errorf("diagnostic %d:\n got  %s\n want %s ...%s...", i, got[i], pos, text)
		}
	}
}

// mustParse parses a source expected to be valid.
func mustParse(t *testing.T, src string, env map[string]string) *Config {
	t.Helper()
	cfg, diags := parse(t, src, env)
	if cfg == nil {
		t.Fatalf("unexpected diagnostics:\n%s", strings.Join(diags, "\n"))
	}
	return cfg
}

const hook = `webhook "w" {
  company_id = 1
  url        = "https://x.example.com/"
  events     = ["workorder.created"]
`

func TestDefaults(t *testing.T) {
	d := Defaults()
	want := []time.Duration{10 * time.Second, 20 * time.Second, 40 * time.Second, 80 * time.Second,
		160 * time.Second, 320 * time.Second, 640 * time.Second}
	if !reflect.DeepEqual(d.Delivery.Backoff, want) {
		t.Errorf("backoff %v, want %v", d.Delivery.Backoff, want)
	}
	checks := []struct {
		name      string
		got, want any
	}{
		{"listen", d.Server.Listen, "127.0.0.1:8080"},
		{"public_url", d.Server.PublicURL, "http://127.0.0.1:8080"},
		{"body_limit", d.Server.BodyLimit, int64(1 << 20)},
		{"shutdown_timeout", d.Server.ShutdownTimeout, 30 * time.Second},
		{"path", d.Storage.Path, "./data"},
		{"log_retention", d.Storage.LogRetention, 720 * time.Hour},
		{"rollup_retention", d.Storage.RollupRetention, 168 * time.Hour},
		{"rollup_sample", d.Storage.RollupSample, 10 * time.Second},
		{"gc_interval", d.Storage.GCInterval, 10 * time.Minute},
		{"outcome_sync_delay", d.Storage.OutcomeSyncDelay, 200 * time.Millisecond},
		{"timeout", d.Delivery.Timeout, 30 * time.Second},
		{"workers", d.Delivery.Workers, 64},
		{"allow_http", d.Delivery.AllowHTTP, false},
		{"allow_private_networks", d.Delivery.AllowPrivateNetworks, false},
		{"idempotency_ttl", d.Delivery.IdempotencyTTL, 24 * time.Hour},
		{"retries_high", d.Delivery.RetriesHigh, 7},
		{"retries_medium", d.Delivery.RetriesMedium, 5},
		{"retries_low", d.Delivery.RetriesLow, 3},
		{"high_rate", d.Delivery.HighRate, 0.95},
		{"low_rate", d.Delivery.LowRate, 0.80},
		{"max_retry_after", d.Delivery.MaxRetryAfter, time.Hour},
		{"delivery.max_body", d.Delivery.MaxBody, int64(1 << 20)},
		{"delivery_log.max_body", d.DeliveryLog.MaxBody, 64 << 10},
		{"api.max_batch_events", d.API.MaxBatchEvents, 500},
		{"token_ttl", d.Auth.TokenTTL, time.Hour},
		{"engine", d.Transforms.Engine, "gnata"},
		{"transforms.timeout", d.Transforms.Timeout, 100 * time.Millisecond},
		{"max_depth", d.Transforms.MaxDepth, 200},
	}
	for _, c := range checks {
		if c.got != c.want {
			t.Errorf("%s = %v, want %v", c.name, c.got, c.want)
		}
	}
	// Fresh slices each call: a caller changing one must not change the next.
	d.Delivery.Backoff[0] = 0
	if Defaults().Delivery.Backoff[0] != 10*time.Second {
		t.Error("Defaults shares its backoff slice")
	}
}

func TestEmptyConfigIsDefaults(t *testing.T) {
	cfg := mustParse(t, "", nil)
	want := Defaults()
	want.File = "t.hcl"
	want.Storage.Path = "testdata/data" // relative to the config's folder, as file()
	if !reflect.DeepEqual(*cfg, want) {
		t.Errorf("empty config:\n got  %+v\n want %+v", *cfg, want)
	}
}

func TestMinimalFile(t *testing.T) {
	cfg, diags := Load("testdata/minimal.hcl")
	if diags.HasErrors() {
		t.Fatal(FormatDiagnostics(diags))
	}
	if len(cfg.Webhooks) != 1 {
		t.Fatalf("webhooks %+v", cfg.Webhooks)
	}
	w := cfg.Webhooks[0]
	if w.Name != "a" || w.Method != "post" || w.Status != "active" || w.Sink != "http" || w.CompanyID != 1 {
		t.Errorf("webhook defaults: %+v", w)
	}
	if got := w.Range.String(); got != "testdata/minimal.hcl:2,1-12" {
		t.Errorf("Range = %s, want the block header", got)
	}
	if cfg.File != "testdata/minimal.hcl" {
		t.Errorf("File = %q", cfg.File)
	}
}

func TestLoadMissingFile(t *testing.T) {
	cfg, diags := Load("testdata/nope.hcl")
	if cfg != nil || !diags.HasErrors() {
		t.Fatal("want an error")
	}
	got := FormatDiagnostics(diags)
	if !strings.HasPrefix(got, "cannot read config file: open testdata/nope.hcl: ") {
		t.Errorf("got %q", got)
	}
}

func TestPublicURL(t *testing.T) {
	for _, c := range []struct{ src, want string }{
		{`server { listen = "10.0.0.1:9000" }`, "http://10.0.0.1:9000"},
		{`server { listen = ":9000" }`, "http://localhost:9000"},
		{`server { listen = "[::]:9000" }`, "http://localhost:9000"},
		{`server { public_url = "https://hooks.example.com/" }`, "https://hooks.example.com"},
	} {
		if got := mustParse(t, c.src, nil).Server.PublicURL; got != c.want {
			t.Errorf("%s: public url %q, want %q", c.src, got, c.want)
		}
	}
}

func TestNullMeansDefault(t *testing.T) {
	cfg := mustParse(t, `delivery { workers = null }`, nil)
	if cfg.Delivery.Workers != 64 {
		t.Errorf("workers %d", cfg.Delivery.Workers)
	}
}

func TestMethodIsCaseInsensitive(t *testing.T) {
	cfg := mustParse(t, hook+`  method = "PUT"
}`, nil)
	if cfg.Webhooks[0].Method != "put" {
		t.Errorf("method %q", cfg.Webhooks[0].Method)
	}
}

func TestSecretSHA256IsLowercased(t *testing.T) {
	cfg := mustParse(t, `auth {
  client "c" {
    secret_sha256 = "9F86D081884C7D659A2FEAA0C55AD015A3BF4F1B2B0B822CD15D6C15B0F00A08"
    company_id    = 1
    scopes        = ["webhooks:read"]
  }
}`, nil)
	c := cfg.Auth.Clients[0]
	if c.SecretSHA256 != "9f86d081884c7d659a2feaa0c55ad015a3bf4f1b2b0b822cd15d6c15b0f00a08" {
		t.Errorf("sha256 %q", c.SecretSHA256)
	}
	if c.Range.String() != "t.hcl:2,3-13" {
		t.Errorf("client Range %s", c.Range)
	}
}

func TestSinks(t *testing.T) {
	cfg := mustParse(t, `sink "snow" {
  type   = "servicenow"
  config = { instance_url = "https://x", retries = 2 }
  companies = [1, 2]
}
sink "custom" {
  command = "./bin/x"
  sha256  = "9F86D081884C7D659A2FEAA0C55AD015A3BF4F1B2B0B822CD15D6C15B0F00A08"
  companies = [3]
}
sink "relay" { type = "http" }
`+hook+`  sink = "snow"
}`, nil)
	want := []Sink{
		{Name: "snow", Type: "servicenow", Settings: map[string]string{"instance_url": "https://x", "retries": "2"}, Companies: []int64{1, 2}},
		{Name: "custom", Command: "./bin/x", SHA256: "9f86d081884c7d659a2feaa0c55ad015a3bf4f1b2b0b822cd15d6c15b0f00a08", Companies: []int64{3}},
		{Name: "relay", Type: "http"},
	}
	for i := range cfg.Sinks {
		cfg.Sinks[i].Range = hcl.Range{}
	}
	if !reflect.DeepEqual(cfg.Sinks, want) {
		t.Errorf("sinks\n got  %+v\n want %+v", cfg.Sinks, want)
	}
	if cfg.Webhooks[0].Sink != "snow" {
		t.Errorf("webhook sink %q", cfg.Webhooks[0].Sink)
	}
}

func TestEnv(t *testing.T) {
	src := `auth {
  signing_key = env("KEY")
  client "a" {
    secret     = env("A_SECRET", "fallback")
    company_id = 1
    scopes     = ["events:publish"]
  }
}`
	for _, c := range []struct {
		name        string
		env         map[string]string
		key, secret string
	}{
		{"unset", nil, "", "fallback"},
		{"empty uses default", map[string]string{"A_SECRET": ""}, "", "fallback"},
		{"set", map[string]string{"KEY": strings.Repeat("k", 32), "A_SECRET": "s3cret"}, strings.Repeat("k", 32), "s3cret"},
	} {
		t.Run(c.name, func(t *testing.T) {
			cfg := mustParse(t, src, c.env)
			if cfg.Auth.SigningKey != c.key || cfg.Auth.Clients[0].Secret != c.secret {
				t.Errorf("key %q secret %q, want %q %q", cfg.Auth.SigningKey, cfg.Auth.Clients[0].Secret, c.key, c.secret)
			}
		})
	}
}

func TestEnvErrors(t *testing.T) {
	_, got := parse(t, `storage { path = env("A", "b", "c") }
storage2 = 1
`, nil)
	expectDiags(t, got,
		`t.hcl:1:33: Invalid function argument: Invalid value for "default" parameter: env takes a name and at most one default.`,
		`t.hcl:2:1: Unsupported argument: An argument named "storage2" is not expected here.`,
	)
	_, got = parse(t, `storage { path = env("") }`, nil)
	expectDiags(t, got, `t.hcl:1:24: Invalid function argument: Invalid value for "name" parameter: not a valid environment variable name.`)
	// env values are read through a function: there are no variables, so
	// HOME or var.x is an error rather than a silent lookup.
	_, got = parse(t, `storage { path = HOME }`, nil)
	expectDiags(t, got, `t.hcl:1:18: Variables not allowed: Variables may not be used here.`)
	_, got = parse(t, `storage { path = upper("x") }`, nil)
	expectDiags(t, got, `t.hcl:1:18: Call to unknown function: There is no function named "upper".`)
}

func TestEnvValueNeverInDiagnostics(t *testing.T) {
	secret := "not-a-uuid-TOPSECRET"
	_, got := parse(t, hook+`  secret = env("S")
  headers = { Authorization = env("H") }
}
auth { signing_key = env("S") }`, map[string]string{"S": secret, "H": "Bearer TOPSECRET\r\nX: y"})
	expectDiags(t, got,
		`t.hcl:5:3: invalid secret for webhook "w": the webhook secret must be a UUID`,
		`t.hcl:6:3: invalid value for header "Authorization" in webhook "w": header values may not contain line breaks`,
		`t.hcl:8:8: auth.signing_key is too short: it has 20 bytes, at least 32`,
	)
	if strings.Contains(strings.Join(got, "\n"), "TOPSECRET") {
		t.Errorf("a secret leaked into diagnostics:\n%s", strings.Join(got, "\n"))
	}
}

func TestFile(t *testing.T) {
	cfg := mustParse(t, hook+`  payload_template = file("templates/erp.jsonata")
}`, nil)
	want, _ := os.ReadFile("testdata/templates/erp.jsonata")
	if cfg.Webhooks[0].PayloadTemplate != string(want) {
		t.Errorf("template %q", cfg.Webhooks[0].PayloadTemplate)
	}

	// Relative to the config file's directory, not the working directory.
	dir := t.TempDir()
	if err := os.MkdirAll(filepath.Join(dir, "sub"), 0o755); err != nil {
		t.Fatal(err)
	}
	os.WriteFile(filepath.Join(dir, "sub", "key.txt"), []byte(strings.Repeat("z", 40)), 0o600)
	os.WriteFile(filepath.Join(dir, "g.hcl"), []byte(`auth { signing_key = file("sub/key.txt") }`), 0o600)
	loaded, diags := Load(filepath.Join(dir, "g.hcl"))
	if diags.HasErrors() {
		t.Fatal(FormatDiagnostics(diags))
	}
	if loaded.Auth.SigningKey != strings.Repeat("z", 40) {
		t.Errorf("signing key %q", loaded.Auth.SigningKey)
	}
}

func TestFileErrors(t *testing.T) {
	_, got := parse(t, hook+`  payload_template = file("templates/missing.jsonata")
}
storage { path = file("templates") }
`, nil)
	expectDiags(t, got,
		`t.hcl:5:28: Invalid function argument: Invalid value for "path" parameter: cannot read "templates/missing.jsonata" (resolved to testdata/templates/missing.jsonata): no such file or directory.`,
		`t.hcl:7:24: Invalid function argument: Invalid value for "path" parameter: cannot read "templates" (resolved to testdata/templates): not a regular file.`,
	)
}

func TestFormatDiagnostics(t *testing.T) {
	r := hcl.Range{Filename: "g.hcl", Start: hcl.Pos{Line: 3, Column: 5}}
	got := FormatDiagnostics(hcl.Diagnostics{
		{Severity: hcl.DiagError, Summary: "bad thing", Detail: "because\nreasons", Subject: &r},
		{Severity: hcl.DiagWarning, Summary: "odd thing", Subject: &r},
		{Severity: hcl.DiagError, Summary: "no place", Detail: "d"},
	})
	want := "g.hcl:3:5: bad thing: because reasons\ng.hcl:3:5: warning: odd thing\nno place: d\n"
	if got != want {
		t.Errorf("got\n%s\nwant\n%s", got, want)
	}
}

// TestAllProblemsAtOnce loads a file with many mistakes: each is reported,
// in file order, rather than stopping at the first.
func TestAllProblemsAtOnce(t *testing.T) {
	_, diags := Load("testdata/bad.hcl")
	expectDiags(t, lines(diags),
		`testdata/bad.hcl:2:3: invalid server.body_limit: 0: must be at least 1`,
		`testdata/bad.hcl:5:3: invalid duration "10x" for delivery.timeout: time: unknown unit "x" in duration "10x"; use a Go duration`,
		`testdata/bad.hcl:6:3: empty delivery.backoff: list at least one delay`,
		`testdata/bad.hcl:7:3: invalid delivery.workers: 0: must be at least 1`,
		`testdata/bad.hcl:8:3: invalid delivery.high_rate: 1.5: a success rate is a fraction between 0 and 1`,
		`testdata/bad.hcl:11:3: client "c1" has no secret: set secret = env("NAME") or secret_sha256`,
		`testdata/bad.hcl:12:5: invalid company_id of client "c1": 0: company_id must be greater than 0`,
		`testdata/bad.hcl:13:5: unknown scope "events:read" for client "c1": valid scopes: "events:publish", "webhooks:read", "webhooks:write"`,
		`testdata/bad.hcl:18:3: invalid url for webhook "w": the scheme must be https (or http when delivery.allow_http = true), not "ftp"`,
		`testdata/bad.hcl:19:3: unknown event "workorder.nope" in webhook "w": the valid names are in events/catalog.go and listed by GET /api/v1/webhooks/events`,
		`testdata/bad.hcl:20:3: invalid method "get" for webhook "w": valid methods: "post", "put"`,
		`testdata/bad.hcl:22:1: duplicate webhook "w": webhook "w" is already defined at testdata/bad.hcl:16`,
	)
}

// TestDiagnostics checks each validation rule: file, line, column and text.
func TestDiagnostics(t *testing.T) {
	cases := []struct {
		name string
		src  string
		env  map[string]string
		want []string
	}{
		// HCL syntax and schema.
		{"syntax", `server {`, nil, []string{`t.hcl:1:8: Unclosed configuration block`}},
		{"unknown attribute", `server { lisen = "x" }`, nil,
			[]string{`t.hcl:1:10: Unsupported argument: An argument named "lisen" is not expected here. Did you mean "listen"?`}},
		{"unknown block", "\nsrever {}", nil,
			[]string{`t.hcl:2:1: Unsupported block type: Blocks of type "srever" are not expected here. Did you mean "server"?`}},
		{"missing label", `webhook {}`, nil, []string{`t.hcl:1:9: Missing name for webhook`}},
		{"wrong type", `delivery { workers = "many" }`, nil,
			[]string{`t.hcl:1:22: invalid value for delivery.workers: expected number: a number is required`}},
		{"fraction", hook + "  user_id = 1.5\n}", nil,
			[]string{`t.hcl:5:13: invalid value for user_id of webhook "w": value must be a whole number`}},
		{"duplicate block", "server {}\nstorage {}\nserver {}", nil,
			[]string{`t.hcl:3:1: duplicate server block: the first server block is at t.hcl:1; merge them into one`}},

		// Durations and numbers.
		{"bad duration", `delivery { timeout = "10x" }`, nil,
			[]string{`t.hcl:1:12: invalid duration "10x" for delivery.timeout: time: unknown unit "x" in duration "10x"`}},
		{"number as duration", `transforms { timeout = 100 }`, nil,
			[]string{`t.hcl:1:14: invalid duration "100" for transforms.timeout: time: missing unit in duration "100"; use a Go duration such as "100ms"`}},
		{"zero duration", `storage { gc_interval = "0s" }`, nil,
			[]string{`t.hcl:1:11: invalid duration "0s" for storage.gc_interval: must be greater than zero`}},
		{"zero shutdown ok, negative not", `server { shutdown_timeout = "-1s" }`, nil,
			[]string{`t.hcl:1:10: invalid duration "-1s" for server.shutdown_timeout: must be zero or more`}},
		{"backoff element", "delivery {\n  backoff = [\"10s\", \"-1s\", \"x\"]\n}", nil, []string{
			`t.hcl:2:3: invalid duration "-1s" for delivery.backoff[1]: must be greater than zero`,
			`t.hcl:2:3: invalid duration "x" for delivery.backoff[2]: time: invalid duration "x"`,
		}},
		{"backoff empty", `delivery { backoff = [] }`, nil, []string{`t.hcl:1:12: empty delivery.backoff: list at least one delay`}},
		{"workers", `delivery { workers = 0 }`, nil, []string{`t.hcl:1:12: invalid delivery.workers: 0: must be at least 1`}},
		{"retries", `delivery { retries_low = -1 }`, nil, []string{`t.hcl:1:12: invalid delivery.retries_low: -1: must be at least 0`}},
		{"body_limit", `server { body_limit = -5 }`, nil, []string{`t.hcl:1:10: invalid server.body_limit: -5: must be at least 1`}},
		{"max_depth", `transforms { max_depth = 0 }`, nil, []string{`t.hcl:1:14: invalid transforms.max_depth: 0: must be at least 1`}},
		{"rates", "delivery {\n  high_rate = 1.2\n  low_rate = -0.1\n}", nil, []string{
			`t.hcl:2:3: invalid delivery.high_rate: 1.2: a success rate is a fraction between 0 and 1`,
			`t.hcl:3:3: invalid delivery.low_rate: -0.1: a success rate is a fraction between 0 and 1`,
		}},
		{"low above high", "delivery {\n  low_rate = 0.99\n}", nil,
			[]string{`t.hcl:2:3: delivery.low_rate 0.99 is above delivery.high_rate 0.95: low_rate must not exceed high_rate`}},

		// Server, storage, transforms, auth.
		{"listen", `server { listen = "localhost" }`, nil,
			[]string{`t.hcl:1:10: invalid server.listen "localhost": expected host:port`}},
		{"public_url scheme", `server { public_url = "ftp://x" }`, nil,
			[]string{`t.hcl:1:10: invalid server.public_url: the scheme must be http or https, not "ftp"`}},
		{"storage path", `storage { path = "" }`, nil, []string{`t.hcl:1:11: empty storage.path`}},
		{"engine", `transforms { engine = "gnatta" }`, nil,
			[]string{`t.hcl:1:14: unknown transforms.engine "gnatta": valid engines: "gnata", "jsonata-go"`}},
		{"signing key", `auth { signing_key = "short" }`, nil,
			[]string{`t.hcl:1:8: auth.signing_key is too short: it has 5 bytes, at least 32 are needed`}},

		// Clients.
		{"client without secret", "auth {\n  client \"a\" {\n    secret = env(\"A_SECRET\")\n    company_id = 1\n    scopes = [\"webhooks:read\"]\n  }\n}", nil,
			[]string{`t.hcl:3:5: client "a" has no secret: set secret = env("NAME") or secret_sha256 = "<64 hex digits>" (environment variable A_SECRET is unset or empty)`}},
		{"client with both", "auth {\n  client \"a\" {\n    secret = \"x\"\n    secret_sha256 = \"ab\"\n    company_id = 1\n    scopes = [\"webhooks:read\"]\n  }\n}", nil,
			[]string{`t.hcl:4:5: client "a" has both secret and secret_sha256`}},
		{"client bad sha256", "auth {\n  client \"a\" {\n    secret_sha256 = \"abc\"\n    company_id = 1\n    scopes = [\"webhooks:read\"]\n  }\n}", nil,
			[]string{`t.hcl:3:5: invalid secret_sha256 for client "a": expected 64 hexadecimal digits (sha256sum of the secret), got 3 characters`}},
		{"client scopes", "auth {\n  client \"a\" {\n    secret = \"a-long-enough-secret\"\n    scopes = [\"webhooks:wrte\", \"webhooks:read\", \"webhooks:read\"]\n  }\n}", nil, []string{
			`t.hcl:2:3: client "a" has no company_id: company_id is required and must be a positive number`,
			`t.hcl:4:5: unknown scope "webhooks:wrte" for client "a": valid scopes: "events:publish", "webhooks:read", "webhooks:write". Did you mean "webhooks:write"?`,
			`t.hcl:4:5: duplicate scope "webhooks:read" for client "a": list each scope once`,
		}},
		{"client no scopes", "auth {\n  client \"a\" {\n    secret = \"a-long-enough-secret\"\n    company_id = 3\n  }\n}", nil,
			[]string{`t.hcl:2:3: client "a" has no scopes: grant at least one of "events:publish"`}},
		{"duplicate client", "auth {\n  client \"a\" {\n    secret = \"a-long-enough-secret\"\n    company_id = 3\n    scopes = [\"webhooks:read\"]\n  }\n  client \"a\" {}\n}", nil,
			[]string{`t.hcl:7:3: duplicate client "a": client "a" is already defined at t.hcl:2; client ids must be unique`}},
		{"client name", "auth {\n  client \"a b\" {}\n}", nil,
			[]string{`t.hcl:2:10: invalid client name "a b": names are 1 to 64 characters`}},

		// Sinks.
		{"sink http reserved", `sink "http" { type = "http" }`, nil,
			[]string{`t.hcl:1:1: sink name "http" is reserved: the built-in http sink is always available`}},
		{"sink both", "sink \"s\" {\n  type = \"servicenow\"\n  command = \"./x\"\n}", nil,
			[]string{`t.hcl:3:3: sink "s" has both type and command`}},
		{"sink neither", `sink "s" {}`, nil, []string{`t.hcl:1:1: sink "s" has neither type nor command: set type to one of "http", "servicenow", "salesforce"`}},
		{"sink type", `sink "s" { type = "salesforc" }`, nil,
			[]string{`t.hcl:1:12: unknown sink type "salesforc" for sink "s": built-in types: "http", "servicenow", "salesforce"; for your own sink set command instead. Did you mean "salesforce"?`}},
		{"sink sha256", "sink \"s\" {\n  type = \"http\"\n  sha256 = \"00\"\n}\nsink \"t\" {\n  command = \"./x\"\n  sha256 = \"00\"\n  companies = [1]\n}", nil, []string{
			`t.hcl:3:3: sha256 without command in sink "s": sha256 pins the binary given by command`,
			`t.hcl:7:3: invalid sha256 for sink "t": expected 64 hexadecimal digits`,
		}},
		{"duplicate sink", "sink \"s\" { type = \"http\" }\n\nsink \"s\" { type = \"http\" }", nil,
			[]string{`t.hcl:3:1: duplicate sink "s": sink "s" is already defined at t.hcl:1; names must be unique`}},
		{"sink config not strings", "sink \"s\" {\n  type = \"http\"\n  config = { a = { b = 1 } }\n}", nil,
			[]string{`t.hcl:3:12: invalid value for config of sink "s": expected map of string: element "a": string required`}},

		// Webhooks.
		{"webhook missing all", "\nwebhook \"w\" {}", nil, []string{
			`t.hcl:2:1: webhook "w" has no company_id: company_id is required`,
			`t.hcl:2:1: webhook "w" has no url: set url to the https:// address`,
			`t.hcl:2:1: webhook "w" has no events: set events = ["workorder.status.published", ...]; the valid names are in events/catalog.go`,
		}},
		{"duplicate webhook", hook + "}\n" + hook + "}", nil,
			[]string{`t.hcl:6:1: duplicate webhook "w": webhook "w" is already defined at t.hcl:1; names must be unique`}},
		{"webhook name", `webhook "-x" {}`, nil, []string{`t.hcl:1:9: invalid webhook name "-x"`}},
		{"company_id", "webhook \"w\" {\n  company_id = 0\n  user_id = -1\n  url = \"https://x\"\n  events = [\"workorder.created\"]\n}", nil, []string{
			`t.hcl:2:3: invalid company_id of webhook "w": 0: company_id must be greater than 0`,
			`t.hcl:3:3: invalid user_id of webhook "w": -1: user_id must not be negative`,
		}},
		{"url plain http", "webhook \"w\" {\n  company_id = 1\n  url = \"http://x.example.com/\"\n  events = [\"workorder.created\"]\n}", nil,
			[]string{`t.hcl:3:3: plain http url for webhook "w": deliveries go over https only; set allow_http = true in the delivery block to allow http:// urls`}},
		{"url no host", "webhook \"w\" {\n  company_id = 1\n  url = \"https:///path\"\n  events = [\"workorder.created\"]\n}", nil,
			[]string{`t.hcl:3:3: invalid url for webhook "w": the url has no host`}},
		{"url unparsable", "webhook \"w\" {\n  company_id = 1\n  url = \"https://x:port/\"\n  events = [\"workorder.created\"]\n}", nil,
			[]string{`t.hcl:3:3: invalid url for webhook "w": cannot parse it: invalid port ":port" after host`}},
		{"url relative", "webhook \"w\" {\n  company_id = 1\n  url = \"x.example.com/hooks\"\n  events = [\"workorder.created\"]\n}", nil,
			[]string{`t.hcl:3:3: invalid url for webhook "w": the scheme must be https (or http when delivery.allow_http = true), not ""`}},
		{"url from unset env", "webhook \"w\" {\n  company_id = 1\n  url = env(\"HOOK_URL\")\n  events = [\"workorder.created\"]\n}", nil,
			[]string{`t.hcl:3:3: invalid url for webhook "w": the url is empty (environment variable HOOK_URL is unset or empty)`}},
		{"method and status", hook + "  method = \"get\"\n  status = \"actve\"\n}", nil, []string{
			`t.hcl:5:3: invalid method "get" for webhook "w": valid methods: "post", "put"`,
			`t.hcl:6:3: invalid status "actve" for webhook "w": valid statuses: "active", "inactive", "archived". Did you mean "active"?`,
		}},
		{"events", "webhook \"w\" {\n  company_id = 1\n  url = \"https://x\"\n  events = [\"workorder.created\", \"workorder.status.publish\", \"workorder.created\"]\n}", nil, []string{
			`t.hcl:4:3: unknown event "workorder.status.publish" in webhook "w": the valid names are in events/catalog.go and listed by GET /api/v1/webhooks/events. Did you mean "workorder.status.published"?`,
			`t.hcl:4:3: duplicate event "workorder.created" in webhook "w": list each event once`,
		}},
		{"events empty", "webhook \"w\" {\n  company_id = 1\n  url = \"https://x\"\n  events = []\n}", nil,
			[]string{`t.hcl:4:3: webhook "w" has an empty events list: subscribe to at least one event`}},
		{"secret", hook + "  secret = \"1234\"\n}", nil,
			[]string{`t.hcl:5:3: invalid secret for webhook "w": the webhook secret must be a UUID`}},
		{"headers", hook + "  headers = {\n    \"X-FN-Signature\" = \"a\"\n    \"x-fn-id\" = \"b\"\n    \"Bad Name\" = \"c\"\n    \"Accept\" = \"d\"\n    \"accept\" = \"e\"\n  }\n}", nil, []string{
			`t.hcl:5:3: invalid header name "Bad Name" in webhook "w"`,
			`t.hcl:5:3: reserved header "X-FN-Signature" in webhook "w": Content-Type, webhook-id, webhook-timestamp, webhook-signature and headers starting with "X-Fn-" are set by the gateway`,
			`t.hcl:5:3: duplicate header "accept" in webhook "w": header names are case-insensitive; "Accept" is already set`,
			`t.hcl:5:3: reserved header "x-fn-id" in webhook "w"`,
		}},
		{"unknown sink", "sink \"snow\" {\n  type = \"servicenow\"\n  companies = [1]\n}\n" + hook + "  sink = \"sno\"\n}", nil,
			[]string{`t.hcl:9:3: unknown sink "sno" for webhook "w": declare it with a sink "sno" { ... } block; available sinks: "http", "snow". Did you mean "snow"?`}},
		{"email and model properties", hook + "  notification_email = \"ops at example\"\n  model_properties = [\"id\", \" \"]\n}", nil, []string{
			`t.hcl:5:3: invalid notification_email "ops at example" for webhook "w": expected a plain address`,
			`t.hcl:6:3: empty model_properties[1] for webhook "w"`,
		}},
	}
	for _, c := range cases {
		t.Run(c.name, func(t *testing.T) {
			_, got := parse(t, c.src, c.env)
			expectDiags(t, got, c.want...)
		})
	}
}

func TestAllowHTTP(t *testing.T) {
	cfg := mustParse(t, `delivery { allow_http = true }
webhook "w" {
  company_id = 1
  url        = "http://localhost:9999/in"
  events     = ["workorder.routed"]
}`, nil)
	if !cfg.Delivery.AllowHTTP || cfg.Webhooks[0].URL != "http://localhost:9999/in" {
		t.Errorf("%+v", cfg)
	}
}

// TestShortClientSecret: a plain client secret under MinClientSecret
// characters loads with a warning that gives its length, never its value;
// an empty one (an unset env()) without secret_sha256 is an error.
func TestShortClientSecret(t *testing.T) {
	client := func(secret string) string {
		return "auth {\n  client \"a\" {\n    secret = " + secret + "\n    company_id = 1\n    scopes = [\"webhooks:read\"]\n  }\n}"
	}
	cfg, diags := parse(t, client(`"short"`), nil)
	if cfg == nil {
		t.Fatalf("a short secret must still load: %v", diags)
	}
	expectDiags(t, diags, `t.hcl:3:5: warning: client "a" has a short secret: it has 5 characters; use at least 16`)
	if strings.Contains(strings.Join(diags, "\n"), `"short"`) {
		t.Errorf("the secret is echoed: %v", diags)
	}
	_, diags = parse(t, client(`"sixteen-chars-ok"`), nil)
	expectDiags(t, diags)
	_, diags = parse(t, client(`env("UNSET_SECRET")`), nil)
	expectDiags(t, diags, `t.hcl:3:5: client "a" has no secret`)
}
