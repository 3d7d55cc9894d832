package ingest

import (
	"bytes"
	"sync"
	"time"

	"github.com/go-json-experiment/json/jsontext"

	"github.com/hookgate/hookgate/events"
)

// parseEnvelopeFast is the one-pass parse of a well-formed envelope: a single
// jsontext read validates what checkEventJSON validates (UTF-8, syntax,
// duplicate names; depth is counted on the way) and picks out what ingest
// needs, without encoding/json's reflection, maps and second and third passes
// over the body (an event cost ~25 µs that way).
//
// It answers only when it is sure: ok means parseEnvelopeSlow would accept
// raw with the same result. Anything else (an error, and also rare but legal
// shapes such as escaped names, a null params or non-ASCII keys where
// encoding/json folds case) is ok == false, and the caller falls back to
// parseEnvelopeSlow, which words every refusal as before. So refusals cost
// both parsers; accepted events, nearly all of them, cost this one only.
// FuzzParseEnvelopeFast holds the two parsers to the same answers.
func parseEnvelopeFast(raw []byte) (p Parsed, ok bool) {
	fp := fastParsers.Get().(*fastParser)
	defer fp.release()
	// A bytes.Buffer is parsed in place: no copy, and every Value read is a
	// slice of raw that stays valid for the whole parse.
	fp.buf = *bytes.NewBuffer(raw)
	fp.dec.Reset(&fp.buf)
	var e fastEnvelope
	if !e.read(&fp.dec) || e.unsure {
		return Parsed{}, false
	}
	// encoding/json's Decoder refuses nothing after the object but
	// whitespace; anything else is for the slow path to word.
	if len(bytes.TrimLeft(raw[fp.dec.InputOffset():], " \t\r\n")) != 0 {
		return Parsed{}, false
	}
	return e.result()
}

// ReadEnvelope reads the envelope that is d's next value, in the pass that
// reads the body around it (a bulk publish's): d reads body in place
// (jsontext.NewDecoder(bytes.NewBuffer(body)): what it reads stays valid)
// from its first byte, with jsontext's default options (duplicate names and
// invalid UTF-8 are errors, as checkEventJSON has them), and body's nesting
// was bounded by BatchWithinDepth. raw is a copy of the envelope's bytes,
// what json.RawMessage would hold. parsed says whether *p was set to what
// ParseEnvelope answers for raw (an accepted envelope), so that it need
// not be read again; otherwise raw is left to ParseEnvelope (a refusal, or
// a shape the one pass is not sure of). ok is false when d failed: body is
// not strict JSON, and the caller reads it otherwise.
func ReadEnvelope(d *jsontext.Decoder, body []byte, p *Parsed) (raw []byte, parsed, ok bool) {
	start := d.InputOffset()
	e := fastEnvelope{depthChecked: true}
	if !e.read(d) {
		return nil, false, false
	}
	// Between the member's name and its value: whitespace and one colon.
	raw = bytes.Clone(bytes.TrimLeft(body[start:d.InputOffset()], " \t\r\n:"))
	*p, parsed = e.result()
	return raw, parsed, true
}

type fastParser struct {
	buf bytes.Buffer
	dec jsontext.Decoder
}

// fastParsers reuse decoders: a jsontext.Decoder's state (its name sets for
// duplicate detection) is worth keeping across requests.
var fastParsers = sync.Pool{New: func() any { return new(fastParser) }}

func (fp *fastParser) release() {
	// Drop the body: a pooled parser must not keep a request alive.
	fp.buf = bytes.Buffer{}
	fp.dec.Reset(&fp.buf)
	fastParsers.Put(fp)
}

