package ingest

import (
	"bytes"
	"encoding/json"
	"errors"
	"fmt"
	"reflect"
	"strconv"
	"strings"
	"time"

	"github.com/hookgate/hookgate/events"
)

// envelope is the v3 body a producer publishes (02-payload-structure).
type envelope struct {
	Event *struct {
		Name   *string                    `json:"name"`
		Params map[string]json.RawMessage `json:"params"`
	} `json:"event"`
	Timestamp       *string `json:"timestamp"`
	TriggeredByUser *struct {
		ID json.Number `json:"id"`
	} `json:"triggered_by_user"`
	Workorder map[string]json.RawMessage `json:"workorder"`
}

// Parsed is what ingest needs to know about an envelope.
type Parsed struct {
	Name        string
	CompanyID   int64
	WorkOrderID int64
}

// ParseEnvelope checks the envelope's required fields and names the first
// one that is missing or wrong (a *ParseError).
func ParseEnvelope(raw []byte) (Parsed, error) {
	if p, ok := parseEnvelopeFast(raw); ok {
		return p, nil
	}
	return parseEnvelopeSlow(raw)
}

// parseEnvelopeSlow is the reference parse: strict checks, then
// encoding/json. It words every refusal; parseEnvelopeFast must agree with
// it on every body it accepts.
func parseEnvelopeSlow(raw []byte) (Parsed, error) {
	if err := checkEventJSON(raw); err != nil {
		return Parsed{}, err
	}
	var env envelope
	dec := json.NewDecoder(bytes.NewReader(raw))
	dec.UseNumber()
	if err := dec.Decode(&env); err != nil {
		pe := bad("", "body is not a valid event envelope: "+JSONErrorText(err))
		var te *json.UnmarshalTypeError
		switch {
		case errors.As(err, &te):
			pe.Field = te.Field
		case strings.Contains(err.Error(), "into Number"):
			// encoding/json's untyped refusal of a string that is not a
			// number for a json.Number, of which the envelope has one.
			pe.Field, pe.Msg = "triggered_by_user.id", "triggered_by_user.id must be a number or a numeric string"
		}
		if se, ok := err.(*json.SyntaxError); ok {
			pe.Offset = se.Offset
		}
		return Parsed{}, pe
	}
	// More() is false before a stray '}' or ']', so check the bytes left:
	// only whitespace may follow the object, or the stored and signed body
	// would carry them.
	if len(bytes.TrimLeft(raw[dec.InputOffset():], " \t\r\n")) > 0 {
		return Parsed{}, &ParseError{Offset: dec.InputOffset(), Msg: "body must hold exactly one JSON object: unexpected bytes after it at byte " + strconv.FormatInt(dec.InputOffset(), 10)}
	}
	refuse := func(field, msg string) (Parsed, error) { return Parsed{}, bad(field, msg) }
	switch {
	case env.Event == nil:
		return refuse("event", "event is required: an object with name and params")
	case env.Event.Name == nil || *env.Event.Name == "":
		return refuse("event.name", "event.name is required")
	case !events.Valid(*env.Event.Name):
		return refuse("event.name", "event.name "+strconv.Quote(*env.Event.Name)+" is not one of the 33 events (GET /api/v1/webhooks/events lists them)")
	case env.Timestamp == nil:
		return refuse("timestamp", "timestamp is required: an ISO 8601 time with offset")
	case env.TriggeredByUser == nil:
		return refuse("triggered_by_user", "triggered_by_user is required: an object with id")
	case env.Workorder == nil:
		return refuse("workorder", "workorder is required: the work order object")
	}
	if _, err := time.Parse(time.RFC3339, *env.Timestamp); err != nil {
		return refuse("timestamp", "timestamp "+strconv.Quote(*env.Timestamp)+" is not an ISO 8601 time with offset, e.g. 2026-01-20T08:55:58-06:00")
	}
	p := Parsed{Name: *env.Event.Name}
	var err error
	if v, ok := env.Event.Params["work_order_company_id"]; ok {
		if p.CompanyID, err = jsonInt(v); err != nil {
			return refuse("event.params.work_order_company_id", "event.params.work_order_company_id must be a number or a numeric string")
		}
	} else if co, ok := env.Workorder["company"]; ok {
		var c struct{ ID json.RawMessage }
		if json.Unmarshal(co, &c) != nil || c.ID == nil {
			return refuse("workorder.company.id", "workorder.company.id is required when event.params.work_order_company_id is absent")
		}
		if p.CompanyID, err = jsonInt(c.ID); err != nil {
			return refuse("workorder.company.id", "workorder.company.id must be a number or a numeric string")
		}
	} else {
		return refuse("event.params.work_order_company_id", "the company is required: event.params.work_order_company_id or workorder.company.id")
	}
	if v, ok := env.Event.Params["work_order_id"]; ok {
		if p.WorkOrderID, err = jsonInt(v); err != nil {
			return refuse("event.params.work_order_id", "event.params.work_order_id must be a number or a numeric string")
		}
	} else if v, ok := env.Workorder["id"]; ok {
		if p.WorkOrderID, err = jsonInt(v); err != nil {
			return refuse("workorder.id", "workorder.id must be a number or a numeric string")
		}
	}
	return p, nil
}

// jsonInt accepts 12345 and "12345": the spec's own examples use both.
func jsonInt(raw []byte) (int64, error) {
	s := strings.TrimSpace(string(raw))
	if unq, err := strconv.Unquote(s); err == nil {
		s = unq
	}
	return strconv.ParseInt(s, 10, 64)
}

// JSONErrorText words an encoding/json error for a client: a syntax error
// with its byte offset, a type error with the JSON types and where, never
// our Go types (encoding/json names those).
func JSONErrorText(err error) string {
	if se, ok := err.(*json.SyntaxError); ok {
		return fmt.Sprintf("%s at byte %d", se.Error(), se.Offset)
	}
	if te, ok := err.(*json.UnmarshalTypeError); ok {
		msg := "a JSON " + te.Value + " where " + jsonKind(te.Type) + " is expected"
		if te.Field != "" {
			msg += " (in " + te.Field + ")"
		}
		return msg
	}
	return err.Error()
}

// jsonKind says in JSON's words what a Go type decodes from.
func jsonKind(t reflect.Type) string {
	if t == nil {
		return "another value"
	}
	for t.Kind() == reflect.Pointer {
		t = t.Elem()
	}
	if t == reflect.TypeFor[json.Number]() {
		return "a number"
	}
	switch t.Kind() {
	case reflect.Struct, reflect.Map:
		return "an object"
	case reflect.Slice, reflect.Array:
		return "an array"
	case reflect.String:
		return "a string"
	case reflect.Bool:
		return "true or false"
	case reflect.Int, reflect.Int8, reflect.Int16, reflect.Int32, reflect.Int64,
		reflect.Uint, reflect.Uint8, reflect.Uint16, reflect.Uint32, reflect.Uint64, reflect.Float32, reflect.Float64:
		return "a number"
	}
	return "another value"
}
