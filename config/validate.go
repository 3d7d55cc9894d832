package config

import (
	"errors"
	"fmt"
	"net"
	"net/mail"
	"net/url"
	"regexp"
	"slices"
	"sort"
	"strings"
	"time"

	"github.com/agext/levenshtein"
	"github.com/hashicorp/hcl/v2"
	"golang.org/x/net/http/httpguts"

	"github.com/hookgate/hookgate/events"
	"github.com/hookgate/hookgate/transforms"
)

// Values accepted by enumerated attributes.
var (
	// Engines are the JSONata implementations transforms.New accepts.
	Engines = []string{transforms.EngineGnata, transforms.EngineJSONataGo}
	// Scopes a client may be granted.
	Scopes = []string{"events:publish", "webhooks:read", "webhooks:write"}
	// SinkTypes are the built-in sink implementations.
	SinkTypes = []string{"http", "servicenow", "salesforce"}
	// Methods and Statuses of a webhook.
	Methods  = []string{"post", "put"}
	Statuses = []string{"active", "inactive", "archived"}
)

// BuiltinSink is the sink every webhook uses unless it names another; it is
// always available without a sink block.
const BuiltinSink = "http"

// ReservedHeaderPrefix marks headers the gateway sets itself (signature,
// delivery id, ...); a webhook may not override them.
const ReservedHeaderPrefix = "x-fn-"

// reservedHeaders are the other headers the gateway sets on every delivery
// (lower case): the body's type and the Standard Webhooks signature.
var reservedHeaders = []string{"content-type", "webhook-id", "webhook-timestamp", "webhook-signature"}

// ReservedHeader reports whether name, in any case, is a header the gateway
// sets itself: X-FN-*, Content-Type and the webhook-* signature headers. A
// webhook may not set one (refused at create, update and load), and one
// stored before is dropped at delivery: ours always win.
func ReservedHeader(name string) bool {
	lower := strings.ToLower(name)
	return strings.HasPrefix(lower, ReservedHeaderPrefix) || slices.Contains(reservedHeaders, lower)
}

// MinClientSecret is the length below which a client's plain secret gets a
// warning.
const MinClientSecret = 16

// minSigningKey is the shortest auth.signing_key accepted: HS256 keys
// shorter than the hash output weaken the token MAC.
const minSigningKey = 32

var (
	uuidRE    = regexp.MustCompile(`^[0-9a-fA-F]{8}-[0-9a-fA-F]{4}-[0-9a-fA-F]{4}-[0-9a-fA-F]{4}-[0-9a-fA-F]{12}$`)
	sha256RE  = regexp.MustCompile(`^[0-9a-fA-F]{64}$`)
	placeHold = regexp.MustCompile(`\{\{.*?\}\}`)
)

// validate runs the checks that need the whole file (allow_http, the
// transforms engine and the declared sinks can come after the webhooks
// that depend on them) and fills in derived defaults.
func (d *decoder) validate(cfg *Config) {
	d.validateServer(cfg)
	if cfg.Storage.Path == "" {
		d.errorf(d.rangeOf("storage.path", hcl.Range{Filename: cfg.File}), "empty storage.path", "the gateway needs a directory for its database; the default is \"./data\"")
	}
	d.validateDelivery(cfg)
	d.validateStorage(cfg)
	d.validateEncryption(cfg)
	d.validateAPIBlocks(cfg)
	d.validateTelemetry(cfg)
	d.validateQuotas(cfg)
	engineOK := true
	if !slices.Contains(Engines, cfg.Transforms.Engine) {
		engineOK = false
		d.errorf(d.rangeOf("transforms.engine", hcl.Range{Filename: cfg.File}),
			fmt.Sprintf("unknown transforms.engine %q", cfg.Transforms.Engine), "valid engines: %s", quoteList(Engines))
	}
	if n := len(cfg.Auth.SigningKey); n > 0 && n < minSigningKey {
		// The length only: the key itself must never reach a log.
		d.errorf(d.rangeOf("auth.signing_key", hcl.Range{Filename: cfg.File}), "auth.signing_key is too short",
			"it has %d bytes, at least %d are needed; leave it empty to have the gateway generate one", n, minSigningKey)
	}
	for i := range cfg.Auth.Clients {
		d.validateClient(&cfg.Auth.Clients[i])
	}
	builtin := BuiltinSinkBlock()
	sinks := map[string]*Sink{BuiltinSink: &builtin}
	for i := range cfg.Sinks {
		d.validateSink(&cfg.Sinks[i])
		sinks[cfg.Sinks[i].Name] = &cfg.Sinks[i]
	}
	for i := range cfg.Webhooks {
		d.validateWebhook(cfg, &cfg.Webhooks[i], sinks, engineOK)
	}
}