// fastEnvelope holds what the envelope says, as raw JSON values (slices of
// the body); nil means absent.
type fastEnvelope struct {
	event           events.Event
	timestamp       []byte // the string's content, no escapes
	hasUser         bool
	hasWorkorder    bool
	paramsCompany   jsontext.Value // event.params.work_order_company_id
	paramsWorkOrder jsontext.Value // event.params.work_order_id
	workorderID     jsontext.Value
	hasCompany      bool           // workorder.company is present
	companyID       jsontext.Value // workorder.company.id as encoding/json would see it
	companyUnsure   bool           // workorder.company is not an object we can read exactly
	// unsure: the envelope has a shape the one pass does not judge (a
	// refusal, or a rare legal shape); the rest of it is only read through,
	// so that a bulk publish's pass goes on to the next envelope.
	unsure bool
	// depthChecked: the whole body's nesting was bounded before the read
	// (BatchWithinDepth), so values are not measured one by one.
	depthChecked bool
}

// result applies parseEnvelopeSlow's checks to what read found; every
// refusal is left to the slow path.
func (e *fastEnvelope) result() (Parsed, bool) {
	if e.unsure || e.event.Name == "" || e.timestamp == nil || !e.hasUser || !e.hasWorkorder {
		return Parsed{}, false
	}
	if _, err := time.Parse(time.RFC3339, string(e.timestamp)); err != nil {
		return Parsed{}, false
	}
	p := Parsed{Name: e.event.Name}
	var err error
	switch {
	case e.paramsCompany != nil:
		p.CompanyID, err = jsonInt(e.paramsCompany)
	case e.hasCompany && !e.companyUnsure && e.companyID != nil:
		p.CompanyID, err = jsonInt(e.companyID)
	default:
		return Parsed{}, false
	}
	if err != nil {
		return Parsed{}, false
	}
	switch {
	case e.paramsWorkOrder != nil:
		p.WorkOrderID, err = jsonInt(e.paramsWorkOrder)
	case e.workorderID != nil:
		p.WorkOrderID, err = jsonInt(e.workorderID)
	}
	if err != nil {
		return Parsed{}, false
	}
	return p, true
}

// The readers below return false only when the decoder failed (the body
// is not strict JSON, or nests too deep); a shape they are not sure of sets
// unsure and reads the value through (giveUp).

// read walks the top-level object. Members it does not need are read whole
// (validated by jsontext, depth counted by depthWithin).
func (e *fastEnvelope) read(d *jsontext.Decoder) bool {
	return e.members(d, func(name []byte) bool {
		switch string(name) {
		case `"event"`:
			return e.readEvent(d)
		case `"timestamp"`:
			var ok bool
			e.timestamp, ok = e.readSimpleString(d)
			return ok
		case `"triggered_by_user"`:
			e.hasUser = true
			return e.readUser(d)
		case `"workorder"`:
			e.hasWorkorder = true
			return e.readWorkorder(d)
		}
		if !otherField(name, "event", "timestamp", "triggered_by_user", "workorder") {
			return e.giveUp(d)
		}
		return e.skipValue(d)
	})
}

// readEvent reads event: {name, params}.
func (e *fastEnvelope) readEvent(d *jsontext.Decoder) bool {
	return e.members(d, func(name []byte) bool {
		switch string(name) {
		case `"name"`:
			s, ok := e.readSimpleString(d)
			if s != nil {
				var known bool
				if e.event, known = events.Lookup(string(s)); !known {
					e.unsure = true // the slow path words it
				}
			}
			return ok
		case `"params"`:
			return e.readParams(d)
		}
		if !otherField(name, "name", "params") {
			return e.giveUp(d)
		}
		return e.skipValue(d)
	})
}

// readParams reads event.params, a map to encoding/json: names match
// exactly, and any value is a json.RawMessage.
func (e *fastEnvelope) readParams(d *jsontext.Decoder) bool {
	return e.members(d, func(name []byte) bool {
		if bytes.IndexByte(name, '\\') >= 0 {
			return e.giveUp(d)
		}
		v, ok := e.readValue(d)
		switch string(name) {
		case `"work_order_company_id"`:
			e.paramsCompany = v
		case `"work_order_id"`:
			e.paramsWorkOrder = v
		}
		return ok
	})
}

