package config

// These tests compile JSONata through the transforms package, so they need
// it implemented (not the stub that panics).

import (
	"os"
	"path/filepath"
	"reflect"
	"strings"
	"testing"
	"time"
)

// TestShippedConfig loads the repository's gateway.hcl the way `make run`
// does, with none of its environment variables set.
func TestShippedConfig(t *testing.T) {
	for _, k := range []string{"HOOKGATE_SIGNING_KEY", "HOOKGATE_DEMO_SECRET", "HOOKGATE_ENCRYPTION_KEY"} {
		t.Setenv(k, "") // env() treats empty like unset
	}
	cfg, diags := Load(filepath.Join("..", "gateway.hcl"))
	if diags.HasErrors() || len(diags) > 0 {
		t.Fatalf("gateway.hcl:\n%s", FormatDiagnostics(diags))
	}
	def := Defaults()
	// The spec numbers are written out in the file; they must equal the
	// built-in defaults so the file documents what omitting them means.
	if !reflect.DeepEqual(cfg.Server, def.Server) {
		t.Errorf("server %+v, want %+v", cfg.Server, def.Server)
	}
	def.Storage.Path = filepath.Join("..", def.Storage.Path) // beside gateway.hcl
	if !reflect.DeepEqual(cfg.Storage, def.Storage) {
		t.Errorf("storage %+v, want %+v", cfg.Storage, def.Storage)
	}
	if !reflect.DeepEqual(cfg.Delivery, def.Delivery) {
		t.Errorf("delivery %+v, want %+v", cfg.Delivery, def.Delivery)
	}
	if !reflect.DeepEqual(cfg.Transforms, def.Transforms) {
		t.Errorf("transforms %+v, want %+v", cfg.Transforms, def.Transforms)
	}
	if cfg.Quotas != def.Quotas || len(cfg.Companies) != 0 {
		t.Errorf("quotas %+v and companies %+v, want %+v and none", cfg.Quotas, cfg.Companies, def.Quotas)
	}
	if cfg.Auth.TokenTTL != time.Hour || cfg.Auth.SigningKey != "" {
		t.Errorf("auth ttl %v, signing key set %v", cfg.Auth.TokenTTL, cfg.Auth.SigningKey != "")
	}
	if len(cfg.Auth.Clients) != 1 {
		t.Fatalf("clients %+v", cfg.Auth.Clients)
	}
	c := cfg.Auth.Clients[0]
	if c.ID != "demo" || c.Secret != "demo-secret-change-me" || c.CompanyID != 100 || c.UserID != 1068 ||
		!reflect.DeepEqual(c.Scopes, Scopes) {
		t.Errorf("demo client %+v", c)
	}
	if len(cfg.Webhooks) != 1 {
		t.Fatalf("webhooks %+v", cfg.Webhooks)
	}
	w := cfg.Webhooks[0]
	if w.Status != "inactive" || w.URL != "https://example.com/hooks" || w.PayloadTemplate == "" || w.Sink != "http" {
		t.Errorf("example webhook %+v", w)
	}
	if len(cfg.Sinks) != 0 {
		t.Errorf("sinks %+v", cfg.Sinks)
	}

	// With the variable set, the demo secret comes from the environment.
	t.Setenv("HOOKGATE_DEMO_SECRET", "from-env")
	cfg, diags = Load(filepath.Join("..", "gateway.hcl"))
	if diags.HasErrors() {
		t.Fatal(FormatDiagnostics(diags))
	}
	if got := cfg.Auth.Clients[0].Secret; got != "from-env" {
		t.Errorf("demo secret %q", got)
	}
}