func (d *decoder) validateServer(cfg *Config) {
	s := &cfg.Server
	listen := d.rangeOf("server.listen", hcl.Range{Filename: cfg.File})
	host, port, err := net.SplitHostPort(s.Listen)
	if err != nil || port == "" {
		d.errorf(listen, fmt.Sprintf("invalid server.listen %q", s.Listen), "expected host:port such as \"127.0.0.1:8080\" or \":8080\"")
		return
	}
	if _, set := d.ranges["server.public_url"]; !set {
		// A wildcard listen address is not something a client can dial,
		// so the derived URL names the local host instead.
		if host == "" || host == "0.0.0.0" || host == "::" {
			host = "localhost"
		}
		s.PublicURL = "http://" + net.JoinHostPort(host, port)
		return
	}
	rng := d.ranges["server.public_url"]
	u, err := url.Parse(s.PublicURL)
	switch {
	case err != nil:
		d.errorf(rng, "invalid server.public_url", "%s", urlError(err))
	case u.Scheme != "http" && u.Scheme != "https":
		d.errorf(rng, "invalid server.public_url", "the scheme must be http or https, not %q", u.Scheme)
	case u.Host == "":
		d.errorf(rng, "invalid server.public_url", "it has no host")
	default:
		// Normalised so the gateway can append "/api/..." without doubling the slash.
		s.PublicURL = strings.TrimRight(s.PublicURL, "/")
	}
}

func (d *decoder) validateDelivery(cfg *Config) {
	s := &cfg.Delivery
	file := hcl.Range{Filename: cfg.File}
	for _, rate := range []struct {
		name string
		v    float64
	}{{"high_rate", s.HighRate}, {"low_rate", s.LowRate}, {"slow_share", s.SlowShare}} {
		if rate.v < 0 || rate.v > 1 {
			d.errorf(d.rangeOf("delivery."+rate.name, file), fmt.Sprintf("invalid delivery.%s: %g", rate.name, rate.v),
				"a success rate is a fraction between 0 and 1, such as 0.95")
		}
	}
	if s.LowRate > s.HighRate {
		rng, ok := d.ranges["delivery.low_rate"]
		if !ok {
			rng = d.rangeOf("delivery.high_rate", file)
		}
		d.errorf(rng, fmt.Sprintf("delivery.low_rate %g is above delivery.high_rate %g", s.LowRate, s.HighRate),
			"low_rate must not exceed high_rate (defaults 0.80 and 0.95)")
	}
	// Only when written: the default (2) simply leaves a lone company one
	// worker when there are one or two.
	if rng, set := d.ranges["delivery.spare_workers"]; set && s.SpareWorkers > 0 && s.SpareWorkers >= s.Workers {
		d.errorf(rng, fmt.Sprintf("delivery.spare_workers %d is not below delivery.workers %d", s.SpareWorkers, s.Workers),
			"spare workers are kept idle for other companies out of the workers; keep at least one for a company's own deliveries (defaults 2 of 64)")
	}
	// Every delivery waiting in the recorder holds a worker's place.
	if rng, set := d.ranges["delivery.record_linger"]; set && s.RecordLinger > MaxRecordLinger {
		d.errorf(rng, fmt.Sprintf("delivery.record_linger %s is above %s", s.RecordLinger, MaxRecordLinger),
			"the recorder holds finished deliveries in flight while it waits; a few milliseconds at most is useful (default 5ms)")
	}
}

// MaxRecordLinger bounds delivery.record_linger.
const MaxRecordLinger = time.Second

