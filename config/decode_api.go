package config

import (
	"fmt"
	"net/mail"
	"slices"

	"github.com/hashicorp/hcl/v2"
)

// Schemas of the blocks the management API, notifications and lifecycle read.
var (
	apiSchema = attrSchema("rate_limit", "rate_burst", "per_page", "max_per_page", "log_per_page",
		"max_sort_depth", "max_batch_events")
	smtpSchema        = attrSchema("host", "port", "from", "username", "password", "tls", "timeout")
	lifecycleSchema   = attrSchema("auto_deactivate_after", "check_interval")
	deliveryLogSchema = attrSchema("presign_ttl", "max_body")
)

// SMTPTLSModes are the values smtp.tls accepts.
var SMTPTLSModes = []string{SMTPStartTLS, SMTPTLS, SMTPNoTLS}

// decodeAPIBlocks decodes api, smtp, lifecycle and delivery_log.
func (d *decoder) decodeAPIBlocks(blk *hcl.Block, cfg *Config) {
	// The block's own range, for problems with no attribute to point at.
	d.ranges[blk.Type] = blk.DefRange
	switch blk.Type {
	case "api":
		b, _ := d.content(blk.Body, apiSchema, "api")
		s := &cfg.API
		b.atLeast(b.int("rate_limit", &s.RateLimit), "rate_limit", int64(s.RateLimit), 1)
		b.atLeast(b.int("rate_burst", &s.RateBurst), "rate_burst", int64(s.RateBurst), 1)
		b.atLeast(b.int("per_page", &s.PerPage), "per_page", int64(s.PerPage), 1)
		b.atLeast(b.int("max_per_page", &s.MaxPerPage), "max_per_page", int64(s.MaxPerPage), 1)
		b.atLeast(b.int("log_per_page", &s.LogPerPage), "log_per_page", int64(s.LogPerPage), 1)
		b.int("max_sort_depth", &s.MaxSortDepth)
		b.atLeast(b.int("max_batch_events", &s.MaxBatchEvents), "max_batch_events", int64(s.MaxBatchEvents), 1)
	case "smtp":
		b, _ := d.content(blk.Body, smtpSchema, "smtp")
		s := &cfg.SMTP
		b.str("host", &s.Host)
		b.int("port", &s.Port)
		b.str("from", &s.From)
		b.str("username", &s.Username)
		d.remember(b, "password")
		b.str("password", &s.Password)
		b.str("tls", &s.TLS)
		b.durationAttr("timeout", &s.Timeout, false)
	case "lifecycle":
		b, _ := d.content(blk.Body, lifecycleSchema, "lifecycle")
		b.durationAttr("auto_deactivate_after", &cfg.Lifecycle.AutoDeactivateAfter, true)
		b.durationAttr("check_interval", &cfg.Lifecycle.CheckInterval, false)
	case "delivery_log":
		b, _ := d.content(blk.Body, deliveryLogSchema, "delivery_log")
		b.durationAttr("presign_ttl", &cfg.DeliveryLog.PresignTTL, false)
		b.atLeast(b.int("max_body", &cfg.DeliveryLog.MaxBody), "max_body", int64(cfg.DeliveryLog.MaxBody), 0)
	}
}

// validateAPIBlocks runs the checks that relate attributes to each other.
func (d *decoder) validateAPIBlocks(cfg *Config) {
	file := hcl.Range{Filename: cfg.File}
	a := &cfg.API
	if a.PerPage > a.MaxPerPage {
		d.errorf(d.rangeOf("api.per_page", d.rangeOf("api.max_per_page", file)),
			fmt.Sprintf("api.per_page %d is above api.max_per_page %d", a.PerPage, a.MaxPerPage),
			"the default page size must fit in the largest page (defaults 25 and 500)")
	}
	if a.LogPerPage > a.MaxPerPage {
		d.errorf(d.rangeOf("api.log_per_page", d.rangeOf("api.max_per_page", file)),
			fmt.Sprintf("api.log_per_page %d is above api.max_per_page %d", a.LogPerPage, a.MaxPerPage),
			"the default page size of delivery logs must fit in the largest page (defaults 50 and 500)")
	}
	if a.MaxSortDepth < a.MaxPerPage {
		d.errorf(d.rangeOf("api.max_sort_depth", d.rangeOf("api.max_per_page", file)),
			fmt.Sprintf("api.max_sort_depth %d is below api.max_per_page %d", a.MaxSortDepth, a.MaxPerPage),
			"a sorted delivery-log page must reach at least one full page (defaults 5000 and 500)")
	}
	d.validateSMTP(cfg, d.rangeOf("smtp", file))
}

func (d *decoder) validateSMTP(cfg *Config, block hcl.Range) {
	s := &cfg.SMTP
	at := func(name string) hcl.Range { return d.rangeOf("smtp."+name, block) }
	if !slices.Contains(SMTPTLSModes, s.TLS) {
		d.errorf(at("tls"), fmt.Sprintf("invalid smtp.tls %q", s.TLS), "valid modes: %s%s", quoteList(SMTPTLSModes), suggest(s.TLS, SMTPTLSModes))
	}
	if s.Port < 1 || s.Port > 65535 {
		d.errorf(at("port"), fmt.Sprintf("invalid smtp.port: %d", s.Port), "a TCP port is 1 to 65535; submission is usually 587 (starttls) or 465 (tls)")
	}
	if s.Host == "" {
		// No host (env("...") unset included) means no email, so the
		// shipped config starts with an empty environment.
		return
	}
	if s.From == "" {
		d.errorf(at("from"), "smtp has no from address", "set from = \"hookgate@example.com\": notification emails need a sender")
	} else if addr, err := mail.ParseAddress(s.From); err != nil || addr.Address == "" {
		d.errorf(at("from"), fmt.Sprintf("invalid smtp.from %q", s.From), "expected an address such as \"hookgate@example.com\" or \"Hookgate <hookgate@example.com>\"")
	}
	switch {
	case s.Username != "" && s.Password == "":
		// Only where the password came from: never its value.
		d.errorf(at("password"), "smtp.username is set but smtp.password is empty",
			"set password = env(\"SMTP_PASSWORD\")%s", d.envHint("smtp.password"))
	case s.Username == "" && s.Password != "":
		d.errorf(at("username"), "smtp.password is set but smtp.username is empty", "give the user name the password belongs to")
	}
}
