package webhooks

import (
	"errors"
	"net/mail"
	"net/url"
	"regexp"
	"slices"
	"strconv"
	"strings"

	"golang.org/x/net/http/httpguts"

	"github.com/hookgate/hookgate/config"
	"github.com/hookgate/hookgate/events"
	"github.com/hookgate/hookgate/plugins/sdk/netguard"
	"github.com/hookgate/hookgate/store"
	"github.com/hookgate/hookgate/transforms"
)

// Bounds on what one webhook may hold, so a body within the request limit
// still cannot make every delivery slow.
const (
	maxURLLength      = 2048
	maxHeaders        = 50
	maxHeaderValue    = 8 << 10
	maxTemplateLength = 64 << 10
	maxEmailLength    = 254
)

var (
	placeholderRE = regexp.MustCompile(`\{\{.*?\}\}`)
	uuidRE        = regexp.MustCompile(`^[0-9a-fA-F]{8}-[0-9a-fA-F]{4}-[0-9a-fA-F]{4}-[0-9a-fA-F]{4}-[0-9a-fA-F]{12}$`)
)

// Validate checks a webhook as it would be stored after a create or
// update, and names the first field that is wrong (*ValidationError).
func (v Validator) Validate(w *store.Webhook) error {
	checks := []func(*store.Webhook) error{
		v.checkURL, v.checkDestination, checkMethod, checkStatus, checkEvents, checkSecret, checkEmail,
		checkHeaders, v.checkTemplate, v.CheckSink, checkModelProperties, checkSignatureFormat,
		checkRateLimit,
		checkOrdering,
	}
	for _, check := range checks {
		if err := check(w); err != nil {
			return err
		}
	}
	return nil
}

// invalid is the refusal of a webhook field.
func invalid(field, msg string) error { return &ValidationError{Field: field, Msg: msg} }

// quote writes a value in a message.
func quote(s string) string { return strconv.Quote(s) }

// Validator checks a webhook as the API would store it, against the
// gateway's delivery and transforms settings and who may use which sink.
type Validator struct {
	cfg   *config.Config
	sinks *SinkAccess
}

// NewValidator returns the checks for cfg and sinks.
func NewValidator(cfg *config.Config, sinks *SinkAccess) Validator {
	return Validator{cfg: cfg, sinks: sinks}
}

// checkURL: an absolute https URL (http when delivery.allow_http), whose
// {{ JSONata }} placeholders compile. The URL is not echoed: its query may
// carry a credential.
func (v Validator) checkURL(w *store.Webhook) error {
	const bad = "'url' must be a valid HTTPS URL"
	if len(w.URL) > maxURLLength {
		return invalid("url", "'url' is longer than "+strconv.Itoa(maxURLLength)+" characters")
	}
	if err := transforms.CheckURLOrigin(w.URL); err != nil {
		// Event data must not choose where a signed delivery goes.
		return invalid("url", "'url' is not allowed: "+templateErrorText(err, ""))
	}
	u, err := url.Parse(placeholderRE.ReplaceAllString(w.URL, "x"))
	switch {
	case w.URL == "":
		return invalid("url", bad+", such as https://example.com/webhook")
	case err != nil:
		return invalid("url", bad+": it does not parse")
	case u.Scheme == "http" && !v.cfg.Delivery.AllowHTTP:
		return invalid("url", bad+": http:// is not allowed (the gateway's delivery.allow_http is false)")
	case u.Scheme != "https" && u.Scheme != "http":
		return invalid("url", bad+": the scheme must be https")
	case u.Host == "":
		return invalid("url", bad+": it has no host")
	case u.User != nil:
		return invalid("url", bad+": user:password@ in a URL is not allowed; send credentials in webhookAttribute.header")
	}
	if strings.Contains(w.URL, "{{") || strings.Contains(w.URL, "}}") {
		if err := transforms.CheckURLTemplate(v.cfg.Transforms.Engine, w.URL); err != nil {
			return invalid("url", "'url' template does not compile: "+templateErrorText(err, ""))
		}
	}
	return nil
}