func (d *decoder) validateClient(c *Client) {
	p := fmt.Sprintf("client %q", c.ID)
	secretSet := c.Secret != ""
	hashSet := c.SecretSHA256 != ""
	switch {
	case secretSet && hashSet:
		d.errorf(d.rangeOf(attrPath(p, "secret_sha256"), c.Range), p+" has both secret and secret_sha256",
			"give one: secret (the plain secret) or secret_sha256 (hex SHA-256 of it)")
	case !secretSet && !hashSet:
		d.errorf(d.rangeOf(attrPath(p, "secret"), c.Range), p+" has no secret",
			"set secret = env(\"NAME\") or secret_sha256 = \"<64 hex digits>\"%s", d.envHint(attrPath(p, "secret")))
	case hashSet:
		if !sha256RE.MatchString(c.SecretSHA256) {
			d.errorf(d.rangeOf(attrPath(p, "secret_sha256"), c.Range), "invalid secret_sha256 for "+p,
				"expected 64 hexadecimal digits (sha256sum of the secret), got %d characters", len(c.SecretSHA256))
		}
		c.SecretSHA256 = strings.ToLower(c.SecretSHA256)
	case len(c.Secret) < MinClientSecret:
		// A warning, not an error: a short secret still works, and a demo
		// config must load; but it can be guessed by the token endpoint's
		// callers. The length only: the secret never reaches a log.
		d.warnf(d.rangeOf(attrPath(p, "secret"), c.Range), p+" has a short secret",
			"it has %d characters; use at least %d (e.g. `openssl rand -base64 24`), or give its secret_sha256", len(c.Secret), MinClientSecret)
	}
	d.positiveID(p, "company_id", c.CompanyID, true, c.Range)
	d.positiveID(p, "user_id", c.UserID, false, c.Range)
	scopes := d.rangeOf(attrPath(p, "scopes"), c.Range)
	if len(c.Scopes) == 0 {
		d.errorf(scopes, p+" has no scopes", "grant at least one of %s", quoteList(Scopes))
	}
	seen := map[string]bool{}
	for _, s := range c.Scopes {
		switch {
		case !slices.Contains(Scopes, s):
			d.errorf(scopes, fmt.Sprintf("unknown scope %q for %s", s, p), "valid scopes: %s%s", quoteList(Scopes), suggest(s, Scopes))
		case seen[s]:
			d.errorf(scopes, fmt.Sprintf("duplicate scope %q for %s", s, p), "list each scope once")
		}
		seen[s] = true
	}
}

// positiveID checks company_id / user_id: required ones must be > 0,
// optional ones (0 = none) must not be negative.
func (d *decoder) positiveID(prefix, name string, v int64, required bool, block hcl.Range) {
	path := attrPath(prefix, name)
	rng, set := d.ranges[path]
	switch {
	case required && !set:
		d.errorf(block, fmt.Sprintf("%s has no %s", prefix, name), "%s is required and must be a positive number", name)
	case required && v <= 0:
		d.errorf(rng, fmt.Sprintf("invalid %s: %d", describe(prefix, name), v), "%s must be greater than 0", name)
	case v < 0:
		d.errorf(rng, fmt.Sprintf("invalid %s: %d", describe(prefix, name), v), "%s must not be negative", name)
	}
}

func (d *decoder) validateSink(s *Sink) {
	p := fmt.Sprintf("sink %q", s.Name)
	if s.Name == BuiltinSink {
		d.errorf(s.Range, `sink name "http" is reserved`, "the built-in http sink is always available; give this sink another name")
	}
	switch {
	case s.Type != "" && s.Command != "":
		d.errorf(d.rangeOf(attrPath(p, "command"), s.Range), p+" has both type and command",
			"use type for a built-in sink (%s) or command for your own sink binary, not both", quoteList(SinkTypes))
	case s.Type == "" && s.Command == "":
		d.errorf(s.Range, p+" has neither type nor command",
			"set type to one of %s, or command to the path of a sink binary", quoteList(SinkTypes))
	case s.Type != "" && !slices.Contains(SinkTypes, s.Type):
		d.errorf(d.rangeOf(attrPath(p, "type"), s.Range), fmt.Sprintf("unknown sink type %q for %s", s.Type, p),
			"built-in types: %s; for your own sink set command instead%s", quoteList(SinkTypes), suggest(s.Type, SinkTypes))
	default:
		d.checkSinkCompanies(s, p) // sinks.go
	}
	if s.SHA256 != "" {
		rng := d.rangeOf(attrPath(p, "sha256"), s.Range)
		switch {
		case s.Command == "":
			d.errorf(rng, "sha256 without command in "+p, "sha256 pins the binary given by command")
		case !sha256RE.MatchString(s.SHA256):
			d.errorf(rng, "invalid sha256 for "+p, "expected 64 hexadecimal digits (sha256sum of the command binary)")
		}
		s.SHA256 = strings.ToLower(s.SHA256)
	}
	d.checkRateLimit(p, s.Limit, s.Range) // ratelimits.go
}

