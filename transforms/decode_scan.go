package transforms

import (
	"encoding/binary"
	"math/bits"
	"strconv"
	"unicode/utf8"
	"unsafe"
)

// The scanner is decode's fast path: a hand-written reader of the envelope's
// bytes that builds the same values as the jsontext token path (decode.go)
// at about half its cost, measured on the seed envelope (docs/transforms.md).
// It is strict in the same ways: RFC 8259 syntax, valid UTF-8, no duplicate
// names, numbers in float64's range. It reports no errors of its own: on
// anything it does not accept (invalid input, a lone surrogate escape,
// nesting past maxScanDepth) it gives up, and decode runs the jsontext path,
// which returns today's value or error word for word. So a malformed
// envelope costs both passes, and the scanner never has to agree with
// jsontext on what an error says, only on what is valid (FuzzScanDecode).
//
// In a full decode, strings and member names without escapes are cut from
// one copy of the envelope made per decode (s.text), not allocated one by
// one. A projected decode keeps few of them, so it copies only those (names
// interned as in the jsontext path); the names it only compares are views of
// the envelope's bytes that do not outlive the decode.

// maxScanDepth bounds the scanner's recursion; deeper envelopes (ingest
// refuses more than 64 levels) take the jsontext path, bounded at 10,000.
const maxScanDepth = 512

// maxPairwiseNames is the member count up to which the names of a projected
// object are checked for duplicates pairwise; larger objects use a set.
const maxPairwiseNames = 32

// maxKeptScratch bounds the scratch buffers (seen, esc, nameSet) a pooled
// decodeState keeps between decodes, so one large envelope does not grow
// them for good.
const maxKeptScratch = 4096

// scanStart prepares s to scan data for p.
func (s *decodeState) scanStart(data []byte, p *projection) {
	s.data, s.pos, s.depth, s.text = data, 0, 0, ""
	s.copyText = p == nil || p.whole
}

// scanEnd drops what the scanner holds of the envelope, so the pooled state
// keeps none of it alive.
func (s *decodeState) scanEnd() {
	s.pop(0, 0)
	s.data, s.text, s.seen, s.esc = nil, "", s.seen[:0], s.esc[:0]
	if cap(s.seen) > maxKeptScratch {
		s.seen = nil
	}
	if cap(s.esc) > maxKeptScratch {
		s.esc = nil
	}
}

// scan decodes the whole of s.data (one value, white space around it) as
// decode does with p; ok is false when the jsontext path must decide.
func (s *decodeState) scan(p *projection) (v any, ok bool) {
	if v, ok = s.scanValue(p); !ok {
		return nil, false
	}
	s.ws()
	return v, s.pos == len(s.data)
}

// ws skips JSON white space. Most calls meet none (compact JSON, or the
// byte after a member's name), so that is checked inline.
func (s *decodeState) ws() {
	if s.pos < len(s.data) && s.data[s.pos] > ' ' {
		return
	}
	s.skipSpace()
}

// skipSpace is ws past its first byte.
func (s *decodeState) skipSpace() {
	d, i := s.data, s.pos
	for i < len(d) && isSpace[d[i]] {
		i++
	}
	s.pos = i
}

// isSpace marks JSON's white space.
var isSpace = [256]bool{' ': true, '\n': true, '\t': true, '\r': true}

// sub returns s.data[i:j] as a string: cut from the envelope's copy in a
// full decode, else a view of s.data (s.owned false) that keep copies.
// s.escaped is false: the string is as written.
func (s *decodeState) sub(i, j int) string {
	s.escaped = false
	if !s.copyText {
		s.owned = false
		return unsafe.String(&s.data[i], j-i) // i < len(s.data): the closing quote is at j >= i
	}
	if s.text == "" {
		s.text = string(s.data) // the one copy: its substrings allocate nothing
	}
	s.owned = true
	return s.text[i:j]
}

// keep returns a string from scanString that outlives the decode.
func (s *decodeState) keep(str string) string {
	if s.owned {
		return str
	}
	return s.own(unsafe.Slice(unsafe.StringData(str), len(str)))
}

