package transforms

import (
	"errors"
	"strconv"

	gojson "github.com/goccy/go-json"
)

// maxInputDepth bounds the nesting of a decoded envelope (encoding/json uses
// the same figure); ingest already refuses deeper bodies.
const maxInputDepth = 10000

var errInputDepth = errors.New("envelope nested too deeply")

// decodeJSON parses raw JSON into the generic form both engines accept:
// map[string]any, []any, string, float64, bool and null. It uses
// goccy/go-json because encoding/json.Unmarshal (~20 µs) and gnata's
// order-preserving token decoder (~45 µs) dominated the cost of evaluating a
// typical template against the seed envelope; goccy takes about half of
// encoding/json's time with the same results.
// JSON null becomes `null`, which differs per engine (gnata has a sentinel).
func decodeJSON(data []byte, null any) (any, error) {
	var v any
	if err := gojson.Unmarshal(data, &v); err != nil {
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
	var se *gojson.SyntaxError
	if errors.As(err, &se) {
		return &DecodeError{Offset: int(se.Offset), Msg: se.Error()}
	}
	return &DecodeError{Offset: -1, Msg: err.Error()}
}