func (d *decoder) validateWebhook(cfg *Config, w *Webhook, sinks map[string]*Sink, engineOK bool) {
	p := fmt.Sprintf("webhook %q", w.Name)
	at := func(name string) hcl.Range { return d.rangeOf(attrPath(p, name), w.Range) }
	written := func(name string) bool { _, ok := d.ranges[attrPath(p, name)]; return ok }

	d.positiveID(p, "company_id", w.CompanyID, true, w.Range)
	d.positiveID(p, "user_id", w.UserID, false, w.Range)

	if !written("url") {
		d.errorf(w.Range, p+" has no url", "set url to the https:// address that receives the deliveries")
	} else {
		d.checkWebhookURL(cfg, w, p, at("url"), engineOK)
		d.checkDestination(cfg, w, p, at("url"))
	}

	w.Method = strings.ToLower(w.Method)
	if !slices.Contains(Methods, w.Method) {
		d.errorf(at("method"), fmt.Sprintf("invalid method %q for %s", w.Method, p), "valid methods: %s", quoteList(Methods))
	}
	if !slices.Contains(Statuses, w.Status) {
		d.errorf(at("status"), fmt.Sprintf("invalid status %q for %s", w.Status, p), "valid statuses: %s%s", quoteList(Statuses), suggest(w.Status, Statuses))
	}

	d.checkEvents(w, p, at("events"), written("events"))

	if w.Secret != "" && !uuidRE.MatchString(w.Secret) {
		// The value is not shown: it is a signing secret.
		d.errorf(at("secret"), "invalid secret for "+p,
			"the webhook secret must be a UUID such as \"0b3c5e1a-7f2d-4c8e-9a6b-1d2e3f4a5b6c\"; leave it out to have the gateway generate one")
	}

	d.checkHeaders(w, p, at("headers"))
	d.checkSigning(w, p, at)
	d.checkOrdering(w, p, at)

	if strings.TrimSpace(w.PayloadTemplate) == "" {
		w.PayloadTemplate = "" // whitespace only means "no template": send the envelope as is
	} else if engineOK {
		if err := transforms.CheckPayloadTemplate(cfg.Transforms.Engine, w.PayloadTemplate); err != nil {
			d.errorf(at("payload_template"), "payload_template of "+p+" does not compile", "%s", templateError(err, w.PayloadTemplate))
		}
	}

	if s := sinks[w.Sink]; s == nil {
		declared := make([]string, 0, len(sinks))
		for n := range sinks {
			declared = append(declared, n)
		}
		sort.Strings(declared)
		d.errorf(at("sink"), fmt.Sprintf("unknown sink %q for %s", w.Sink, p),
			"declare it with a sink %q { ... } block; available sinks: %s%s", w.Sink, quoteList(declared), suggest(w.Sink, declared))
	} else if w.CompanyID > 0 {
		d.checkWebhookSinkAccess(w, s, p, at("sink")) // sinks.go
	}

	if w.NotificationEmail != "" {
		if a, err := mail.ParseAddress(w.NotificationEmail); err != nil || a.Address != w.NotificationEmail {
			d.errorf(at("notification_email"), fmt.Sprintf("invalid notification_email %q for %s", w.NotificationEmail, p),
				"expected a plain address such as \"ops@example.com\"")
		}
	}
	for i, m := range w.ModelProperties {
		if strings.TrimSpace(m) == "" {
			d.errorf(at("model_properties"), fmt.Sprintf("empty model_properties[%d] for %s", i, p), "list top-level property names of the work order, such as \"id\"")
		}
	}
	d.checkRateLimit(p, w.Limit, w.Range) // ratelimits.go
}

// checkWebhookURL validates a webhook URL. {{ expr }} placeholders are
// evaluated per delivery, so they are swapped for a plain word before the
// URL is parsed and compiled separately by the transforms package. The URL
// itself is not echoed: its query may carry a token.
func (d *decoder) checkWebhookURL(cfg *Config, w *Webhook, p string, rng hcl.Range, engineOK bool) {
	summary := "invalid url for " + p
	if w.URL == "" {
		d.errorf(rng, summary, "the url is empty%s", d.envHint(attrPath(p, "url")))
		return
	}
	if err := transforms.CheckURLOrigin(w.URL); err != nil {
		d.errorf(rng, "url template of "+p+" could change where deliveries go", "%s", templateError(err, ""))
		return
	}
	u, err := url.Parse(placeHold.ReplaceAllString(w.URL, "x"))
	switch {
	case err != nil:
		d.errorf(rng, summary, "%s", urlError(err))
	case u.Scheme != "http" && u.Scheme != "https":
		d.errorf(rng, summary, "the scheme must be https (or http when delivery.allow_http = true), not %q", u.Scheme)
	case u.Host == "":
		d.errorf(rng, summary, "the url has no host; write it in full, such as \"https://erp.example.com/hooks\"")
	case u.Scheme == "http" && !cfg.Delivery.AllowHTTP:
		d.errorf(rng, "plain http url for "+p,
			"deliveries go over https only; set allow_http = true in the delivery block to allow http:// urls (for local testing)")
	}
	if engineOK && (strings.Contains(w.URL, "{{") || strings.Contains(w.URL, "}}")) {
		if err := transforms.CheckURLTemplate(cfg.Transforms.Engine, w.URL); err != nil {
			d.errorf(rng, "url template of "+p+" does not compile", "%s", templateError(err, ""))
		}
	}
}