// TestFullFile decodes every attribute of every block.
func TestFullFile(t *testing.T) {
	src, err := os.ReadFile("testdata/full.hcl")
	if err != nil {
		t.Fatal(err)
	}
	env := map[string]string{
		"HOOKGATE_SIGNING_KEY": strings.Repeat("k", 32),
		"ACME_CLIENT_SECRET":   "acme-secret",
		"ERP_SECRET":           "0b3c5e1a-7f2d-4c8e-9a6b-1d2e3f4a5b6c",
	}
	cfg, diags := Parse("testdata/full.hcl", src, func(k string) (string, bool) { v, ok := env[k]; return v, ok }, "testdata")
	if diags.HasErrors() {
		t.Fatal(FormatDiagnostics(diags))
	}
	s := time.Second
	hour := time.Hour
	want := Config{
		File: "testdata/full.hcl",
		Server: Server{Listen: "127.0.0.1:9090", PublicURL: "https://hooks.example.com", BodyLimit: 2048,
			ShutdownTimeout: 5 * s, ReadTimeout: 10 * s, IdleTimeout: 60 * s},
		Storage: Storage{Driver: DriverBadger, LockTimeout: 2 * time.Minute, MaxConns: 16, SweepInterval: 10 * time.Minute,
			Path: "/var/lib/hookgate", LogRetention: 48 * time.Hour, GCInterval: time.Minute, OutcomeSyncDelay: 200 * time.Millisecond, MinFreeBytes: 256 << 20,
			RollupRetention: 168 * time.Hour, RollupSample: 10 * time.Second,
			EncryptionKeyFile: "/etc/hookgate/hookgate.key", PreviousEncryptionKeys: []string{"AAECAwQFBgcICQoLDA0ODxAREhMUFRYXGBkaGxwdHh8="}},
		Delivery: Delivery{Timeout: 10 * s, Backoff: []time.Duration{s, 2 * s, 3 * s}, Workers: 8,
			AllowHTTP: true, AllowPrivateNetworks: true, IdempotencyTTL: time.Hour,
			RetriesHigh: 3, RetriesMedium: 2, RetriesLow: 1, HighRate: 0.9, LowRate: 0.5, MaxRetryAfter: 5 * time.Minute,
			MaxInFlightPerWebhook: 64, SlowThreshold: time.Second, SlowShare: 0.5, SecretGracePeriod: 48 * time.Hour,
			MaxBody: 1 << 20, SpareWorkers: 2, SinkBatchMax: 64, RecordBatch: 256, RecordLinger: 5 * time.Millisecond, RateBurst: 2},
		Auth: Auth{TokenTTL: 15 * time.Minute, SigningKey: strings.Repeat("k", 32), Clients: []Client{
			{ID: "acme", Secret: "acme-secret", CompanyID: 100, UserID: 1068,
				Scopes: []string{"events:publish", "webhooks:read", "webhooks:write"}},
			{ID: "hashed", SecretSHA256: "9f86d081884c7d659a2feaa0c55ad015a3bf4f1b2b0b822cd15d6c15b0f00a08",
				CompanyID: 7, Scopes: []string{"webhooks:read"}},
		}, MaxFailuresPerClient: 10},
		Transforms: Transforms{Engine: "jsonata-go", Timeout: 50 * time.Millisecond, MaxDepth: 20},
		API:        API{RateLimit: 600, RateBurst: 50, PerPage: 10, MaxPerPage: 100, LogPerPage: 40},
		SMTP: SMTP{Host: "mail.example.com", Port: 465, From: "Hookgate <hookgate@example.com>",
			Username: "hookgate", Password: "pw", TLS: "tls", Timeout: 5 * time.Second},
		Lifecycle:   Lifecycle{AutoDeactivateAfter: 72 * time.Hour, CheckInterval: 10 * time.Minute},
		DeliveryLog: DeliveryLog{PresignTTL: 5 * time.Minute, MaxBody: 64 << 10},
		Quotas:      Defaults().Quotas,
		Telemetry: Telemetry{OTLPEndpoint: "https://otlp.example.com", Headers: map[string]string{"x-api-key": "k"}, SampleRatio: 0.5,
			ServiceName: "hooks-eu", TraceURL: "https://traces.example.com/trace/{trace_id}"},
		Sinks: []Sink{
			{Name: "snow", Type: "servicenow", Settings: map[string]string{"instance_url": "https://x", "retries": "2"}, Companies: []int64{100, 7}, Limit: RateLimit{Rate: "1000/h"}},
			{Name: "custom", Command: "./bin/x", SHA256: "9f86d081884c7d659a2feaa0c55ad015a3bf4f1b2b0b822cd15d6c15b0f00a08", Companies: []int64{100}},
		},
		Webhooks: []Webhook{
			{Name: "erp-sync", CompanyID: 100, UserID: 1068, URL: "https://erp.example.com/hooks/{{ workorder.id }}",
				Method: "put", Status: "active", Events: []string{"workorder.status.published", "workorder.created"},
				Secret: "0b3c5e1a-7f2d-4c8e-9a6b-1d2e3f4a5b6c", Headers: map[string]string{"Authorization": "Bearer t0k3n", "X-Custom": "1"},
				PayloadTemplate: "{ \"id\": workorder.id, \"event\": event.name }\n", Sink: "snow",
				NotificationEmail: "ops@example.com", ModelProperties: []string{"id", "title"},
				SignatureFormat: SignatureStandard, SecretGracePeriod: &hour, Limit: RateLimit{Rate: "5/s", Burst: 10}, MaxInFlight: 4,
				Ordering: OrderingWorkOrder, OrderingOnDead: OnDeadHold},
			{Name: "minimal", CompanyID: 5, URL: "http://localhost:9999/in", Method: "post", Status: "active",
				Events: []string{"workorder.routed"}, Sink: "http", SignatureFormat: SignatureFN,
				Ordering: OrderingNone, OrderingOnDead: OnDeadContinue},
		},
	}
	// Settings full.hcl leaves at their defaults.
	def := Defaults()
	want.Server.MaxUnauthenticatedBodies = def.Server.MaxUnauthenticatedBodies
	want.Delivery.EventCacheBytes = def.Delivery.EventCacheBytes
	want.API.MaxSortDepth = def.API.MaxSortDepth
	want.API.MaxBatchEvents = def.API.MaxBatchEvents
	// Ranges are checked on their own: the block headers.
	ranges := map[string]string{}
	for i := range cfg.Auth.Clients {
		ranges[cfg.Auth.Clients[i].ID] = cfg.Auth.Clients[i].Range.String()
		cfg.Auth.Clients[i].Range = want.Auth.Clients[i].Range
	}
	for i := range cfg.Sinks {
		ranges[cfg.Sinks[i].Name] = cfg.Sinks[i].Range.String()
		cfg.Sinks[i].Range = want.Sinks[i].Range
	}
	for i := range cfg.Webhooks {
		ranges[cfg.Webhooks[i].Name] = cfg.Webhooks[i].Range.String()
		cfg.Webhooks[i].Range = want.Webhooks[i].Range
	}
	if !reflect.DeepEqual(*cfg, want) {
		t.Errorf("decoded\n got  %+v\n want %+v", *cfg, want)
	}
	wantRanges := map[string]string{
		"acme":     "testdata/full.hcl:39,3-16",
		"hashed":   "testdata/full.hcl:45,3-18",
		"snow":     "testdata/full.hcl:51,1-12",
		"custom":   "testdata/full.hcl:57,1-14",
		"erp-sync": "testdata/full.hcl:62,1-19",
		"minimal":  "testdata/full.hcl:83,1-18",
	}
	if !reflect.DeepEqual(ranges, wantRanges) {
		t.Errorf("ranges %v, want %v", ranges, wantRanges)
	}
}

