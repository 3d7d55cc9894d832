package config

import (
	"fmt"
	"strconv"
	"strings"
	"time"

	"github.com/hashicorp/hcl/v2"
	"github.com/hashicorp/hcl/v2/hclsyntax"
	"github.com/zclconf/go-cty/cty"
	"github.com/zclconf/go-cty/cty/convert"
	"github.com/zclconf/go-cty/cty/gocty"
)

// The schemas are written out by hand (rather than gohcl struct tags) so the
// decoder keeps each attribute's range for validation messages and can treat
// an explicit null like an absent attribute. Nothing is Required in the
// schemas: missing attributes get our own messages, pointing at the block.
var (
	rootSchema = &hcl.BodySchema{Blocks: []hcl.BlockHeaderSchema{
		{Type: "server"},
		{Type: "storage"},
		{Type: "delivery"},
		{Type: "transforms"},
		{Type: "auth"},
		{Type: "api"},
		{Type: "smtp"},
		{Type: "lifecycle"},
		{Type: "delivery_log"},
		{Type: "sink", LabelNames: []string{"name"}},
		{Type: "webhook", LabelNames: []string{"name"}},
		{Type: "quotas"},
		{Type: "company", LabelNames: []string{"id"}},
		{Type: "telemetry"},
	}}
	serverSchema = attrSchema("listen", "public_url", "body_limit", "shutdown_timeout", "read_timeout", "idle_timeout",
		"trusted_proxies", "max_unauthenticated_bodies")
	storageSchema = attrSchema("driver", "dsn", "lease", "lock_timeout", "max_conns", "sweep_interval",
		"path", "log_retention", "rollup_retention", "rollup_sample", "gc_interval", "outcome_sync_delay", "commit_delay", "min_free_bytes", "encryption_key", "encryption_key_file", "previous_encryption_keys")
	deliverySchema = attrSchema("timeout", "backoff", "workers", "allow_http", "allow_private_networks",
		"idempotency_ttl", "retries_high", "retries_medium", "retries_low", "high_rate", "low_rate",
		"max_retry_after", "secret_grace_period", "max_in_flight_per_webhook", "slow_threshold", "slow_share",
		"event_cache_bytes", "max_body", "spare_workers", "sink_batch_max", "sink_batch_linger",
		"record_batch", "record_linger", "rate_burst")
	transformsSchema = attrSchema("engine", "timeout", "max_depth")
	authSchema       = &hcl.BodySchema{
		Attributes: attrSchema("token_ttl", "signing_key", "max_failures_per_client").Attributes,
		Blocks:     []hcl.BlockHeaderSchema{{Type: "client", LabelNames: []string{"id"}}},
	}
	clientSchema  = attrSchema("secret", "secret_sha256", "company_id", "user_id", "scopes")
	sinkSchema    = attrSchema("type", "command", "sha256", "config", "companies", "rate_limit", "rate_burst", "cpus")
	webhookSchema = attrSchema("company_id", "user_id", "url", "method", "status", "events", "secret",
		"headers", "payload_template", "sink", "notification_email", "model_properties", "signature_format",
		"secret_grace_period", "rate_limit", "rate_burst", "max_in_flight",
		"ordering", "ordering_on_dead")
)

func attrSchema(names ...string) *hcl.BodySchema {
	s := &hcl.BodySchema{}
	for _, n := range names {
		s.Attributes = append(s.Attributes, hcl.AttributeSchema{Name: n})
	}
	return s
}

// decoder accumulates diagnostics so that every problem in a file is
// reported in one run instead of one per edit-and-retry cycle.
type decoder struct {
	ctx   *hcl.EvalContext
	diags hcl.Diagnostics
	// ranges maps "block.attr" paths (see attrPath) to the attribute's range,
	// for checks that run after the whole file is decoded.
	ranges map[string]hcl.Range
	// exprs keeps the expressions of secrets, to tell "env var unset" apart
	// from a literal empty string in messages.
	exprs map[string]hcl.Expression
}

func (d *decoder) errorf(rng hcl.Range, summary, detail string, args ...any) {
	d.add(hcl.DiagError, rng, summary, detail, args...)
}

