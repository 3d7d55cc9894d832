package transforms

import (
	"bytes"
	"errors"
	"fmt"
	"io"
	"strconv"
	"strings"
	"sync"

	"github.com/go-json-experiment/json/jsontext"
)

// inputForm is how an engine wants the decoded envelope.
type inputForm struct {
	null    any // JSON null
	objects objectForm
}

// objectForm is how the decoder builds objects.
type objectForm int

const (
	// plainObjects: map[string]any; the key order is lost.
	plainObjects objectForm = iota
	// gnataObjects: gnata's ordered objects (gnata_object.go).
	gnataObjects
	// jsonataGoObjects: jsonataGoObject maps, their key order kept beside
	// them; decodeJSON then returns a *jsonataGoInput (jsonatago_order.go).
	jsonataGoObjects
)

// decodeJSON parses raw JSON into the generic form the engines accept:
// objects (see inputForm), []any, string, float64, bool and
// form.null. Decoding dominates a delivery's template cost (encoding/json
// ~14-20 µs, gnata's own order-preserving decoder ~45 µs, evaluation ~3-5
// µs), so it is read in one pass by a hand-written scanner (decode_scan.go)
// and, where the scanner gives up (invalid input, and a few rare valid
// forms), by the tokens of go-json-experiment/json's jsontext (the
// reference implementation of encoding/json/v2, kept by Go's maintainers),
// which say what is wrong: strict like ingest (it refuses invalid UTF-8 and
// duplicate names), and the same values as encoding/json (FuzzDecodeJSON
// holds them together; FuzzScanDecode the two paths). goccy/go-json was
// tried and dropped: its decoder fails Go's checkptr under -race.
func decodeJSON(data []byte, form inputForm) (any, error) {
	return decode(data, form, nil)
}

// decode is decodeJSON building only what p names (decodeProjected); a nil
// p builds everything.
func decode(data []byte, form inputForm, p *projection) (any, error) {
	return decodeWith(data, form, p, true)
}

// decodeWith is decode, with the scanner (decode_scan.go) first when scan,
// else only the jsontext path (what FuzzScanDecode compares it with).
func decodeWith(data []byte, form inputForm, p *projection, scan bool) (any, error) {
	s := decoders.Get().(*decodeState)
	s.form = form
	switch form.objects {
	case gnataObjects:
		s.presize(data, p, true)
	case jsonataGoObjects:
		s.presize(data, p, false)
		s.order = jsonataGoOrder{}
	}
	defer func() {
		if s.tokens {
			s.d.Reset(emptyBuffer) // drop the references to data
			s.buf, s.tokens = bytes.Buffer{}, false
		}
		s.form, s.keySlab, s.objSlab, s.order = inputForm{}, nil, nil, nil
		s.arena, s.numSlab, s.chunk = nil, nil, 0
		decoders.Put(s)
	}()
	if scan {
		s.scanStart(data, p)
		v, ok := s.scan(p)
		s.scanEnd()
		if ok {
			if s.order != nil {
				return &jsonataGoInput{root: v, order: s.order}, nil
			}
			return v, nil
		}
		// The scanner gave up: jsontext's tokens decide, and say what is wrong.
		if s.order != nil {
			s.order = jsonataGoOrder{}
		}
	}
	s.buf, s.tokens = *bytes.NewBuffer(data), true // jsontext reads a *bytes.Buffer in place, without copying
	s.d.Reset(&s.buf)
	v, err := s.projected(p)
	if err != nil {
		return nil, decodeError(err)
	}
	// jsontext reads a stream of values; an envelope is exactly one.
	switch _, err := s.d.ReadToken(); {
	case err == io.EOF:
		if s.order != nil {
			return &jsonataGoInput{root: v, order: s.order}, nil
		}
		return v, nil
	case err != nil:
		return nil, decodeError(err)
	default:
		return nil, &DecodeError{Offset: int(s.d.InputOffset()), Msg: errTrailing.Error()}
	}
}

var (
	errTrailing = errors.New("data after the top-level value")
	emptyBuffer = new(bytes.Buffer)
	decoders    = sync.Pool{New: func() any { return &decodeState{d: jsontext.NewDecoder(emptyBuffer)} }}
)

