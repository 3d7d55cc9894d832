package transforms

import (
	"errors"
	"strconv"

	jsonv2 "github.com/go-json-experiment/json"
	"github.com/go-json-experiment/json/jsontext"
)

// maxInputDepth bounds the nesting of a decoded envelope (encoding/json uses
// the same figure); ingest already refuses deeper bodies.
const maxInputDepth = 10000

var errInputDepth = errors.New("envelope nested too deeply")

// decodeJSON parses raw JSON into the generic form both engines accept:
// map[string]any, []any, string, float64, bool and null. Decoding dominates
// a delivery's template cost (encoding/json ~14-20 µs, gnata's own
// order-preserving decoder ~45 µs, evaluation ~3 µs), so it uses
// go-json-experiment/json, the reference implementation of encoding/json/v2
// kept by Go's maintainers: about 1.5x faster than encoding/json, and strict
// (it refuses invalid UTF-8 and duplicate names, as ingest does). goccy/go-json
// was tried and dropped: its decoder fails Go's checkptr under -race.
// JSON null becomes `null`, which differs per engine (gnata has a sentinel).
func decodeJSON(data []byte, null any) (any, error) {
	var v any
	if err := jsonv2.Unmarshal(data, &v); err != nil {
		return nil, decodeError(err)
	}
	if null == nil {
		return v, nil
	}
	return replaceNull(v, null, 0)
}

// replaceNull swaps nil for the engine's null value in place.
func replaceNull(v any, null any, depth int) (any, error) {
	if depth > maxInputDepth {
		return nil, &DecodeError{Offset: -1, Msg: errInputDepth.Error()}
	}
	switch x := v.(type) {
	case nil:
		return null, nil
	case map[string]any:
		for k, e := range x {
			if e == nil {
				x[k] = null
				continue
			}
			if _, leaf := e.(string); leaf {
				continue
			}
			r, err := replaceNull(e, null, depth+1)
			if err != nil {
				return nil, err
			}
			x[k] = r
		}
	case []any:
		for i, e := range x {
			r, err := replaceNull(e, null, depth+1)
			if err != nil {
				return nil, err
			}
			x[i] = r
		}
	}
	return v, nil
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
	var se *jsontext.SyntacticError
	if errors.As(err, &se) {
		return &DecodeError{Offset: int(se.ByteOffset), Msg: se.Err.Error()}
	}
	return &DecodeError{Offset: -1, Msg: err.Error()}
}