func checkMethod(w *store.Webhook) error {
	if !slices.Contains(config.Methods, w.Method) {
		return invalid("method", "'method' must be \"post\" or \"put\", not "+quote(w.Method))
	}
	return nil
}

func checkStatus(w *store.Webhook) error {
	if !slices.Contains(config.Statuses, string(w.Status)) {
		return invalid("status", "'status' must be \"active\", \"inactive\" or \"archived\", not "+quote(string(w.Status)))
	}
	return nil
}

// checkEvents: 1 to 33 names from the catalog, each once.
func checkEvents(w *store.Webhook) error {
	if len(w.Events) == 0 {
		return invalid("events", "'events' must list at least 1 event (GET /api/v1/webhooks/events lists the 33)")
	}
	seen := map[string]bool{}
	for _, e := range w.Events {
		if !events.Valid(e) {
			return invalid("events", "'events' contains an unknown event "+quote(e)+"; GET /api/v1/webhooks/events lists the 33 valid names")
		}
		if seen[e] {
			return invalid("events", "'events' lists "+quote(e)+" more than once; each event may appear once")
		}
		seen[e] = true
	}
	if len(w.Events) > len(events.Names()) {
		return invalid("events", "'events' may list at most "+strconv.Itoa(len(events.Names()))+" events")
	}
	return nil
}

func checkSecret(w *store.Webhook) error {
	if !uuidRE.MatchString(w.Secret) {
		// Never echoed: it is a signing key.
		return invalid("secret", "'secret' must be a UUID such as 01999f51-5c66-4449-b441-6b4a053fee6a; leave it out to have one generated")
	}
	return nil
}

func checkEmail(w *store.Webhook) error {
	if w.NotificationEmail == "" {
		return nil
	}
	a, err := mail.ParseAddress(w.NotificationEmail)
	if err != nil || a.Address != w.NotificationEmail || len(w.NotificationEmail) > maxEmailLength {
		return invalid("notificationEmail", "'notificationEmail' must be a plain email address such as alerts@example.com")
	}
	return nil
}

// checkHeaders: valid names, none of the gateway's own in any case
// (X-FN-*, Content-Type, webhook-*: config.ReservedHeader), no line breaks
// in values. Values are never echoed.
func checkHeaders(w *store.Webhook) error {
	if len(w.Headers) > maxHeaders {
		return invalid("webhookAttribute.header", "'webhookAttribute.header' may hold at most "+strconv.Itoa(maxHeaders)+" headers")
	}
	names := slices.Sorted(func(yield func(string) bool) {
		for k := range w.Headers {
			if !yield(k) {
				return
			}
		}
	})
	for _, n := range names {
		v := w.Headers[n]
		switch {
		case !httpguts.ValidHeaderFieldName(n):
			return invalid("webhookAttribute.header", "'webhookAttribute.header' has an invalid header name "+quote(n)+": use letters, digits and !#$%&'*+-.^_`|~")
		case config.ReservedHeader(n):
			return invalid("webhookAttribute.header", "'webhookAttribute.header' cannot set "+quote(n)+
				": Content-Type, webhook-id, webhook-timestamp, webhook-signature and headers starting with x-fn- are reserved for the gateway, in any case")
		case strings.ContainsAny(v, "\r\n\x00"):
			// CR/LF would split the request's header block (header injection).
			return invalid("webhookAttribute.header", "'webhookAttribute.header' value of "+quote(n)+" may not contain line breaks (CR, LF) or NUL")
		case len(v) > maxHeaderValue:
			return invalid("webhookAttribute.header", "'webhookAttribute.header' value of "+quote(n)+" is longer than 8 KiB")
		}
	}
	return nil
}

func (v Validator) checkTemplate(w *store.Webhook) error {
	if len(w.PayloadTemplate) > maxTemplateLength {
		return invalid("payloadTemplate", "'payloadTemplate' is longer than 64 KiB")
	}
	if err := transforms.CheckPayloadTemplate(v.cfg.Transforms.Engine, w.PayloadTemplate); err != nil {
		return invalid("payloadTemplate", "'payloadTemplate' does not compile: "+templateErrorText(err, w.PayloadTemplate))
	}
	return nil
}