// warnf records a warning: the config loads, and `hookgate validate` and
// serve print it.
func (d *decoder) warnf(rng hcl.Range, summary, detail string, args ...any) {
	d.add(hcl.DiagWarning, rng, summary, detail, args...)
}

func (d *decoder) add(sev hcl.DiagnosticSeverity, rng hcl.Range, summary, detail string, args ...any) {
	d.diags = append(d.diags, &hcl.Diagnostic{
		Severity: sev,
		Summary:  summary,
		Detail:   fmt.Sprintf(detail, args...),
		Subject:  rng.Ptr(),
	})
}

// rangeOf returns the recorded range of an attribute, or fallback (the
// block's) when the attribute was not written.
func (d *decoder) rangeOf(path string, fallback hcl.Range) hcl.Range {
	if r, ok := d.ranges[path]; ok {
		return r
	}
	return fallback
}

// where is "file:line" of a range, for messages that refer to another place.
func where(r hcl.Range) string {
	return r.Filename + ":" + strconv.Itoa(r.Start.Line)
}

// body is one block's attributes plus the names diagnostics use for them.
type body struct {
	d      *decoder
	prefix string // "delivery", `webhook "erp-sync"`, ...
	attrs  hcl.Attributes
}

func (d *decoder) content(b hcl.Body, schema *hcl.BodySchema, prefix string) (*body, []*hcl.Block) {
	content, diags := b.Content(schema)
	d.diags = append(d.diags, diags...)
	return &body{d: d, prefix: prefix, attrs: content.Attributes}, content.Blocks
}

// attrPath is the key of an attribute in decoder.ranges.
func attrPath(prefix, name string) string { return prefix + "." + name }

// describe names an attribute in messages: "delivery.timeout" for the
// singleton blocks, `company_id of client "acme"` for labelled ones.
func describe(prefix, name string) string {
	if strings.Contains(prefix, " ") {
		return name + " of " + prefix
	}
	return prefix + "." + name
}

// value evaluates an attribute and converts it to ty. It reports false when
// the attribute is absent, null (treated as absent, so `x = null` means
// "use the default") or wrong, with a diagnostic in the last case.
func (b *body) value(name string, ty cty.Type) (cty.Value, *hcl.Attribute, bool) {
	attr, ok := b.attrs[name]
	if !ok {
		return cty.NilVal, nil, false
	}
	path := attrPath(b.prefix, name)
	// Recorded before evaluating so that a broken value still counts as
	// written: validation then does not add "missing" on top of "invalid".
	b.d.ranges[path] = attr.Range
	v, diags := attr.Expr.Value(b.d.ctx)
	b.d.diags = append(b.d.diags, diags...)
	if diags.HasErrors() || v.IsNull() || !v.IsWhollyKnown() {
		return cty.NilVal, attr, false
	}
	cv, err := convert.Convert(v, ty)
	if err != nil {
		b.d.errorf(attr.Expr.Range(), "invalid value for "+describe(b.prefix, name), "expected %s: %s", ty.FriendlyName(), err)
		return cty.NilVal, attr, false
	}
	return cv, attr, true
}

// into decodes an attribute into the Go value dst points at; on success dst
// is overwritten and the attribute returned, for checks of the value. A
// value that did not decode is reported here and returns nil (dst keeps
// its default), so those checks do not add a second error about a value
// nobody wrote.
func (b *body) into(name string, ty cty.Type, dst any) *hcl.Attribute {
	v, attr, ok := b.value(name, ty)
	if !ok {
		return nil
	}
	if err := gocty.FromCtyValue(v, dst); err != nil {
		b.d.errorf(attr.Expr.Range(), "invalid value for "+describe(b.prefix, name), "%s", err)
		return nil
	}
	return attr
}

