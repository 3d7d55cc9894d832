package transforms

import (
	"bytes"
	"errors"
	"fmt"
	"io"
	"strconv"
	"sync"

	"github.com/go-json-experiment/json/jsontext"
)

// decodeJSON parses raw JSON into the generic form both engines accept:
// map[string]any, []any, string, float64, bool and null. Decoding dominates
// a delivery's template cost (encoding/json ~14-20 µs, gnata's own
// order-preserving decoder ~45 µs, evaluation ~3-5 µs), so it reads the
// tokens of go-json-experiment/json's jsontext (the reference implementation
// of encoding/json/v2, kept by Go's maintainers) in one pass (decodeValue):
// strict like ingest (it refuses invalid UTF-8 and duplicate names), and the
// same values as encoding/json (FuzzDecodeJSON holds them together).
// goccy/go-json was tried and dropped: its decoder fails Go's checkptr under
// -race. JSON null becomes `null`, which differs per engine (gnata has a
// sentinel).
func decodeJSON(data []byte, null any) (any, error) {
	buf := bytes.NewBuffer(data) // jsontext reads a *bytes.Buffer in place, without copying
	d := decoders.Get().(*jsontext.Decoder)
	d.Reset(buf)
	defer func() {
		d.Reset(emptyBuffer) // drop the reference to data
		decoders.Put(d)
	}()
	v, err := decodeValue(d, null)
	if err != nil {
		return nil, decodeError(err)
	}
	// jsontext reads a stream of values; an envelope is exactly one.
	switch _, err := d.ReadToken(); {
	case err == io.EOF:
		return v, nil
	case err != nil:
		return nil, decodeError(err)
	default:
		return nil, &DecodeError{Offset: int(d.InputOffset()), Msg: errTrailing.Error()}
	}
}

var (
	errTrailing = errors.New("data after the top-level value")
	emptyBuffer = new(bytes.Buffer)
	decoders    = sync.Pool{New: func() any { return jsontext.NewDecoder(emptyBuffer) }}
)

// decodeValue reads one value in a single pass over the tokens: no
// reflection and no second walk to swap in the engine's null (what
// jsonv2.Unmarshal into an `any` and then replacing nulls cost: two thirds
// of a ServiceNow template's time, measured). The decoder's defaults make it
// as strict as ingest: valid UTF-8, no duplicate names, and nesting
// bounded at 10,000 levels (encoding/json's figure too; ingest already
// refuses bodies deeper than 64), so the recursion is bounded.
func decodeValue(d *jsontext.Decoder, null any) (any, error) {
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
		return null, nil
	case 't', 'f':
		return tok.Bool(), nil
	case '"':
		return tok.String(), nil
	case '{':
		m := make(map[string]any)
		for d.PeekKind() != '}' {
			k, err := d.ReadToken()
			if err != nil {
				return nil, err
			}
			name := k.String() // before the next read voids the token
			v, err := decodeValue(d, null)
			if err != nil {
				return nil, err
			}
			m[name] = v
		}
		if _, err := d.ReadToken(); err != nil {
			return nil, err
		}
		return m, nil
	case '[':
		a := []any{}
		for d.PeekKind() != ']' {
			v, err := decodeValue(d, null)
			if err != nil {
				return nil, err
			}
			a = append(a, v)
		}
		if _, err := d.ReadToken(); err != nil {
			return nil, err
		}
		return a, nil
	}
	return nil, fmt.Errorf("unexpected %v", tok.Kind())
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