// CheckSink: a sink the webhook's company may use. Another company's sink
// gets the answer an unknown name gets, and neither echoes the name nor
// lists any sink but the caller's: a token learns nothing of the sinks of
// other companies, not even that a name is taken.
func (v Validator) CheckSink(w *store.Webhook) error {
	usable := v.sinks.Usable(w.CompanyID)
	names := make([]string, len(usable))
	for i, s := range usable {
		if s.Name == w.Sink {
			return nil
		}
		names[i] = quote(s.Name)
	}
	return invalid("sink", "'sink' must name a sink your company may use: "+strings.Join(names, ", ")+" (GET /api/v1/sinks lists them)")
}

// checkDestination refuses, unless delivery.allow_private_networks, a URL
// whose host is a literal loopback, private, link-local, CGNAT, multicast
// or otherwise non-public address, or an ambiguous numeric spelling
// (0x7f.1, 2130706433). It is netguard's rule, the one the sinks apply to
// the address they dial: told here at once instead of as a failed delivery.
// A host name is judged when dialled, after DNS, so rebinding cannot pass.
func (v Validator) checkDestination(w *store.Webhook) error {
	u, err := url.Parse(placeholderRE.ReplaceAllString(w.URL, "x"))
	if err != nil || u.Host == "" {
		return nil // checkURL has said why
	}
	policy := netguard.Policy{AllowHTTP: true, AllowPrivateNetworks: v.cfg.Delivery.AllowPrivateNetworks}
	if err := policy.CheckURL(u); err != nil {
		return invalid("url", "'url' is not an allowed destination: "+strings.TrimPrefix(err.Error(), "refused: ")+
			" (the gateway's delivery.allow_private_networks is false)")
	}
	return nil
}

func checkSignatureFormat(w *store.Webhook) error {
	if w.SignatureFormat != "" && !slices.Contains(config.SignatureFormats, w.SignatureFormat) {
		return invalid("signatureFormat", "'signatureFormat' must be \"fn\" or \"standard-webhooks\", not "+quote(w.SignatureFormat))
	}
	return nil
}

// checkRateLimit checks rateLimit, rateBurst and maxInFlight
// (docs/delivery.md, "Rate limits").
func checkRateLimit(w *store.Webhook) error {
	if _, err := config.ParseRate(w.RateLimit); err != nil {
		return invalid("rateLimit", "'rateLimit' "+err.Error())
	}
	switch {
	case w.RateBurst < 0:
		return invalid("rateBurst", "'rateBurst' must be at least 1 (or null for the gateway's default), not "+strconv.Itoa(w.RateBurst))
	case w.RateBurst > 0 && w.RateLimit == "":
		return invalid("rateBurst", "'rateBurst' sizes the bucket of 'rateLimit': set rateLimit too, such as \"20/s\"")
	case w.MaxInFlight < 0:
		return invalid("maxInFlight", "'maxInFlight' must be at least 1 (or null for the gateway's default), not "+strconv.Itoa(w.MaxInFlight))
	}
	return nil
}

func checkModelProperties(w *store.Webhook) error {
	for i, p := range w.ModelProperties {
		if strings.TrimSpace(p) == "" {
			return invalid("modelProperties", "'modelProperties["+strconv.Itoa(i)+"]' is empty: list top-level work order properties such as \"id\"")
		}
	}
	return nil
}

// templateErrorText is the JSONata message with its position: line and
// column within a multi-line payload template, a character offset in a URL.
func templateErrorText(err error, text string) string {
	var te *transforms.Error
	if !errors.As(err, &te) || te.Message == "" {
		return err.Error()
	}
	if te.Position < 0 {
		return te.Message
	}
	if text != "" {
		line, col := transforms.LineCol(text, te.Position)
		return te.Message + " (line " + strconv.Itoa(line) + ", column " + strconv.Itoa(col) + ")"
	}
	return te.Message + " (at character " + strconv.Itoa(te.Position) + ")"
}