func (b *body) str(name string, dst *string) *hcl.Attribute  { return b.into(name, cty.String, dst) }
func (b *body) int64(name string, dst *int64) *hcl.Attribute { return b.into(name, cty.Number, dst) }
func (b *body) int(name string, dst *int) *hcl.Attribute     { return b.into(name, cty.Number, dst) }
func (b *body) float(name string, dst *float64) *hcl.Attribute {
	return b.into(name, cty.Number, dst)
}
func (b *body) bool(name string, dst *bool) *hcl.Attribute { return b.into(name, cty.Bool, dst) }
func (b *body) strings(name string, dst *[]string) *hcl.Attribute {
	return b.into(name, cty.List(cty.String), dst)
}
func (b *body) strMap(name string, dst *map[string]string) *hcl.Attribute {
	return b.into(name, cty.Map(cty.String), dst)
}

// atLeast checks an integer attribute that was written is at least min.
func (b *body) atLeast(attr *hcl.Attribute, name string, got, min int64) {
	if attr != nil && got < min {
		b.d.errorf(attr.Range, fmt.Sprintf("invalid %s: %d", describe(b.prefix, name), got), "must be at least %d", min)
	}
}

const durationHint = `use a Go duration such as "100ms", "30s", "10m" or "24h"`

func (b *body) parseDuration(rng hcl.Range, path, s string, dst *time.Duration, allowZero bool) bool {
	v, err := time.ParseDuration(s)
	if err != nil {
		b.d.errorf(rng, fmt.Sprintf("invalid duration %q for %s", s, path), "%s; %s", err, durationHint)
		return false
	}
	if v < 0 || (v == 0 && !allowZero) {
		want := "greater than zero"
		if allowZero {
			want = "zero or more"
		}
		b.d.errorf(rng, fmt.Sprintf("invalid duration %q for %s", s, path), "must be %s", want)
		return false
	}
	*dst = v
	return true
}

func (d *decoder) decodeRoot(root hcl.Body, cfg *Config) {
	_, blocks := d.content(root, rootSchema, "")
	first := map[string]hcl.Range{}    // singleton blocks seen
	sinks := map[string]hcl.Range{}    // sink label -> first definition
	webhooks := map[string]hcl.Range{} // webhook label -> first definition
	for _, blk := range blocks {
		switch blk.Type {
		case "company":
			d.decodeCompany(blk, cfg)
			continue
		case "sink", "webhook":
			seen := sinks
			if blk.Type == "webhook" {
				seen = webhooks
			}
			name := blk.Labels[0]
			if !d.checkName(blk, name) {
				continue
			}
			if prev, dup := seen[name]; dup {
				d.errorf(blk.DefRange, fmt.Sprintf("duplicate %s %q", blk.Type, name),
					"%s %q is already defined at %s; names must be unique", blk.Type, name, where(prev))
				continue
			}
			seen[name] = blk.DefRange
			if blk.Type == "sink" {
				cfg.Sinks = append(cfg.Sinks, d.decodeSink(blk, name))
			} else {
				cfg.Webhooks = append(cfg.Webhooks, d.decodeWebhook(blk, name))
			}
			continue
		}
		if prev, dup := first[blk.Type]; dup {
			d.errorf(blk.DefRange, fmt.Sprintf("duplicate %s block", blk.Type),
				"the first %s block is at %s; merge them into one", blk.Type, where(prev))
			continue
		}
		first[blk.Type] = blk.DefRange
		switch blk.Type {
		case "server":
			d.decodeServer(blk.Body, &cfg.Server)
		case "storage":
			d.decodeStorage(blk.Body, &cfg.Storage)
		case "delivery":
			d.decodeDelivery(blk.Body, &cfg.Delivery)
		case "transforms":
			d.decodeTransforms(blk.Body, &cfg.Transforms)
		case "auth":
			d.decodeAuth(blk.Body, &cfg.Auth)
		case "quotas":
			d.decodeQuotas(blk.Body, &cfg.Quotas)
		case "telemetry":
			d.decodeTelemetry(blk, &cfg.Telemetry)
		default:
			d.decodeAPIBlocks(blk, cfg)
		}
	}
}