// decodeState is one decode in progress. Members of the objects and arrays
// being read wait on the keys and vals stacks until their container ends,
// so each container is allocated once at its final size.
type decodeState struct {
	d   *jsontext.Decoder
	buf bytes.Buffer // what d reads: the envelope (a field, not one allocation per decode)
	// tokens: d has read buf in this decode (the scanner gave up).
	tokens bool
	form   inputForm
	keys   []string
	vals   []any
	// The key lists and headers of ordered objects are cut from slabs
	// shared by the whole envelope: two allocations per object were a
	// fifth of a render's allocations (measured on the seed envelope).
	keySlab []string
	objSlab []gnataOrderedMap
	order   jsonataGoOrder // jsonataGoObjects: the key order of each object
	// names holds the member names this pooled state has read: envelopes
	// repeat the same few dozen, and a string per name per decode was an
	// eighth of a render's allocations (measured on the bench envelope).
	names map[string]string

	// The scanner's state (decode_scan.go).
	data    []byte
	pos     int
	depth   int
	text    string     // the envelope's copy, cut into its strings
	seen    []nameSpan // the names of the projected objects being read
	esc     []byte     // a string being unescaped
	arena   []byte     // the bytes of strings the decode copies (own)
	numSlab []float64  // the numbers (boxFloat)
	chunk   int        // the length of a new numSlab
	// copyText: strings are cut from text (a full decode); else owned says
	// whether the last string scanned is a copy or a view of data.
	copyText, owned bool
	escaped         bool                // the last string scanned was written with escapes
	nameSet         map[string]struct{} // duplicate check of large objects
}

// Bounds of decodeState.names: short names only (the lookup then copies
// nothing), and not so many that a hostile envelope grows it for good.
const (
	maxInternedName  = 32
	maxInternedNames = 512
)

// name returns an object member's name, the same string every time for a
// name seen before.
func (s *decodeState) name(k jsontext.Token) string {
	return s.intern(k.String()) // inlined: not copied when it does not escape
}

// intern returns n, or the same string as before for a name seen before,
// never n itself (it may be a view of the envelope).
func (s *decodeState) intern(n string) string {
	if len(n) > maxInternedName {
		return strings.Clone(n)
	}
	if v, ok := s.names[n]; ok {
		return v
	}
	v := strings.Clone(n)
	if s.names == nil {
		s.names = make(map[string]string)
	}
	if len(s.names) < maxInternedNames {
		s.names[v] = v
	}
	return v
}

// value reads one value in a single pass over the tokens: no reflection
// and no second walk to swap in the engine's null or objects (what
// jsonv2.Unmarshal into an `any` and then replacing nulls cost: two thirds
// of a ServiceNow template's time, measured). The decoder's defaults make it
// as strict as ingest: valid UTF-8, no duplicate names, and nesting bounded
// at 10,000 levels (encoding/json's figure too; ingest already refuses
// bodies deeper than 64), so the recursion is bounded.
func (s *decodeState) value() (any, error) {
	d := s.d
	if d.PeekKind() == '0' {
		// A number: its literal, parsed as encoding/json does (float64;
		// out of range is an error, not ±Inf).
		raw, err := d.ReadValue()
		if err != nil {
			return nil, err
		}
		f, err := strconv.ParseFloat(string(raw), 64)
		if err != nil {
			return nil, &DecodeError{Offset: int(d.InputOffset()) - len(raw), Msg: "number " + string(raw) + " is out of range"}
		}
		return f, nil
	}
	tok, err := d.ReadToken()
	if err != nil {
		return nil, err
	}
	switch tok.Kind() {
	case 'n':
		return s.form.null, nil
	case 't', 'f':
		return tok.Bool(), nil
	case '"':
		return tok.String(), nil
	case '{':
		return s.object(nil)
	case '[':
		return s.array(nil)
	}
	return nil, fmt.Errorf("unexpected %v", tok.Kind())
}

// object reads the members of an object whose '{' has been read: those p
// names (projected by p's child), or all of them (whole) when p is nil.
// The others are skipped. The members kept stay in the envelope's order.
func (s *decodeState) object(p *projection) (any, error) {
	kbase, vbase := len(s.keys), len(s.vals)
	defer s.pop(kbase, vbase)
	for s.d.PeekKind() != '}' {
		k, err := s.d.ReadToken()
		if err != nil {
			return nil, err
		}
		var c *projection
		if p != nil {
			if c = p.members[k.String()]; c == nil {
				if err := s.skip(); err != nil {
					return nil, err
				}
				continue
			}
		}
		s.keys = append(s.keys, s.name(k)) // before the next read voids the token
		v, err := s.member(c)
		if err != nil {
			return nil, err
		}
		s.vals = append(s.vals, v)
	}
	if _, err := s.d.ReadToken(); err != nil {
		return nil, err
	}
	return s.build(s.keys[kbase:], s.vals[vbase:]), nil
}

