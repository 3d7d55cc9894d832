package config

import (
	"testing"
	"time"
)

// TestQuotasDecode: the quotas block sets every company's limits; a
// company block overrides the ones it sets, and each limit names the
// setting it comes from (for over-quota answers).
func TestQuotasDecode(t *testing.T) {
	cfg := mustParse(t, `
quotas {
  webhooks     = 20
  publish_rate = 50
}
company "100" {
  webhooks     = 500
  stored_bytes = 0
}
`, nil)
	got := cfg.QuotasOf(100)
	want := CompanyQuotas{
		Webhooks:     Limit{500, `webhooks of company "100"`},
		StoredBytes:  Limit{0, `stored_bytes of company "100"`},
		PublishRate:  Limit{50, "quotas.publish_rate"},
		PublishBurst: Limit{2000, "quotas.publish_burst"},
	}
	if got != want {
		t.Errorf("QuotasOf(100) = %+v\nwant %+v", got, want)
	}
	if got := cfg.QuotasOf(7); got.Webhooks != (Limit{20, "quotas.webhooks"}) || got.StoredBytes != (Limit{1 << 30, "quotas.stored_bytes"}) {
		t.Errorf("QuotasOf(7) = %+v, want the quotas block's and the defaults", got)
	}
	def := Defaults()
	if d := def.QuotasOf(1); d.Webhooks.Value != 100 || d.StoredBytes.Value != 1<<30 || d.PublishRate.Value != 1000 || d.PublishBurst.Value != 2000 {
		t.Errorf("default quotas = %+v, want 100 webhooks, 1 GiB, 1000/s with bursts of 2000", d)
	}
}

func TestQuotasDiagnostics(t *testing.T) {
	_, diags := parse(t, `
quotas {
  webhooks = -1
}
company "acme" {
  webhooks = 5
}
company "100" {
  publish_burst = 0
}
company "100" {
  webhooks = 5
}
delivery {
  workers       = 4
  spare_workers = 4
}
`, nil)
	expectDiags(t, diags,
		`t.hcl:3:3: invalid quotas.webhooks: -1`,
		`t.hcl:5:9: invalid company id "acme"`,
		`t.hcl:9:3: invalid publish_burst of company "100": 0`,
		`t.hcl:11:1: duplicate company 100: company 100 is already defined at t.hcl:8`,
		`t.hcl:16:3: delivery.spare_workers 4 is not below delivery.workers 4`,
	)
}

// TestRecorderSettings: record_batch and record_linger decode, and each
// bad value is named with its place.
func TestRecorderSettings(t *testing.T) {
	c, diags := parse(t, `
delivery {
  record_batch  = 64
  record_linger = "2ms"
}
`, nil)
	expectDiags(t, diags)
	if c.Delivery.RecordBatch != 64 || c.Delivery.RecordLinger != 2*time.Millisecond {
		t.Errorf("record_batch %d, record_linger %s; want 64 and 2ms", c.Delivery.RecordBatch, c.Delivery.RecordLinger)
	}
	_, diags = parse(t, `
delivery {
  record_batch  = 0
  record_linger = "5s"
}
`, nil)
	expectDiags(t, diags,
		`t.hcl:3:3: invalid delivery.record_batch: 0`,
		`t.hcl:4:3: delivery.record_linger 5s is above 1s`,
	)
}