// checkName keeps block labels to a conservative alphabet because they end
// up in URLs, storage keys, token subjects and log lines.
func (d *decoder) checkName(blk *hcl.Block, name string) bool {
	if validName(name) {
		return true
	}
	rng := blk.DefRange
	if len(blk.LabelRanges) > 0 {
		rng = blk.LabelRanges[0]
	}
	d.errorf(rng, fmt.Sprintf("invalid %s name %q", blk.Type, name),
		"names are 1 to 64 characters of letters, digits, '.', '_' and '-', starting with a letter or digit")
	return false
}

func validName(s string) bool {
	if len(s) == 0 || len(s) > 64 {
		return false
	}
	for i, c := range []byte(s) {
		switch {
		case c >= 'a' && c <= 'z', c >= 'A' && c <= 'Z', c >= '0' && c <= '9':
		case i > 0 && (c == '.' || c == '_' || c == '-'):
		default:
			return false
		}
	}
	return true
}

func (d *decoder) decodeServer(hb hcl.Body, s *Server) {
	b, _ := d.content(hb, serverSchema, "server")
	b.str("listen", &s.Listen)
	b.str("public_url", &s.PublicURL)
	b.atLeast(b.int64("body_limit", &s.BodyLimit), "body_limit", s.BodyLimit, 1)
	b.durationAttr("shutdown_timeout", &s.ShutdownTimeout, true)
	b.durationAttr("read_timeout", &s.ReadTimeout, false)
	b.durationAttr("idle_timeout", &s.IdleTimeout, false)
	d.decodeTrustedProxies(b, s)
	b.atLeast(b.int("max_unauthenticated_bodies", &s.MaxUnauthenticatedBodies), "max_unauthenticated_bodies", int64(s.MaxUnauthenticatedBodies), 1)
}

func (d *decoder) decodeStorage(hb hcl.Body, s *Storage) {
	b, _ := d.content(hb, storageSchema, "storage")
	b.str("driver", &s.Driver)
	b.str("dsn", &s.DSN)
	b.durationAttr("lease", &s.Lease, true)
	b.durationAttr("lock_timeout", &s.LockTimeout, false)
	b.atLeast(b.int("max_conns", &s.MaxConns), "max_conns", int64(s.MaxConns), 2)
	b.durationAttr("sweep_interval", &s.SweepInterval, false)
	b.str("path", &s.Path)
	b.durationAttr("log_retention", &s.LogRetention, false)
	b.durationAttr("rollup_retention", &s.RollupRetention, false)
	b.durationAttr("rollup_sample", &s.RollupSample, false)
	b.durationAttr("gc_interval", &s.GCInterval, false)
	b.durationAttr("outcome_sync_delay", &s.OutcomeSyncDelay, true)
	b.durationAttr("commit_delay", &s.CommitDelay, true)
	b.atLeast(b.int64("min_free_bytes", &s.MinFreeBytes), "min_free_bytes", s.MinFreeBytes, 0)
	d.remember(b, "encryption_key")
	b.str("encryption_key", &s.EncryptionKey)
	b.str("encryption_key_file", &s.EncryptionKeyFile)
	b.strings("previous_encryption_keys", &s.PreviousEncryptionKeys)
}