// own copies b into the decode's arena: one allocation for the strings of
// many members. Appends only write past what earlier strings hold.
func (s *decodeState) own(b []byte) string {
	const arenaChunk = 256
	if len(b) == 0 {
		return ""
	}
	if cap(s.arena)-len(s.arena) < len(b) {
		s.arena = make([]byte, 0, max(arenaChunk, len(b)))
	}
	i := len(s.arena)
	s.arena = append(s.arena, b...)
	return unsafe.String(&s.arena[i], len(b))
}

// eface is the layout of an interface{} value (the runtime's eface).
type eface struct{ typ, data unsafe.Pointer }

var stringType, float64Type = typeOf(""), typeOf(0.0)

func typeOf(v any) unsafe.Pointer { return (*eface)(unsafe.Pointer(&v)).typ }

// boxString returns str in an any whose string header is cut from a slab,
// not allocated alone (what converting a string to an any costs): the
// slab of the key lists, whose capacities end at their last key (copyKeys),
// so the header, like the string's bytes, is never written again.
func (s *decodeState) boxString(str string) any {
	const chunk = 32
	if len(s.keySlab) == 0 {
		s.keySlab = make([]string, chunk)
	}
	h := &s.keySlab[0]
	s.keySlab = s.keySlab[1:]
	*h = str
	var v any
	*(*eface)(unsafe.Pointer(&v)) = eface{typ: stringType, data: unsafe.Pointer(h)}
	return v
}

// boxFloat is boxString for a number.
func (s *decodeState) boxFloat(f float64) any {
	if len(s.numSlab) == 0 {
		s.numSlab = make([]float64, max(s.chunk, 1))
	}
	h := &s.numSlab[0]
	s.numSlab = s.numSlab[1:]
	*h = f
	var v any
	*(*eface)(unsafe.Pointer(&v)) = eface{typ: float64Type, data: unsafe.Pointer(h)}
	return v
}

// scanValue reads one value, building only what p names (nil or whole:
// all of it), as projected does.
func (s *decodeState) scanValue(p *projection) (any, bool) {
	s.ws()
	if s.pos >= len(s.data) {
		return nil, false
	}
	if p != nil && p.whole {
		p = nil
	}
	switch c := s.data[s.pos]; c {
	case '{':
		s.pos++
		return s.scanObject(p)
	case '[':
		s.pos++
		return s.scanArray(p)
	case '"':
		str, ok := s.scanString(true)
		if !ok {
			return nil, false
		}
		return s.boxString(s.keep(str)), true
	case 'n':
		return s.form.null, s.literal("null")
	case 't':
		return true, s.literal("true")
	case 'f':
		return false, s.literal("false")
	default:
		f, ok := s.scanNumber(true)
		if !ok {
			return nil, false
		}
		return s.boxFloat(f), true
	}
}

// literal reads lit (null, true, false) at s.pos.
func (s *decodeState) literal(lit string) bool {
	if len(s.data)-s.pos < len(lit) || string(s.data[s.pos:s.pos+len(lit)]) != lit {
		return false
	}
	s.pos += len(lit)
	return true
}

// scanObject reads an object whose '{' has been read: the members p names
// (projected by their child), or all of them when p is nil; the others are
// checked and skipped. The members kept stay in the envelope's order.
func (s *decodeState) scanObject(p *projection) (any, bool) {
	kbase, vbase, nbase := len(s.keys), len(s.vals), len(s.seen)
	empty, ok := s.enter('}')
	if !ok {
		return nil, false
	}
	if !empty {
		for {
			s.ws()
			if s.pos >= len(s.data) || s.data[s.pos] != '"' {
				return nil, false
			}
			at := s.pos + 1
			name, ok := s.scanString(true)
			if !ok {
				return nil, false
			}
			s.ws()
			if s.pos >= len(s.data) || s.data[s.pos] != ':' {
				return nil, false
			}
			s.pos++
			var c *projection
			if p != nil {
				// Every name, for the duplicate check; one written with
				// escapes could equal another written without.
				if s.escaped {
					return nil, false
				}
				s.seen = append(s.seen, nameSpan{at, s.pos - 1})
				if c = p.member(name); c == nil {
					if !s.skipValue() {
						return nil, false
					}
					if !s.next('}') {
						break
					}
					continue
				}
			}
			switch {
			case c != nil:
				name = c.name // the projection's copy
			case !s.owned:
				name = s.intern(name)
			}
			v, ok := s.scanValue(c)
			if !ok {
				return nil, false
			}
			s.keys, s.vals = append(s.keys, name), append(s.vals, v)
			if !s.next('}') {
				break
			}
		}
		if s.pos > len(s.data) || p != nil && !s.distinct(s.seen[nbase:]) {
			return nil, false
		}
	}
	s.depth--
	o, ok := s.buildChecked(s.keys[kbase:], s.vals[vbase:])
	s.seen = s.seen[:nbase]
	s.pop(kbase, vbase)
	return o, ok
}