func TestTemplateErrors(t *testing.T) {
	src := `webhook "w" {
  company_id = 1
  url        = "https://x.example.com/{{ workorder.( }}/x"
  events     = ["workorder.created"]
  payload_template = <<-EOT
    {
      "id": workorder.id,
      "bad": (
    }
  EOT
}
webhook "v" {
  company_id = 1
  url        = "https://x.example.com/{{ workorder.id /x"
  events     = ["workorder.created"]
}
`
	for _, engine := range Engines {
		t.Run(engine, func(t *testing.T) {
			_, got := parse(t, "transforms { engine = \""+engine+"\" }\n"+src, nil)
			expectDiags(t, got,
				`t.hcl:4:3: url template of webhook "w" does not compile: `,
				`t.hcl:6:3: payload_template of webhook "w" does not compile: `,
				`t.hcl:15:3: url template of webhook "v" does not compile: "{{" without a matching "}}" (at character 22 of the url)`,
			)
			if t.Failed() {
				return
			}
			// The JSONata compiler's own message (worded differently by
			// each engine) comes between the colon and the position.
			for i, pos := range []string{"(at character 36 of the url)", "(line 4, column 1 of the template)"} {
				_, msg, _ := strings.Cut(got[i], "does not compile: ")
				if !strings.HasSuffix(msg, pos) || len(msg) < len(pos)+10 {
					t.Errorf("want a compiler message ending in %s, got %q", pos, got[i])
				}
			}
		})
	}
}

func TestValidTemplates(t *testing.T) {
	cfg := mustParse(t, `webhook "w" {
  company_id = 1
  url        = "https://x.example.com/wo/{{ workorder.id }}?e={{ event.name }}"
  events     = ["workorder.created"]
  payload_template = "{ \"id\": workorder.id }"
}`, nil)
	if cfg.Webhooks[0].PayloadTemplate == "" {
		t.Error("template lost")
	}
}

// FuzzParse feeds arbitrary text through the whole pipeline: parsing,
// decoding, validation and template compilation must never panic, and a
// config comes back exactly when there are no errors.
func FuzzParse(f *testing.F) {
	seeds, _ := filepath.Glob("testdata/*.hcl")
	seeds = append(seeds, filepath.Join("..", "gateway.hcl"))
	for _, p := range seeds {
		if b, err := os.ReadFile(p); err == nil {
			f.Add(b)
		}
	}
	f.Add([]byte(hook + "  headers = { \"X-Fn-A\" = env(\"X\", \"y\") }\n}"))
	f.Fuzz(func(t *testing.T, src []byte) {
		env := func(k string) (string, bool) { return "v-" + k, k != "UNSET" }
		cfg, diags := Parse("fuzz.hcl", src, env, "testdata")
		if (cfg == nil) != diags.HasErrors() {
			t.Fatalf("config %v with diagnostics %v", cfg != nil, diags)
		}
		_ = FormatDiagnostics(diags)
		for _, d := range diags {
			if d.Subject != nil && d.Subject.Filename != "fuzz.hcl" && !strings.HasPrefix(d.Subject.Filename, "testdata") {
				t.Fatalf("diagnostic in file %q", d.Subject.Filename)
			}
		}
	})
}