func (d *decoder) decodeDelivery(hb hcl.Body, s *Delivery) {
	b, _ := d.content(hb, deliverySchema, "delivery")
	b.durationAttr("timeout", &s.Timeout, false)
	var backoff []string
	if attr := b.strings("backoff", &backoff); attr != nil && backoff != nil {
		path := attrPath(b.prefix, "backoff")
		if len(backoff) == 0 {
			d.errorf(attr.Range, "empty "+path, "list at least one delay (the delay before retry 1, 2, ...); the default is %s", formatDurations(DefaultBackoff()))
		} else {
			out := make([]time.Duration, len(backoff))
			ok := true
			for i, v := range backoff {
				ok = b.parseDuration(attr.Range, fmt.Sprintf("%s[%d]", path, i), v, &out[i], false) && ok
			}
			if ok {
				s.Backoff = out
			}
		}
	}
	b.atLeast(b.int("workers", &s.Workers), "workers", int64(s.Workers), 1)
	b.bool("allow_http", &s.AllowHTTP)
	b.bool("allow_private_networks", &s.AllowPrivateNetworks)
	b.durationAttr("idempotency_ttl", &s.IdempotencyTTL, false)
	b.atLeast(b.int("retries_high", &s.RetriesHigh), "retries_high", int64(s.RetriesHigh), 0)
	b.atLeast(b.int("retries_medium", &s.RetriesMedium), "retries_medium", int64(s.RetriesMedium), 0)
	b.atLeast(b.int("retries_low", &s.RetriesLow), "retries_low", int64(s.RetriesLow), 0)
	b.float("high_rate", &s.HighRate)
	b.float("low_rate", &s.LowRate)
	b.durationAttr("max_retry_after", &s.MaxRetryAfter, true)
	b.durationAttr("secret_grace_period", &s.SecretGracePeriod, true)
	b.atLeast(b.int("max_in_flight_per_webhook", &s.MaxInFlightPerWebhook), "max_in_flight_per_webhook", int64(s.MaxInFlightPerWebhook), 1)
	b.durationAttr("slow_threshold", &s.SlowThreshold, false)
	b.float("slow_share", &s.SlowShare)
	b.atLeast(b.int64("event_cache_bytes", &s.EventCacheBytes), "event_cache_bytes", s.EventCacheBytes, 0)
	if attr := b.int64("max_body", &s.MaxBody); attr != nil && (s.MaxBody < 1 || s.MaxBody > MaxDeliveryBody) {
		d.errorf(attr.Range, fmt.Sprintf("invalid delivery.max_body: %d", s.MaxBody),
			"must be between 1 and %d bytes (32 MiB, the largest body a sink accepts)", MaxDeliveryBody)
	}
	b.atLeast(b.int("spare_workers", &s.SpareWorkers), "spare_workers", int64(s.SpareWorkers), 0)
	b.atLeast(b.int("sink_batch_max", &s.SinkBatchMax), "sink_batch_max", int64(s.SinkBatchMax), 1)
	b.durationAttr("sink_batch_linger", &s.SinkBatchLinger, true)
	b.atLeast(b.int("record_batch", &s.RecordBatch), "record_batch", int64(s.RecordBatch), 1)
	b.durationAttr("record_linger", &s.RecordLinger, true)
	b.atLeast(b.int("rate_burst", &s.RateBurst), "rate_burst", int64(s.RateBurst), 1)
}

// MaxDeliveryBody is the largest delivery.max_body: the largest request
// body the gateway hands to a sink (plugins/sdk.MaxRequestBody).
const MaxDeliveryBody = 32 << 20

func (d *decoder) decodeTransforms(hb hcl.Body, s *Transforms) {
	b, _ := d.content(hb, transformsSchema, "transforms")
	b.str("engine", &s.Engine)
	b.durationAttr("timeout", &s.Timeout, false)
	b.atLeast(b.int("max_depth", &s.MaxDepth), "max_depth", int64(s.MaxDepth), 1)
}

func (d *decoder) decodeAuth(hb hcl.Body, s *Auth) {
	b, blocks := d.content(hb, authSchema, "auth")
	b.durationAttr("token_ttl", &s.TokenTTL, false)
	b.str("signing_key", &s.SigningKey)
	b.atLeast(b.int("max_failures_per_client", &s.MaxFailuresPerClient), "max_failures_per_client", int64(s.MaxFailuresPerClient), 1)
	seen := map[string]hcl.Range{}
	for _, blk := range blocks {
		id := blk.Labels[0]
		if !d.checkName(blk, id) {
			continue
		}
		if prev, dup := seen[id]; dup {
			d.errorf(blk.DefRange, fmt.Sprintf("duplicate client %q", id),
				"client %q is already defined at %s; client ids must be unique", id, where(prev))
			continue
		}
		seen[id] = blk.DefRange
		s.Clients = append(s.Clients, d.decodeClient(blk, id))
	}
}