// urlError strips url.Parse's echo of the whole URL from its error.
func urlError(err error) string {
	var ue *url.Error
	if errors.As(err, &ue) {
		return "cannot parse it: " + ue.Err.Error()
	}
	return err.Error()
}

// templateError is the JSONata compiler's message, which is what the user
// needs to fix the expression. A payload template usually spans lines (a
// heredoc or a file), so its position is given as line and column within
// the template; a URL's is a character offset within the URL.
func templateError(err error, text string) string {
	var te *transforms.Error
	if !errors.As(err, &te) || te.Message == "" {
		return err.Error()
	}
	switch {
	case te.Position < 0:
		return te.Message
	case text != "":
		line, col := transforms.LineCol(text, te.Position)
		return fmt.Sprintf("%s (line %d, column %d of the template)", te.Message, line, col)
	default:
		return fmt.Sprintf("%s (at character %d of the url)", te.Message, te.Position)
	}
}

func (d *decoder) checkEvents(w *Webhook, p string, rng hcl.Range, written bool) {
	const where = "the valid names are in events/catalog.go and listed by GET /api/v1/webhooks/events"
	if len(w.Events) == 0 {
		if written {
			d.errorf(rng, p+" has an empty events list", "subscribe to at least one event; %s", where)
		} else {
			d.errorf(w.Range, p+" has no events", "set events = [\"workorder.status.published\", ...]; %s", where)
		}
		return
	}
	seen := map[string]bool{}
	for _, e := range w.Events {
		switch {
		case !events.Valid(e):
			d.errorf(rng, fmt.Sprintf("unknown event %q in %s", e, p), "%s%s", where, suggest(e, events.Names()))
		case seen[e]:
			d.errorf(rng, fmt.Sprintf("duplicate event %q in %s", e, p), "list each event once")
		}
		seen[e] = true
	}
}

func (d *decoder) checkHeaders(w *Webhook, p string, rng hcl.Range) {
	names := make([]string, 0, len(w.Headers))
	for n := range w.Headers {
		names = append(names, n)
	}
	sort.Strings(names) // map order is random; diagnostics should not be
	seen := map[string]string{}
	for _, n := range names {
		lower := strings.ToLower(n)
		switch {
		case !httpguts.ValidHeaderFieldName(n):
			d.errorf(rng, fmt.Sprintf("invalid header name %q in %s", n, p), "header names are letters, digits and !#$%%&'*+-.^_`|~")
		case ReservedHeader(n):
			d.errorf(rng, fmt.Sprintf("reserved header %q in %s", n, p),
				"Content-Type, webhook-id, webhook-timestamp, webhook-signature and headers starting with %q are set by the gateway (body type, signature, delivery id) and cannot be overridden, in any case", "X-Fn-")
		case seen[lower] != "":
			d.errorf(rng, fmt.Sprintf("duplicate header %q in %s", n, p), "header names are case-insensitive; %q is already set", seen[lower])
		}
		if strings.ContainsAny(w.Headers[n], "\r\n\x00") {
			// Only the name: header values are often credentials.
			d.errorf(rng, fmt.Sprintf("invalid value for header %q in %s", n, p), "header values may not contain line breaks or NUL")
		}
		if seen[lower] == "" {
			seen[lower] = n
		}
	}
}

// suggest returns ` Did you mean "x"?` for the closest valid value, the
// way HCL itself does for misspelt attribute names.
func suggest(got string, valid []string) string {
	best, bestDist := "", 4 // farther than 3 edits is not a typo
	for _, v := range valid {
		if dist := levenshtein.Distance(got, v, nil); dist < bestDist {
			best, bestDist = v, dist
		}
	}
	if best == "" {
		return ""
	}
	return fmt.Sprintf(`. Did you mean %q?`, best)
}

func quoteList(xs []string) string {
	q := make([]string, len(xs))
	for i, x := range xs {
		q[i] = fmt.Sprintf("%q", x)
	}
	return strings.Join(q, ", ")
}