// enter starts a container whose opening has been read: ok is false past
// maxScanDepth; empty when its end follows at once (then read).
func (s *decodeState) enter(end byte) (empty, ok bool) {
	if s.depth++; s.depth > maxScanDepth {
		return false, false
	}
	s.ws()
	if s.pos < len(s.data) && s.data[s.pos] == end {
		s.pos++
		return true, true
	}
	return false, true
}

// next reads the ',' or the closing end after a member or element: true
// when another follows. A missing delimiter leaves s.pos past the end, so
// the caller's check fails.
func (s *decodeState) next(end byte) bool {
	s.ws()
	if s.pos < len(s.data) {
		switch s.data[s.pos] {
		case ',':
			s.pos++
			return true
		case end:
			s.pos++
			return false
		}
	}
	s.pos = len(s.data) + 1
	return false
}

// buildChecked is build, refusing duplicate names (the map has fewer
// entries than the object has members).
func (s *decodeState) buildChecked(keys []string, vals []any) (any, bool) {
	m := make(map[string]any, len(keys))
	for i, k := range keys {
		m[k] = vals[i]
	}
	if len(m) != len(keys) {
		return nil, false
	}
	return s.wrap(keys, m), true
}

// nameSpan is where a member name without escapes is in s.data: offsets,
// not strings, so the stack of them holds no pointers to clear.
type nameSpan struct{ i, j int }

// distinct reports whether names (in s.data) has no duplicates.
func (s *decodeState) distinct(names []nameSpan) bool {
	d := s.data
	if len(names) <= maxPairwiseNames {
		for i, a := range names {
			for _, b := range names[:i] {
				if a.j-a.i == b.j-b.i && string(d[a.i:a.j]) == string(d[b.i:b.j]) {
					return false
				}
			}
		}
		return true
	}
	if s.nameSet == nil || len(names) > maxKeptScratch {
		s.nameSet = make(map[string]struct{}, len(names))
	}
	defer func() {
		clear(s.nameSet) // its keys are views of data
		if len(names) > maxKeptScratch {
			s.nameSet = nil // a map keeps its size once grown
		}
	}()
	for _, n := range names {
		s.nameSet[unsafe.String(unsafe.SliceData(d[n.i:]), n.j-n.i)] = struct{}{}
	}
	return len(s.nameSet) == len(names)
}

// scanArray reads an array whose '[' has been read, each element projected
// by p (nil: whole).
func (s *decodeState) scanArray(p *projection) (any, bool) {
	base := len(s.vals)
	empty, ok := s.enter(']')
	if !ok {
		return nil, false
	}
	if !empty {
		for {
			v, ok := s.scanValue(p)
			if !ok {
				return nil, false
			}
			s.vals = append(s.vals, v)
			if !s.next(']') {
				break
			}
		}
		if s.pos > len(s.data) {
			return nil, false
		}
	}
	s.depth--
	a := append(make([]any, 0, len(s.vals)-base), s.vals[base:]...) // [] is never nil
	s.pop(len(s.keys), base)
	return a, true
}

// skipValue reads past one value without building it, checking it as
// scanValue would.
func (s *decodeState) skipValue() bool {
	s.ws()
	if s.pos >= len(s.data) {
		return false
	}
	switch s.data[s.pos] {
	case '{':
		s.pos++
		return s.skipObject()
	case '[':
		s.pos++
		return s.skipArray()
	case '"':
		_, ok := s.scanString(false)
		return ok
	case 'n':
		return s.literal("null")
	case 't':
		return s.literal("true")
	case 'f':
		return s.literal("false")
	default:
		_, ok := s.scanNumber(false)
		return ok
	}
}

