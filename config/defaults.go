package config

import "time"

// Defaults returns the configuration used for everything a gateway.hcl
// leaves out: the numbers of the spec (30s timeout, 7 retries with backoff
// 10s..640s, 64 workers, ...). Server.PublicURL is filled in from the final
// Listen address when it is not set, so it is "http://127.0.0.1:8080" here.
// Each call returns fresh slices, so callers may modify the result.
func Defaults() Config {
	const listen = "127.0.0.1:8080"
	return Config{
		Server: Server{
			Listen:          listen,
			PublicURL:       "http://" + listen,
			BodyLimit:       1 << 20,
			ShutdownTimeout: 30 * time.Second,
			ReadTimeout:     10 * time.Second,
			IdleTimeout:     60 * time.Second,
			// Bodies read before authentication (gateway/api/bodies.go).
			MaxUnauthenticatedBodies: 64,
		},
		Storage: Storage{
			Driver:        DriverBadger,
			LockTimeout:   2 * time.Minute,
			MaxConns:      16,
			SweepInterval: 10 * time.Minute,
			Path:          "./data",
			LogRetention:  720 * time.Hour,
			// The charts' longest range is 7 days (dashboard/charts).
			RollupRetention: 168 * time.Hour,
			RollupSample:    10 * time.Second,
			GCInterval:      10 * time.Minute,
			// PostgreSQL's wal_writer_delay, the same trade for its
			// asynchronous commits.
			OutcomeSyncDelay: 200 * time.Millisecond,
			MinFreeBytes:     64 << 20,
		},
		Delivery: Delivery{
			Timeout:        30 * time.Second,
			Backoff:        DefaultBackoff(),
			Workers:        64,
			IdempotencyTTL: 24 * time.Hour,
			RetriesHigh:    7,
			RetriesMedium:  5,
			RetriesLow:     3,
			HighRate:       0.95,
			LowRate:        0.80,
			MaxRetryAfter:  time.Hour,
			// A replaced webhook secret signs beside the new one this long.
			SecretGracePeriod: 24 * time.Hour,
			// Fairness (gateway/delivery/fairness.go).
			MaxInFlightPerWebhook: 64,
			SlowThreshold:         time.Second,
			SlowShare:             0.5,
			// Recent events kept for their deliveries (gateway/eventcache.go).
			EventCacheBytes: 32 << 20,
			// The largest rendered body a delivery sends (gateway/deliver.go).
			MaxBody:      1 << 20,
			SpareWorkers: 2,
			// The delivery stream to each sink (plugins/host). A linger of
			// 200 µs or 1 ms saved no CPU in `hookgate bench` on 2 cores
			// (the yield before each batch already fills it), so none by
			// default (docs/plugins.md, "Batches").
			SinkBatchMax:    64,
			SinkBatchLinger: 0,
			// Attempt outcomes per store write (gateway/delivery/recorder.go).
			RecordBatch:  256,
			RecordLinger: 5 * time.Millisecond,
			// A rate_limit's bucket when it names no rate_burst.
			RateBurst: 1,
		},
		Auth: Auth{
			TokenTTL: time.Hour,
			// Secret guessing per client id, from any address.
			MaxFailuresPerClient: 10,
		},
		Transforms: Transforms{
			Engine:   "gnata",
			Timeout:  100 * time.Millisecond,
			MaxDepth: 200,
		},
		API: API{
			RateLimit:  100,
			RateBurst:  20,
			PerPage:    25,
			MaxPerPage: 500,
			LogPerPage: 50,
			// Sorted delivery-log pages hold this many records (gateway/api/logs.go).
			MaxSortDepth:   5000,
			MaxBatchEvents: 500,
		},
		SMTP: SMTP{
			Port:    587,
			TLS:     SMTPStartTLS,
			Timeout: 10 * time.Second,
		},
		Lifecycle: Lifecycle{
			AutoDeactivateAfter: 7 * 24 * time.Hour,
			CheckInterval:       time.Hour,
		},
		DeliveryLog: DeliveryLog{
			PresignTTL: 15 * time.Minute,
			MaxBody:    64 << 10,
		},
		// Tracing is off until telemetry.otlp_endpoint is set (telemetry/).
		Telemetry: Telemetry{
			SampleRatio: 1.0,
			ServiceName: "hookgate",
		},
		// Per-company limits (gateway/quotas.go).
		Quotas: Quotas{
			Webhooks:     100,
			StoredBytes:  1 << 30,
			PublishRate:  1000,
			PublishBurst: 2000,
		},
	}
}

// DefaultBackoff returns the spec's delays before retries 1..7: 10s doubling
// to 640s.
func DefaultBackoff() []time.Duration {
	b := make([]time.Duration, 7)
	for i := range b {
		b[i] = (10 * time.Second) << i
	}
	return b
}
