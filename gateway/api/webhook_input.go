package api

import (
	"bytes"
	"encoding/json"
	"slices"
	"strings"

	"github.com/hookgate/hookgate/config"
	"github.com/hookgate/hookgate/gateway/ingest"
	"github.com/hookgate/hookgate/store"
)

// webhookInput is a create or update body as sent: nil means "not given",
// so an update changes only what it names (OpenAPI UpdateWebhook).
type webhookInput struct {
	Events            *[]string
	URL               *string
	Method            *string
	Status            *string
	Secret            *string
	NotificationEmail *string // "" or null clears it
	IsIntegrationOnly *bool
	ModelProperties   *[]string
	PayloadTemplate   *string // "" or null clears it
	Sink              *string
	SignatureFormat   *string // "fn" | "standard-webhooks"; null resets to "fn"
	Ordering          *string // "none" | "work_order"; null resets to "none"
	OrderingOnDead    *string // "continue" | "hold"; null resets to "continue"
	// SecretGracePeriod (update only, with a new secret): how long the old
	// secret keeps signing beside the new one, as a Go duration.
	SecretGracePeriod *string
	// RateLimit ("20/s"; "" or null: none), RateBurst and MaxInFlight
	// (null: the gateway's default) pace deliveries (docs/delivery.md).
	RateLimit   *string
	RateBurst   *int
	MaxInFlight *int
	// Headers of webhookAttribute.header: a nil value (JSON null) removes
	// that header on update.
	Headers map[string]*string
}

// readOnlyFields may be sent back unchanged (a client that GETs, edits and
// PUTs the whole object) and are ignored.
var readOnlyFields = []string{"id", "webhookId", "companyId", "userId", "createdAt", "updatedAt", "source", "previousSecretExpiresAt"}

// parseWebhookInput decodes a body field by field so every problem names
// its field. Unknown fields are refused: a misspelt "notification_email"
// would otherwise be dropped without a word.
func parseWebhookInput(raw []byte) (*webhookInput, error) {
	raw = bytes.TrimSpace(raw)
	if len(raw) == 0 {
		return nil, badRequest("the body must be a JSON object")
	}
	// Which of two duplicate keys wins differs between parsers; refuse them.
	if err := ingest.CheckStrictJSON(raw); err != nil {
		return nil, badRequest(err.Error())
	}
	var fields map[string]json.RawMessage
	if err := json.Unmarshal(raw, &fields); err != nil || fields == nil {
		return nil, badRequest("the body must be a JSON object: " + jsonErrorTextOr(err))
	}
	in := &webhookInput{}
	for name, v := range fields {
		if err := in.field(name, v); err != nil {
			return nil, err
		}
	}
	return in, nil
}

func jsonErrorTextOr(err error) string {
	if err == nil {
		return "got null"
	}
	return ingest.JSONErrorText(err)
}

func isNull(v json.RawMessage) bool { return string(bytes.TrimSpace(v)) == "null" }

func (in *webhookInput) field(name string, v json.RawMessage) error {
	switch name {
	case "events":
		return decodeInto(name, v, &in.Events, "an array of event names")
	case "url":
		return decodeInto(name, v, &in.URL, "a string")
	case "method":
		return decodeInto(name, v, &in.Method, `"post" or "put"`)
	case "status":
		return decodeInto(name, v, &in.Status, `"active", "inactive" or "archived"`)
	case "secret":
		return decodeInto(name, v, &in.Secret, "a UUID string")
	case "notificationEmail":
		return decodeNullable(name, v, &in.NotificationEmail, "an email address")
	case "isIntegrationOnly":
		return decodeInto(name, v, &in.IsIntegrationOnly, "true or false")
	case "modelProperties":
		if isNull(v) {
			in.ModelProperties = &[]string{}
			return nil
		}
		return decodeInto(name, v, &in.ModelProperties, "an array of work order property names")
	case "payloadTemplate":
		return decodeNullable(name, v, &in.PayloadTemplate, "a JSONata expression (string)")
	case "sink":
		return decodeInto(name, v, &in.Sink, "a sink name (string)")
	case "signatureFormat":
		return decodeNullable(name, v, &in.SignatureFormat, `"fn" or "standard-webhooks"`)
	case "ordering":
		return decodeNullable(name, v, &in.Ordering, `"none" or "work_order"`)
	case "orderingOnDead":
		return decodeNullable(name, v, &in.OrderingOnDead, `"continue" or "hold"`)
	case "secretGracePeriod":
		return decodeInto(name, v, &in.SecretGracePeriod, `a duration such as "24h" (at most "168h")`)
	case "rateLimit":
		return decodeNullable(name, v, &in.RateLimit, `a rate such as "20/s", "600/m" or "1000/h"`)
	case "rateBurst":
		return decodeNullableInt(name, v, &in.RateBurst)
	case "maxInFlight":
		return decodeNullableInt(name, v, &in.MaxInFlight)
	case "webhookAttribute":
		return in.attributes(v)
	default:
		if slices.Contains(readOnlyFields, name) {
			return nil
		}
		return badRequest("unknown field " + quote(name) + "; a webhook has events, url, method, status, secret, notificationEmail, " +
			"isIntegrationOnly, modelProperties, webhookAttribute, payloadTemplate, sink, signatureFormat, rateLimit, rateBurst, maxInFlight, ordering, orderingOnDead and (on update) secretGracePeriod")
	}
}

// decodeInto decodes a non-null value of the expected JSON type.
func decodeInto[T any](name string, v json.RawMessage, dst **T, want string) error {
	if isNull(v) {
		return badRequest("'" + name + "' must be " + want + ", not null")
	}
	var t T
	if err := json.Unmarshal(v, &t); err != nil {
		return badRequest("'" + name + "' must be " + want)
	}
	*dst = &t
	return nil
}