// skipObject checks an object whose '{' has been read: its names too, for
// duplicates.
func (s *decodeState) skipObject() bool {
	nbase := len(s.seen)
	if empty, ok := s.enter('}'); empty || !ok {
		s.depth--
		return ok
	}
	for {
		s.ws()
		if s.pos >= len(s.data) || s.data[s.pos] != '"' {
			return false
		}
		at := s.pos + 1
		if _, ok := s.scanString(false); !ok || s.escaped {
			return false
		}
		s.seen = append(s.seen, nameSpan{at, s.pos - 1})
		s.ws()
		if s.pos >= len(s.data) || s.data[s.pos] != ':' {
			return false
		}
		s.pos++
		if !s.skipValue() {
			return false
		}
		if !s.next('}') {
			break
		}
	}
	ok := s.pos <= len(s.data) && s.distinct(s.seen[nbase:])
	s.seen = s.seen[:nbase]
	s.depth--
	return ok
}

// skipArray checks an array whose '[' has been read.
func (s *decodeState) skipArray() bool {
	if empty, ok := s.enter(']'); empty || !ok {
		s.depth--
		return ok
	}
	for {
		if !s.skipValue() {
			return false
		}
		if !s.next(']') {
			break
		}
	}
	s.depth--
	return s.pos <= len(s.data)
}

// scanNumber reads a number as encoding/json does (float64), or, when
// !build, only checks it (its syntax, and its range when it could be out of
// float64's: only with an exponent or more than 308 digits).
func (s *decodeState) scanNumber(build bool) (float64, bool) {
	d, start := s.data, s.pos
	i := start
	if i < len(d) && d[i] == '-' {
		i++
	}
	digits := i
	switch {
	case i < len(d) && d[i] == '0':
		i++
	case i < len(d) && '1' <= d[i] && d[i] <= '9':
		for i++; i < len(d) && '0' <= d[i] && d[i] <= '9'; i++ {
		}
	default:
		return 0, false
	}
	intEnd, plain := i, true
	if i < len(d) && d[i] == '.' {
		i++
		if i >= len(d) || d[i] < '0' || d[i] > '9' {
			return 0, false
		}
		for ; i < len(d) && '0' <= d[i] && d[i] <= '9'; i++ {
		}
		plain = false
	}
	exp := i < len(d) && (d[i] == 'e' || d[i] == 'E')
	if exp {
		i++
		if i < len(d) && (d[i] == '+' || d[i] == '-') {
			i++
		}
		if i >= len(d) || d[i] < '0' || d[i] > '9' {
			return 0, false
		}
		for ; i < len(d) && '0' <= d[i] && d[i] <= '9'; i++ {
		}
		plain = false
	}
	s.pos = i
	if plain && intEnd-digits <= 15 {
		// Exact in a float64 (below 2^53), so what ParseFloat returns.
		var n int64
		for _, c := range d[digits:intEnd] {
			n = n*10 + int64(c-'0')
		}
		f := float64(n)
		if digits > start {
			f = -f // -0 too, as ParseFloat
		}
		return f, true
	}
	if !build && !exp && i-start <= 308 {
		return 0, true
	}
	f, err := strconv.ParseFloat(string(d[start:i]), 64)
	return f, err == nil
}

// scanString reads a string at s.pos (its opening quote): the unquoted
// string when build, else only checked. It gives up
// on a lone surrogate escape: jsontext decides what that is.
func (s *decodeState) scanString(build bool) (string, bool) {
	d := s.data
	start := s.pos + 1
	for i := start; i < len(d); {
		for i+8 <= len(d) {
			if m := specialBytes(binary.LittleEndian.Uint64(d[i:])); m != 0 {
				i += bits.TrailingZeros64(m) / 8
				break
			}
			i += 8
		}
		for i < len(d) && plainStringByte[d[i]] {
			i++
		}
		if i >= len(d) {
			break
		}
		switch c := d[i]; {
		case c == '"':
			s.pos = i + 1
			if !build {
				s.escaped = false
				return "", true
			}
			return s.sub(start, i), true
		case c == '\\':
			return s.unescape(start, i, build)
		case c < 0x20:
			return "", false
		case c < utf8.RuneSelf:
			i++
		default:
			n := runeLen(d[i:])
			if n == 0 {
				return "", false
			}
			i += n
		}
	}
	return "", false
}