// readUser reads triggered_by_user, a struct{ ID json.Number }: any member
// whose name folds to "id" must be what json.Number takes.
func (e *fastEnvelope) readUser(d *jsontext.Decoder) bool {
	return e.members(d, func(name []byte) bool {
		if !plainName(name) {
			return e.giveUp(d)
		}
		if !equalFoldASCII(name[1:len(name)-1], "id") {
			return e.skipValue(d)
		}
		v, ok := e.readValue(d)
		if !ok {
			return false
		}
		switch v.Kind() {
		case '0', 'n':
			return true
		case '"':
			if s := v[1 : len(v)-1]; bytes.IndexByte(s, '\\') < 0 && isValidNumber(string(s)) {
				return true
			}
		}
		e.unsure = true
		return true
	})
}

// readWorkorder reads workorder, a map to encoding/json; company is read
// as json.Unmarshal into struct{ ID json.RawMessage } would read it.
func (e *fastEnvelope) readWorkorder(d *jsontext.Decoder) bool {
	return e.members(d, func(name []byte) bool {
		if bytes.IndexByte(name, '\\') >= 0 {
			return e.giveUp(d)
		}
		switch string(name) {
		case `"id"`:
			var ok bool
			e.workorderID, ok = e.readValue(d)
			return ok
		case `"company"`:
			e.hasCompany = true
			return e.readCompany(d)
		}
		return e.skipValue(d)
	})
}

// readCompany reads workorder.company. What encoding/json would refuse or
// fold differently only marks it unsure: it matters only when the params
// lack work_order_company_id.
func (e *fastEnvelope) readCompany(d *jsontext.Decoder) bool {
	if d.PeekKind() != '{' {
		e.companyUnsure = true
		return e.skipValue(d)
	}
	return e.members(d, func(name []byte) bool {
		if !plainName(name) {
			e.companyUnsure = true
		}
		v, ok := e.readValue(d)
		// The last member folding to "ID" wins, as in encoding/json.
		if ok && equalFoldASCII(name[1:len(name)-1], "id") {
			e.companyID = v
		}
		return ok
	})
}

// members reads an object member by member: member gets each name (quoted,
// as in the body) with the decoder at its value, which it must read. Once
// the envelope is unsure, the rest is read through without member. Any
// other kind than an object is unsure (null included: the slow path).
func (e *fastEnvelope) members(d *jsontext.Decoder, member func(name []byte) bool) bool {
	if d.PeekKind() != '{' {
		return e.giveUp(d)
	}
	if _, err := d.ReadToken(); err != nil {
		return false
	}
	for {
		name, ok := nextName(d)
		switch {
		case !ok:
			return false
		case name == nil:
			return true
		case e.unsure:
			if !e.skipValue(d) {
				return false
			}
		case !member(name):
			return false
		}
	}
}

// giveUp marks the envelope unsure and reads the value at d through.
func (e *fastEnvelope) giveUp(d *jsontext.Decoder) bool {
	e.unsure = true
	return e.skipValue(d)
}

// nextName reads the next member name of the object being read, or its end
// (name == nil). Only a string is read as a name, so that a value in its
// place is never read whole.
func nextName(d *jsontext.Decoder) (name []byte, ok bool) {
	switch d.PeekKind() {
	case '"':
		v, err := d.ReadValue()
		return v, err == nil
	case '}':
		_, err := d.ReadToken()
		return nil, err == nil
	}
	return nil, false
}

// readSimpleString reads a string without escapes and returns its content;
// any other value is read through as unsure, and s is nil. ok is false
// when the read failed.
func (e *fastEnvelope) readSimpleString(d *jsontext.Decoder) (s []byte, ok bool) {
	if d.PeekKind() != '"' {
		return nil, e.giveUp(d)
	}
	v, err := d.ReadValue()
	if err != nil {
		return nil, false
	}
	if s = v[1 : len(v)-1]; bytes.IndexByte(s, '\\') >= 0 {
		e.unsure = true
		return nil, true
	}
	return s, true
}

// readValue reads a value whole. Its depth is counted before jsontext reads
// it, unless the whole body's was (depthChecked): jsontext recurses up to
// 10,000 levels before it refuses, and a hostile [[[[... should cost no
// more stack here than in nestingDepth.
func (e *fastEnvelope) readValue(d *jsontext.Decoder) (jsontext.Value, bool) {
	if !e.depthChecked && !depthWithin(d.UnreadBuffer(), maxEventDepth-d.StackDepth()) {
		return nil, false
	}
	v, err := d.ReadValue()
	if err != nil {
		return nil, false
	}
	return v, true
}

