package ingest

import (
	"bytes"
	"errors"
	"strconv"
	"strings"
	"unicode/utf8"

	"github.com/go-json-experiment/json/jsontext"
)

// maxEventDepth bounds how deeply an event body may nest objects and arrays.
// A work order is a few levels deep; the bound stops a body such as
// [[[[...]]]] from costing the parsers, the templates and every receiver
// stack depth (docs/hostile-input.md).
const maxEventDepth = 64

// checkEventJSON refuses what encoding/json would quietly accept, before the
// envelope is decoded: invalid UTF-8 (it would be replaced by U+FFFD, so the
// signed body would not be what the producer sent), duplicate object keys
// (which one wins differs between parsers, so a receiver could read another
// event than the gateway routed), nesting deeper than maxEventDepth, and an
// array of events (one request publishes one event).
func checkEventJSON(raw []byte) error {
	if t := bytes.TrimLeft(raw, " \t\r\n"); len(t) > 0 && t[0] == '[' {
		return &ParseError{Offset: int64(len(raw) - len(t)), Msg: "body is a JSON array: publish one event per request (concurrent requests are committed together, so this costs no throughput)"}
	}
	return CheckStrictJSON(raw)
}

// CheckStrictJSON is the part of checkEventJSON every JSON body of the API
// gets (webhook create/update too): valid UTF-8, bounded nesting, no
// duplicate keys. A refusal is a *ParseError.
func CheckStrictJSON(raw []byte) error {
	if !utf8.Valid(raw) {
		at := invalidUTF8At(raw)
		return &ParseError{Offset: int64(at), Msg: "body is not valid UTF-8: invalid byte sequence at byte " + strconv.Itoa(at)}
	}
	if d := nestingDepth(raw); d > maxEventDepth {
		return bad("", "body nests objects and arrays "+strconv.Itoa(d)+" levels deep; at most "+strconv.Itoa(maxEventDepth)+" are accepted")
	}
	// jsontext validates per RFC 7493 (I-JSON) by default: no duplicate
	// names at any level, valid UTF-8 in strings.
	dec := jsontext.NewDecoder(bytes.NewReader(raw))
	if _, err := dec.ReadValue(); err != nil {
		var se *jsontext.SyntacticError
		if errors.As(err, &se) && errors.Is(se.Err, jsontext.ErrDuplicateName) {
			return &ParseError{Field: strings.ReplaceAll(strings.TrimPrefix(string(se.JSONPointer), "/"), "/", "."), Offset: se.ByteOffset,
				Msg: "body has a duplicate key " + strconv.Quote(se.JSONPointer.LastToken()) + " in " + pointerText(se.JSONPointer.Parent()) + ": each key may appear once"}
		}
		// Other syntax errors are reported by the envelope decoder, with
		// the messages clients already know.
	}
	return nil
}

func pointerText(p jsontext.Pointer) string {
	if p == "" {
		return "the top-level object"
	}
	return strconv.Quote(string(p))
}

// invalidUTF8At returns the offset of the first byte that is not valid UTF-8.
func invalidUTF8At(b []byte) int {
	for i := 0; i < len(b); {
		r, n := utf8.DecodeRune(b[i:])
		if r == utf8.RuneError && n <= 1 {
			return i
		}
		i += n
	}
	return len(b)
}

// nestingDepth returns the deepest nesting of objects and arrays in raw,
// skipping strings; it reads raw once and allocates nothing. It does not
// validate: malformed input gets a depth and then a syntax error.
func nestingDepth(raw []byte) int {
	depth, deepest := 0, 0
	inString, escaped := false, false
	for _, c := range raw {
		switch {
		case inString:
			switch {
			case escaped:
				escaped = false
			case c == '\\':
				escaped = true
			case c == '"':
				inString = false
			}
		case c == '"':
			inString = true
		case c == '{' || c == '[':
			depth++
			deepest = max(deepest, depth)
		case c == '}' || c == ']':
			depth--
		}
	}
	return deepest
}

// CheckIdempotencyKey allows 1–255 visible ASCII characters and spaces. A
// key is stored and compared byte for byte and echoed nowhere, but control
// characters (CR, LF, NUL) in it are never intended and would corrupt any
// log or header a key is later written to. name is where the key came
// from, for the refusal: KeyHeader or KeyMember.
func CheckIdempotencyKey(name, key string) error {
	if len(key) > 255 {
		return bad(name, name+" must be at most 255 characters")
	}
	for i := 0; i < len(key); i++ {
		if c := key[i]; c < 0x20 || c > 0x7e {
			return bad(name, name+" may hold visible ASCII characters and spaces only; byte "+strconv.Itoa(i)+" is 0x"+strconv.FormatUint(uint64(c), 16))
		}
	}
	return nil
}

// Where an idempotency key comes from: a publish's header, or a bulk
// publish item's member (Request.KeyFrom).
const (
	KeyHeader = "Idempotency-Key"
	KeyMember = "idempotencyKey"
)