// plainStringByte marks the bytes a string holds as they are: ASCII but
// for control characters, the quote and the backslash.
var plainStringByte = func() (t [256]bool) {
	for c := 0x20; c < utf8.RuneSelf; c++ {
		t[c] = c != '"' && c != '\\'
	}
	return t
}()

// specialBytes marks (bit 7 of each byte) the bytes of x, 8 bytes of a
// string, that plainStringByte does not: control characters, '"', '\\'
// and non-ASCII. Only the lowest mark is sure to be exact (a borrow can
// mark a byte above it), so the caller takes only that one.
func specialBytes(x uint64) uint64 {
	const ones, highs = 0x0101010101010101, 0x8080808080808080
	q, b := x^(ones*'"'), x^(ones*'\\') // zero bytes where x has '"', '\\'
	lt := (x - ones*0x20) &^ x          // bytes below 0x20
	return (lt | (q-ones)&^q | (b-ones)&^b | x) & highs
}

// unescape goes on with a string from its first backslash at i, unquoting
// into s.esc.
func (s *decodeState) unescape(start, i int, build bool) (string, bool) {
	d := s.data
	b := append(s.esc[:0], d[start:i]...)
	defer func() { s.esc = b[:0] }()
	for i < len(d) {
		switch c := d[i]; {
		case c == '"':
			s.pos = i + 1
			if !build {
				s.escaped = true
				return "", true
			}
			s.owned, s.escaped = true, true
			return s.own(b), true
		case c == '\\':
			if i+1 >= len(d) {
				return "", false
			}
			switch e := d[i+1]; e {
			case '"', '\\', '/':
				b = append(b, e)
			case 'b':
				b = append(b, '\b')
			case 'f':
				b = append(b, '\f')
			case 'n':
				b = append(b, '\n')
			case 'r':
				b = append(b, '\r')
			case 't':
				b = append(b, '\t')
			case 'u':
				r, ok := hex4(d[i+2:])
				if !ok {
					return "", false
				}
				i += 6
				if utf8.ValidRune(r) {
					b = utf8.AppendRune(b, r)
					continue
				}
				// A surrogate: only a high one followed by an escaped low one.
				if r >= 0xdc00 || i+1 >= len(d) || d[i] != '\\' || d[i+1] != 'u' {
					return "", false
				}
				lo, ok := hex4(d[i+2:])
				if !ok || lo < 0xdc00 || lo > 0xdfff {
					return "", false
				}
				b = utf8.AppendRune(b, 0x10000+(r-0xd800)<<10+(lo-0xdc00))
				i += 6
				continue
			default:
				return "", false
			}
			i += 2
		case c < 0x20:
			return "", false
		case c < utf8.RuneSelf:
			b = append(b, c)
			i++
		default:
			n := runeLen(d[i:])
			if n == 0 {
				return "", false
			}
			b = append(b, d[i:i+n]...)
			i += n
		}
	}
	return "", false
}

// runeLen is the length of the UTF-8 sequence b starts with, 0 when it is
// not valid UTF-8 (what jsontext refuses in a string).
func runeLen(b []byte) int {
	if r, n := utf8.DecodeRune(b); r != utf8.RuneError || n != 1 {
		return n
	}
	return 0
}

// hex4 parses the 4 hex digits of a \u escape at the start of b.
func hex4(b []byte) (rune, bool) {
	if len(b) < 4 {
		return 0, false
	}
	var r rune
	for _, c := range b[:4] {
		switch {
		case '0' <= c && c <= '9':
			c -= '0'
		case 'a' <= c && c <= 'f':
			c -= 'a' - 10
		case 'A' <= c && c <= 'F':
			c -= 'A' - 10
		default:
			return 0, false
		}
		r = r<<4 | rune(c)
	}
	return r, true
}