// build makes an object of the engine's form from its members, in order.
func (s *decodeState) build(keys []string, vals []any) any {
	m := make(map[string]any, len(keys))
	for i, k := range keys {
		m[k] = vals[i] // no duplicates: the decoder refuses them
	}
	return s.wrap(keys, m)
}

// wrap makes an object of the engine's form from m and its keys in order.
func (s *decodeState) wrap(keys []string, m map[string]any) any {
	switch s.form.objects {
	case gnataObjects:
		return s.gnataObject(s.copyKeys(keys), m)
	case jsonataGoObjects:
		o := jsonataGoObject(m)
		s.order.set(o, s.copyKeys(keys))
		return o
	}
	return m
}

// presize allocates the first slabs from upper bounds counted in the raw
// bytes (two '"' per member name or string, whose headers share keySlab; a
// '{' per object; those inside strings only over-count), so a usual
// envelope needs one slab of each, barely larger than what it uses. The
// bounds are capped: a large envelope goes on in chunks. A projection keeps
// few objects: the slabs then hold what its tree names, twice (a name and
// a string), and a member read whole or an array may need a chunk more.
func (s *decodeState) presize(data []byte, p *projection, headers bool) {
	const maxKeys, maxObjects, numChunk = 4096, 1024, 32
	var keys, objects int
	if p != nil && !p.whole {
		keys, objects, s.chunk = 2*p.keys, p.objects, max(p.keys, 4)
	} else {
		keys, objects, s.chunk = bytes.Count(data, []byte{'"'})/2, bytes.Count(data, []byte{'{'}), numChunk
	}
	s.keySlab = make([]string, min(keys, maxKeys))
	if headers {
		s.objSlab = make([]gnataOrderedMap, min(objects, maxObjects))
	}
}

// copyKeys returns a copy of keys cut from the slab.
func (s *decodeState) copyKeys(keys []string) []string {
	const keyChunk = 64
	if len(s.keySlab) < len(keys) {
		s.keySlab = make([]string, max(keyChunk, len(keys)))
	}
	n := len(keys)
	// The capacity ends at the last key: a Set that appends a key (gnata
	// copies before it changes an object, but a slab must not depend on
	// it) reallocates instead of writing over the next object's keys.
	own := s.keySlab[:n:n]
	copy(own, keys)
	s.keySlab = s.keySlab[n:]
	return own
}

// gnataObject returns a gnata ordered object of keys (owned) and m.
func (s *decodeState) gnataObject(own []string, m map[string]any) any {
	const objChunk = 16
	if len(s.objSlab) == 0 {
		s.objSlab = make([]gnataOrderedMap, objChunk)
	}
	o := &s.objSlab[0]
	s.objSlab = s.objSlab[1:]
	o.keys, o.data = own, m
	return gnataObject(o)
}

// array reads the elements of an array whose '[' has been read, each
// projected by p (nil: whole).
func (s *decodeState) array(p *projection) (any, error) {
	base := len(s.vals)
	defer s.pop(len(s.keys), base)
	for s.d.PeekKind() != ']' {
		v, err := s.member(p)
		if err != nil {
			return nil, err
		}
		s.vals = append(s.vals, v)
	}
	if _, err := s.d.ReadToken(); err != nil {
		return nil, err
	}
	return append(make([]any, 0, len(s.vals)-base), s.vals[base:]...), nil // [] is never nil
}

// member reads a member or element: whole when p is nil (value, without
// projected's checks on the full decode's path).
func (s *decodeState) member(p *projection) (any, error) {
	if p == nil {
		return s.value()
	}
	return s.projected(p)
}

// pop drops a container's members from the stacks, clearing them so the
// pooled state keeps no envelope alive.
func (s *decodeState) pop(keys, vals int) {
	clear(s.keys[keys:])
	clear(s.vals[vals:])
	s.keys, s.vals = s.keys[:keys], s.vals[:vals]
}

// DecodeError is an envelope that is not valid JSON.
type DecodeError struct {
	Offset int // byte offset, -1 when unknown
	Msg    string
}

func (e *DecodeError) Error() string {
	if e.Offset < 0 {
		return "invalid JSON: " + e.Msg
	}
	return "invalid JSON at offset " + strconv.Itoa(e.Offset) + ": " + e.Msg
}

func decodeError(err error) error {
	if de, ok := err.(*DecodeError); ok {
		return de // ours already says where
	}
	var se *jsontext.SyntacticError
	if errors.As(err, &se) {
		return &DecodeError{Offset: int(se.ByteOffset), Msg: se.Err.Error()}
	}
	return &DecodeError{Offset: -1, Msg: err.Error()}
}