func (e *fastEnvelope) skipValue(d *jsontext.Decoder) bool {
	_, ok := e.readValue(d)
	return ok
}

// otherField reports whether a member name of a struct-decoded object is one
// encoding/json ignores for sure: it matches no field case-insensitively,
// and has no escapes or non-ASCII bytes (encoding/json folds some non-ASCII
// letters to ASCII ones, e.g. the Kelvin sign to K).
func otherField(quoted []byte, fields ...string) bool {
	if !plainName(quoted) {
		return false
	}
	name := quoted[1 : len(quoted)-1]
	for _, f := range fields {
		if equalFoldASCII(name, f) {
			return false
		}
	}
	return true
}

// plainName reports whether a quoted name is printable ASCII without escapes.
func plainName(quoted []byte) bool {
	for _, c := range quoted[1 : len(quoted)-1] {
		if c == '\\' || c >= 0x80 {
			return false
		}
	}
	return true
}

func equalFoldASCII(b []byte, s string) bool {
	if len(b) != len(s) {
		return false
	}
	for i := range len(b) {
		x, y := b[i], s[i]
		if 'A' <= x && x <= 'Z' {
			x += 'a' - 'A'
		}
		if 'A' <= y && y <= 'Z' {
			y += 'a' - 'A'
		}
		if x != y {
			return false
		}
	}
	return true
}

// BatchWithinDepth reports whether body, a bulk publish's
// {"events":[{"envelope":...}]}, nests no deeper than its envelopes may
// (three levels more): the API reads such a body with jsontext, which
// recurses, only then.
func BatchWithinDepth(body []byte) bool { return depthWithin(body, maxEventDepth+3) }

// depthWithin reports whether the value at the start of b (after any
// whitespace, ':' or ',') nests objects and arrays at most limit deep,
// jumping over strings with IndexByte. It does not validate: on valid JSON
// it is exact, and on anything else the read that follows fails anyway.
func depthWithin(b []byte, limit int) bool {
	depth := 0
	for i := 0; i < len(b); i++ {
		switch b[i] {
		case ' ', '\t', '\r', '\n', ':', ',':
		case '"':
			if depth == 0 {
				return true // a string
			}
			for {
				j := bytes.IndexByte(b[i+1:], '"')
				if j < 0 {
					return true
				}
				i += 1 + j
				// The quote ends the string unless an odd number of
				// backslashes precede it.
				k := i - 1
				for b[k] == '\\' {
					k--
				}
				if (i-1-k)%2 == 0 {
					break
				}
			}
		case '{', '[':
			if depth++; depth > limit {
				return false
			}
		case '}', ']':
			if depth--; depth <= 0 {
				return true
			}
		default:
			if depth == 0 {
				return true // a number or a literal
			}
		}
	}
	return true
}

// isValidNumber is encoding/json's test of a string for json.Number.
func isValidNumber(s string) bool {
	if s == "" {
		return false
	}
	if s[0] == '-' {
		s = s[1:]
		if s == "" {
			return false
		}
	}
	switch {
	default:
		return false
	case s[0] == '0':
		s = s[1:]
	case '1' <= s[0] && s[0] <= '9':
		s = s[1:]
		for len(s) > 0 && '0' <= s[0] && s[0] <= '9' {
			s = s[1:]
		}
	}
	if len(s) >= 2 && s[0] == '.' && '0' <= s[1] && s[1] <= '9' {
		s = s[2:]
		for len(s) > 0 && '0' <= s[0] && s[0] <= '9' {
			s = s[1:]
		}
	}
	if len(s) >= 2 && (s[0] == 'e' || s[0] == 'E') {
		s = s[1:]
		if s[0] == '+' || s[0] == '-' {
			s = s[1:]
			if s == "" {
				return false
			}
		}
		for len(s) > 0 && '0' <= s[0] && s[0] <= '9' {
			s = s[1:]
		}
	}
	return s == ""
}