// decodeNullableInt is decodeInto of a whole number where null means
// "the default" (0).
func decodeNullableInt(name string, v json.RawMessage, dst **int) error {
	if isNull(v) {
		*dst = new(int)
		return nil
	}
	const want = "a whole number of at least 1, or null for the gateway's default"
	if err := decodeInto(name, v, dst, want); err != nil {
		return err
	}
	if **dst < 1 { // 0 would silently mean the default: say so instead
		return badRequest("'" + name + "' must be at least 1 (" + want + "), not " + strings.TrimSpace(string(v)))
	}
	return nil
}

// decodeNullable is decodeInto where null means "clear it" ("").
func decodeNullable(name string, v json.RawMessage, dst **string, want string) error {
	if isNull(v) {
		empty := ""
		*dst = &empty
		return nil
	}
	return decodeInto(name, v, dst, want)
}

func (in *webhookInput) attributes(v json.RawMessage) error {
	if isNull(v) {
		return nil
	}
	var attrs map[string]json.RawMessage
	if err := json.Unmarshal(v, &attrs); err != nil {
		return badRequest(`'webhookAttribute' must be an object such as {"header": {"X-Api-Key": "..."}}`)
	}
	for typ, val := range attrs {
		switch typ {
		case attrHeader:
			if isNull(val) {
				continue
			}
			if err := json.Unmarshal(val, &in.Headers); err != nil {
				return badRequest("'webhookAttribute.header' must be an object of header names to string values")
			}
			if in.Headers == nil {
				in.Headers = map[string]*string{}
			}
		case attrLegacyField:
			return badRequest("'webhookAttribute.legacy_field' is not supported by hookgate: reshape the payload with payloadTemplate instead")
		default:
			return badRequest("'webhookAttribute' has an unknown attribute type " + quote(typ) + "; valid: header")
		}
	}
	return nil
}

// required names the first create field that is missing.
func (in *webhookInput) required() error {
	switch {
	case in.URL == nil:
		return badRequest("missing required field 'url'")
	case in.Method == nil:
		return badRequest("missing required field 'method' (\"post\" or \"put\")")
	case in.Status == nil:
		return badRequest("missing required field 'status' (\"active\", \"inactive\" or \"archived\")")
	case in.Events == nil:
		return badRequest("missing required field 'events' (1 to 33 names from GET /api/v1/webhooks/events)")
	}
	return nil
}

// apply copies what the input sets onto w. Events written as one
// comma-separated string are split, as the Field Nation playground does.
func (in *webhookInput) apply(w *store.Webhook) {
	if in.Events != nil {
		w.Events = splitEvents(*in.Events)
	}
	set := func(dst *string, src *string) {
		if src != nil {
			*dst = *src
		}
	}
	set(&w.URL, in.URL)
	// As sent: the document's enum is lower-case, and "POST" is a 400
	// naming the values (validateWebhook), not silently lowered.
	set(&w.Method, in.Method)
	if in.Status != nil {
		w.Status = store.WebhookStatus(*in.Status)
	}
	if in.Secret != nil && *in.Secret != "" {
		w.Secret = strings.ToLower(*in.Secret)
	}
	set(&w.NotificationEmail, in.NotificationEmail)
	if in.IsIntegrationOnly != nil {
		w.IsIntegrationOnly = *in.IsIntegrationOnly
	}
	if in.ModelProperties != nil {
		w.ModelProperties = slices.Clone(*in.ModelProperties)
	}
	if in.PayloadTemplate != nil {
		w.PayloadTemplate = *in.PayloadTemplate
		if strings.TrimSpace(w.PayloadTemplate) == "" {
			w.PayloadTemplate = "" // whitespace only: no template, as in HCL
		}
	}
	set(&w.Sink, in.Sink)
	if in.SignatureFormat != nil {
		w.SignatureFormat = *in.SignatureFormat
		if w.SignatureFormat == "" {
			w.SignatureFormat = config.SignatureFN // null or "": back to the default
		}
	}
	if in.Headers != nil {
		w.Headers = mergeHeaders(w.Headers, in.Headers)
	}
	set(&w.RateLimit, in.RateLimit)
	if in.RateBurst != nil {
		w.RateBurst = *in.RateBurst
	}
	if in.MaxInFlight != nil {
		w.MaxInFlight = *in.MaxInFlight
	}
	// null or "" is the default, stored as "" (webhooks.OrderingOf).
	set(&w.Ordering, in.Ordering)
	set(&w.OrderingOnDead, in.OrderingOnDead)
}

// mergeHeaders adds or replaces the given headers (names compared without
// case) and removes those given as null.
func mergeHeaders(cur map[string]string, in map[string]*string) map[string]string {
	out := make(map[string]string, len(cur)+len(in))
	for k, v := range cur {
		out[k] = v
	}
	names := make([]string, 0, len(in))
	for k := range in {
		names = append(names, k)
	}
	slices.Sort(names) // deterministic when a body names one header twice in different case
	for _, name := range names {
		for k := range out {
			if strings.EqualFold(k, name) {
				delete(out, k)
			}
		}
		if v := in[name]; v != nil {
			out[name] = *v
		}
	}
	if len(out) == 0 {
		return nil
	}
	return out
}

func splitEvents(in []string) []string {
	out := make([]string, 0, len(in))
	for _, e := range in {
		for _, part := range strings.Split(e, ",") {
			out = append(out, strings.TrimSpace(part))
		}
	}
	return out
}