func (d *decoder) decodeClient(blk *hcl.Block, id string) Client {
	c := Client{ID: id, Range: blk.DefRange}
	b, _ := d.content(blk.Body, clientSchema, fmt.Sprintf("client %q", id))
	d.remember(b, "secret")
	b.str("secret", &c.Secret)
	b.str("secret_sha256", &c.SecretSHA256)
	b.int64("company_id", &c.CompanyID)
	b.int64("user_id", &c.UserID)
	b.strings("scopes", &c.Scopes)
	return c
}

func (d *decoder) decodeSink(blk *hcl.Block, name string) Sink {
	s := Sink{Name: name, Range: blk.DefRange}
	b, _ := d.content(blk.Body, sinkSchema, fmt.Sprintf("sink %q", name))
	b.str("type", &s.Type)
	b.str("command", &s.Command)
	b.str("sha256", &s.SHA256)
	b.strMap("config", &s.Settings)
	b.into("companies", cty.List(cty.Number), &s.Companies)
	b.str("rate_limit", &s.Limit.Rate)
	b.int("rate_burst", &s.Limit.Burst)
	b.atLeast(b.int("cpus", &s.CPUs), "cpus", int64(s.CPUs), 1)
	return s
}

func (d *decoder) decodeWebhook(blk *hcl.Block, name string) Webhook {
	w := Webhook{Name: name, Method: "post", Status: "active", Sink: "http", SignatureFormat: SignatureFN, Range: blk.DefRange}
	b, _ := d.content(blk.Body, webhookSchema, fmt.Sprintf("webhook %q", name))
	b.int64("company_id", &w.CompanyID)
	b.int64("user_id", &w.UserID)
	d.remember(b, "url")
	b.str("url", &w.URL)
	b.str("method", &w.Method)
	b.str("status", &w.Status)
	b.strings("events", &w.Events)
	d.remember(b, "secret")
	b.str("secret", &w.Secret)
	b.strMap("headers", &w.Headers)
	b.str("payload_template", &w.PayloadTemplate)
	b.str("sink", &w.Sink)
	b.str("notification_email", &w.NotificationEmail)
	b.strings("model_properties", &w.ModelProperties)
	b.str("signature_format", &w.SignatureFormat)
	b.str("rate_limit", &w.Limit.Rate)
	b.int("rate_burst", &w.Limit.Burst)
	b.atLeast(b.int("max_in_flight", &w.MaxInFlight), "max_in_flight", int64(w.MaxInFlight), 1)
	b.str("ordering", &w.Ordering)
	b.str("ordering_on_dead", &w.OrderingOnDead)
	if v, attr, ok := b.value("secret_grace_period", cty.String); ok {
		var grace time.Duration
		if b.parseDuration(attr.Range, describe(b.prefix, "secret_grace_period"), v.AsString(), &grace, true) {
			w.SecretGracePeriod = &grace
		}
	}
	return w
}

func (d *decoder) remember(b *body, name string) {
	if a, ok := b.attrs[name]; ok {
		if d.exprs == nil {
			d.exprs = map[string]hcl.Expression{}
		}
		d.exprs[attrPath(b.prefix, name)] = a.Expr
	}
}

// envHint explains an empty value that came from env("NAME") with no
// default: the usual cause is a variable not exported in this shell.
func (d *decoder) envHint(path string) string {
	call, ok := d.exprs[path].(*hclsyntax.FunctionCallExpr)
	if !ok || call.Name != "env" || len(call.Args) == 0 {
		return ""
	}
	v, diags := call.Args[0].Value(nil)
	if diags.HasErrors() || v.IsNull() || !v.IsKnown() || v.Type() != cty.String {
		return ""
	}
	return fmt.Sprintf(" (environment variable %s is unset or empty)", v.AsString())
}

func formatDurations(ds []time.Duration) string {
	s := ""
	for i, v := range ds {
		if i > 0 {
			s += ", "
		}
		s += v.String()
	}
	return s
}

// durationAttr decodes a duration attribute in place.
func (b *body) durationAttr(name string, dst *time.Duration, allowZero bool) {
	var s string
	v, attr, ok := b.value(name, cty.String)
	if !ok {
		return
	}
	s = v.AsString()
	b.parseDuration(attr.Range, describe(b.prefix, name), s, dst, allowZero)
}
