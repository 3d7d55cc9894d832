package config

import (
	"fmt"
	"time"

	"github.com/hashicorp/hcl/v2"
)

// validateStorage checks the driver choice and the postgres lease (0 keeps
// the default, resolved by EffectiveLease).
func (d *decoder) validateStorage(cfg *Config) {
	s := &cfg.Storage
	file := hcl.Range{Filename: cfg.File}
	switch s.Driver {
	case DriverBadger:
	case DriverPostgres:
		if s.DSN == "" {
			d.errorf(d.rangeOf("storage.driver", file), "empty storage.dsn",
				"driver \"postgres\" needs a connection string, e.g. dsn = env(\"HOOKGATE_DATABASE_URL\") "+
					"with postgres://user:password@host:5432/hookgate")
		}
	default:
		d.errorf(d.rangeOf("storage.driver", file), fmt.Sprintf("unknown storage.driver %q", s.Driver),
			"valid drivers: \"badger\" (embedded, the default) and \"postgres\" (several replicas on one database)")
	}
	// A lease shorter than an attempt would let a second replica send a
	// delivery the first is still sending.
	least := cfg.Delivery.Timeout + LeaseGrace
	if s.Lease != 0 && s.Lease < least {
		d.errorf(d.rangeOf("storage.lease", file), fmt.Sprintf("storage.lease %s is too short", s.Lease),
			"a claim must outlast an attempt: at least delivery.timeout (%s) + %s, so no delivery is sent by two replicas at once",
			cfg.Delivery.Timeout, LeaseGrace)
	}
	if s.OutcomeSyncDelay > MaxOutcomeSyncDelay {
		d.errorf(d.rangeOf("storage.outcome_sync_delay", file), fmt.Sprintf("storage.outcome_sync_delay %s is above %s", s.OutcomeSyncDelay, MaxOutcomeSyncDelay),
			"a power loss sends again the deliveries whose outcomes were not yet synced; beyond a fraction of a second it saves nothing more (default 200ms, 0 syncs every outcome)")
	}
	if s.CommitDelay > MaxCommitDelay {
		d.errorf(d.rangeOf("storage.commit_delay", file), fmt.Sprintf("storage.commit_delay %s is above %s", s.CommitDelay, MaxCommitDelay),
			"every publish may wait this long before it is answered; a few milliseconds already share each sync among the publishes of a steady rate (default 0s)")
	}
}

// MaxCommitDelay bounds storage.commit_delay: every publish that waits
// for company waits this long at most, and a publish is answered only
// once synced.
const MaxCommitDelay = 50 * time.Millisecond

// MaxOutcomeSyncDelay bounds storage.outcome_sync_delay: the deliveries a
// power loss would send again.
const MaxOutcomeSyncDelay = 10 * time.Second

// EffectiveLease is storage.lease, or delivery.timeout + 60s when unset.
func (c *Config) EffectiveLease() time.Duration {
	if c.Storage.Lease > 0 {
		return c.Storage.Lease
	}
	return c.Delivery.Timeout + time.Minute
}
