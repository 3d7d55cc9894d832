package api

import (
	"maps"
	"slices"
	"strings"

	"github.com/gofiber/fiber/v2"

	"github.com/hookgate/hookgate/gateway/delivery"
	"github.com/hookgate/hookgate/gateway/webhooks"
	"github.com/hookgate/hookgate/store"
)

// Attribute types of webhookAttribute (OpenAPI): hookgate stores headers;
// legacy_field mappings belong to Field Nation's v2 migration and are not
// supported.
const (
	attrHeader      = "header"
	attrLegacyField = "legacy_field"
)

// webhookSpec is what GET /api/v1/webhooks accepts. The default fields are
// the spec's list without secret (shown only on request to a writer) plus
// ours; webhookAttribute is left out by default as in the OpenAPI.
var webhookSpec = listSpec{
	sortable:    []string{"id", "webhookId", "createdAt", "updatedAt", "url", "status"},
	defaultSort: "id",
	fields: []string{"id", "webhookId", "companyId", "userId", "events", "url", "method", "status", "secret",
		"notificationEmail", "modelProperties", "isIntegrationOnly", "webhookAttribute", "payloadTemplate",
		"sink", "signatureFormat", "rateLimit", "rateBurst", "maxInFlight", "ordering", "orderingOnDead", "previousSecretExpiresAt", "source", "createdAt", "updatedAt"},
	defaultFields: []string{"id", "webhookId", "companyId", "userId", "events", "url", "method", "status",
		"notificationEmail", "modelProperties", "isIntegrationOnly", "payloadTemplate", "sink", "signatureFormat",
		"rateLimit", "rateBurst", "maxInFlight", "ordering", "orderingOnDead", "previousSecretExpiresAt", "source", "createdAt", "updatedAt"},
}

// webhookView decides what of a webhook an answer shows.
type webhookView struct {
	fields     []string
	showSecret bool     // create, the update that set it, or fields=secret from a writer
	attrs      []string // the attribute types requested (webhookAttribute), in the order asked
	showValues bool     // header values in clear (writers only: they are often credentials)
}

// newWebhookView reads fields and webhookAttribute for the token in c.
func (s *Server) newWebhookView(c *fiber.Ctx) (webhookView, error) {
	spec := webhookSpec
	spec.defaultPerPage = s.cfg.API.PerPage
	fields, asked, err := parseFields(c, spec)
	if err != nil {
		return webhookView{}, err
	}
	return s.viewFor(c, fields, asked)
}

func (s *Server) viewFor(c *fiber.Ctx, fields []string, asked bool) (webhookView, error) {
	writer := ClaimsOf(c).HasScope(ScopeWebhooksWrite)
	v := webhookView{fields: fields, showValues: writer}
	v.showSecret = asked && writer && slices.Contains(fields, "secret")
	if asked && slices.Contains(fields, "webhookAttribute") {
		v.attrs = []string{attrHeader}
	}
	if types := c.Query("webhookAttribute"); types != "" {
		// Only the types asked for: legacy_field alone must not answer
		// the headers.
		v.attrs = nil
		for _, t := range strings.Split(types, ",") {
			switch t = strings.TrimSpace(t); t {
			case attrHeader, attrLegacyField:
				if !slices.Contains(v.attrs, t) {
					v.attrs = append(v.attrs, t)
				}
			default:
				return v, badRequest("'webhookAttribute' lists attribute types; valid: header, legacy_field; not " + quote(t))
			}
		}
		if !slices.Contains(v.fields, "webhookAttribute") {
			v.fields = append(slices.Clone(v.fields), "webhookAttribute")
		}
	}
	return v, nil
}

// fullView is what create and update answer: every field, the secret only
// when this request set it.
func fullView(showSecret bool) webhookView {
	return webhookView{fields: webhookSpec.fields, showSecret: showSecret, attrs: []string{attrHeader}, showValues: true}
}

// render builds the webhook object of the API.
func (v webhookView) render(w *store.Webhook) *object {
	o := newObject(len(webhookSpec.fields))
	o.set("id", w.ID).set("webhookId", w.WebhookID).set("companyId", w.CompanyID).set("userId", w.UserID)
	o.set("events", nonNil(w.Events)).set("url", w.URL).set("method", w.Method).set("status", w.Status)
	if v.showSecret {
		o.set("secret", w.Secret)
	}
	// "" when unset, never null: Field Nation's WebhookInfo requires a string.
	o.set("notificationEmail", w.NotificationEmail).set("modelProperties", nonNil(w.ModelProperties))
	o.set("isIntegrationOnly", w.IsIntegrationOnly)
	if len(v.attrs) > 0 {
		attrs := make(map[string]any, len(v.attrs))
		for _, t := range v.attrs {
			attrs[t] = v.attribute(w, t)
		}
		o.set("webhookAttribute", attrs)
	}
	o.set("payloadTemplate", nullIfEmpty(w.PayloadTemplate)).set("sink", w.Sink)
	// Ours: how deliveries are signed, and until when the replaced secret
	// still signs (null when none does). Never the previous secret itself.
	o.set("signatureFormat", webhooks.SignatureFormatOf(w)).set("previousSecretExpiresAt", webhooks.GraceEnd(w))
	// Ours: the delivery pace (docs/delivery.md, "Rate limits"); null is
	// no limit, or the gateway's default burst and in-flight limit.
	o.set("rateLimit", nullIfEmpty(w.RateLimit)).set("rateBurst", nullIfZero(w.RateBurst)).set("maxInFlight", nullIfZero(w.MaxInFlight))
	o.set("ordering", webhooks.OrderingOf(w)).set("orderingOnDead", webhooks.OnDeadOf(w))
	o.set("source", w.Source)
	o.set("createdAt", apiTime(w.CreatedAt)).set("updatedAt", apiTime(w.UpdatedAt))
	return o.project(v.fields)
}

// attribute is one type of webhookAttribute: the headers (values redacted
// for readers), or the legacy field mappings, of which hookgate keeps none.
func (v webhookView) attribute(w *store.Webhook, typ string) map[string]string {
	if typ != attrHeader {
		return map[string]string{}
	}
	h := maps.Clone(w.Headers)
	if h == nil {
		h = map[string]string{}
	}
	if !v.showValues {
		for k := range h {
			h[k] = delivery.RedactedHeaderVal
		}
	}
	return h
}

func nonNil(s []string) []string {
	if s == nil {
		return []string{}
	}
	return s
}

// nullIfZero is n, or JSON null for 0 (not set).
func nullIfZero(n int) any {
	if n == 0 {
		return nil
	}
	return n
}
