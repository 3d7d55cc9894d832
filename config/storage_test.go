package config

import (
	"testing"
	"time"
)

func TestStoragePostgres(t *testing.T) {
	cfg := mustParse(t, `storage {
  driver         = "postgres"
  dsn            = env("HOOKGATE_DATABASE_URL")
  lease          = "2m"
  lock_timeout   = "30s"
  max_conns      = 8
  sweep_interval = "1m"
}
`, map[string]string{"HOOKGATE_DATABASE_URL": "postgres://h/db"})
	s := cfg.Storage
	if s.Driver != DriverPostgres || s.DSN != "postgres://h/db" || s.Lease != 2*time.Minute ||
		s.LockTimeout != 30*time.Second || s.MaxConns != 8 || s.SweepInterval != time.Minute {
		t.Fatalf("storage = %+v", s)
	}
	if got := cfg.EffectiveLease(); got != 2*time.Minute {
		t.Errorf("EffectiveLease = %v", got)
	}
	def := mustParse(t, "", nil)
	if def.Storage.Driver != DriverBadger || def.EffectiveLease() != def.Delivery.Timeout+time.Minute {
		t.Errorf("defaults: driver %q lease %v", def.Storage.Driver, def.EffectiveLease())
	}
}

func TestStorageErrors(t *testing.T) {
	_, got := parse(t, `storage { driver = "mysql" }`, nil)
	expectDiags(t, got, `t.hcl:1:11: unknown storage.driver "mysql"`)
	_, got = parse(t, `storage { driver = "postgres" }`, nil)
	expectDiags(t, got, `t.hcl:1:11: empty storage.dsn`)
	_, got = parse(t, "delivery { timeout = \"30s\" }\nstorage {\n  driver = \"postgres\"\n  dsn = \"x\"\n  lease = \"35s\"\n}\n", nil)
	expectDiags(t, got, `t.hcl:5:3: storage.lease 35s is too short`)
}

func TestStorageMinFreeBytes(t *testing.T) {
	if got := mustParse(t, "", nil).Storage.MinFreeBytes; got != 64<<20 {
		t.Errorf("default storage.min_free_bytes = %d, want 64 MiB", got)
	}
	if got := mustParse(t, "storage {\n  min_free_bytes = 0\n}\n", nil).Storage.MinFreeBytes; got != 0 {
		t.Errorf("min_free_bytes = 0 (guard off) parsed as %d", got)
	}
	if got := mustParse(t, "storage {\n  min_free_bytes = 1073741824\n}\n", nil).Storage.MinFreeBytes; got != 1<<30 {
		t.Errorf("min_free_bytes = %d, want 1 GiB", got)
	}
	_, got := parse(t, "storage {\n  min_free_bytes = -1\n}\n", nil)
	expectDiags(t, got, "t.hcl:2:3: invalid storage.min_free_bytes: -1: must be at least 0")
	_, got = parse(t, "storage {\n  min_free_bytes = \"64MB\"\n}\n", nil)
	expectDiags(t, got, "t.hcl:2:20: invalid value for storage.min_free_bytes: expected number")
}

// TestOutcomeSyncDelay: storage.outcome_sync_delay decodes (0 allowed:
// every outcome synced), and one above the bound is named with its place
// (the default is in TestDefaults' table).
func TestOutcomeSyncDelay(t *testing.T) {
	c, diags := parse(t, "storage {\n  outcome_sync_delay = \"0s\"\n}\n", nil)
	expectDiags(t, diags)
	if c.Storage.OutcomeSyncDelay != 0 {
		t.Errorf("outcome_sync_delay %s, want 0", c.Storage.OutcomeSyncDelay)
	}
	_, diags = parse(t, "storage {\n  outcome_sync_delay = \"1m\"\n}\n", nil)
	expectDiags(t, diags, `t.hcl:2:3: storage.outcome_sync_delay 1m0s is above 10s`)
}

// TestCommitDelay: storage.commit_delay decodes, defaults to 0 (no publish
// held), and one above the bound is named with its place.
func TestCommitDelay(t *testing.T) {
	c, diags := parse(t, "storage {\n  commit_delay = \"5ms\"\n}\n", nil)
	expectDiags(t, diags)
	if c.Storage.CommitDelay != 5*time.Millisecond {
		t.Errorf("commit_delay %s, want 5ms", c.Storage.CommitDelay)
	}
	c, diags = parse(t, "storage {\n}\n", nil)
	expectDiags(t, diags)
	if c.Storage.CommitDelay != 0 {
		t.Errorf("commit_delay defaults to %s, want 0", c.Storage.CommitDelay)
	}
	_, diags = parse(t, "storage {\n  commit_delay = \"1s\"\n}\n", nil)
	expectDiags(t, diags, `t.hcl:2:3: storage.commit_delay 1s is above 50ms`)
	_, diags = parse(t, "storage {\n  commit_delay = \"-1ms\"\n}\n", nil)
	if len(diags) == 0 {
		t.Error("a negative commit_delay was accepted")
	}
}
