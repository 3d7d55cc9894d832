package transforms

import (
	"encoding/json"
	"errors"
	"fmt"
	"math"
	"reflect"
	"slices"
	"strconv"
	"unicode/utf8"

	"github.com/blues/jsonata-go/jtypes"
	"github.com/recolabs/gnata"
)

// orderedObject is the method set of gnata's internal ordered map, which
// holds every object a gnata template constructs. Matching on methods keeps
// the template's key order without importing gnata's internal package.
type orderedObject interface {
	Keys() []string
	Get(key string) (any, bool)
}

// errResultDepth is returned when a result nests deeper than MaxDepth.
var errResultDepth = errors.New("result nested deeper than the depth limit")

// encodeResult serializes an engine result as compact JSON without HTML
// escaping (bodies go to machines, not browsers). It is hand-written because
// json.Marshal costs several µs per delivery here and knows neither gnata's
// ordered objects nor its null sentinel, and because it enforces maxDepth so
// a template that builds a pathologically deep value fails cleanly.
// Undefined members are dropped: object keys are omitted and array elements
// are skipped, as JSONata does.
//
// nilIsNull tells how the engine represents JSON null: jsonata-go uses a Go
// nil, gnata a sentinel (gnata.IsNull), leaving nil to mean undefined.
func encodeResult(buf []byte, v any, maxDepth int, nilIsNull bool) ([]byte, error) {
	e := encoder{maxDepth: maxDepth, nilIsNull: nilIsNull}
	return e.appendValue(buf, v, 0)
}

type encoder struct {
	maxDepth  int
	nilIsNull bool
}

func (e *encoder) appendValue(b []byte, v any, depth int) ([]byte, error) {
	switch x := v.(type) {
	case nil:
		return append(b, "null"...), nil
	case string:
		return appendString(b, x), nil
	case float64:
		return appendFloat(b, x)
	case bool:
		if x {
			return append(b, "true"...), nil
		}
		return append(b, "false"...), nil
	case json.Number:
		f, err := x.Float64()
		if err != nil {
			return nil, fmt.Errorf("invalid number %q in result", string(x))
		}
		return appendFloat(b, f)
	case *any:
		if x == nil { // jsonata-go's null
			return append(b, "null"...), nil
		}
		return e.appendValue(b, *x, depth)
	case int:
		return strconv.AppendInt(b, int64(x), 10), nil
	case int64:
		return strconv.AppendInt(b, x, 10), nil
	case []any:
		if depth >= e.maxDepth {
			return nil, errResultDepth
		}
		b = append(b, '[')
		first := true
		for _, el := range x {
			if e.isUndefined(el) {
				continue
			}
			if !first {
				b = append(b, ',')
			}
			first = false
			var err error
			if b, err = e.appendValue(b, el, depth+1); err != nil {
				return nil, err
			}
		}
		return append(b, ']'), nil
	case jsonataGoObject:
		// Not expected: jsonata-go results are converted to views in input
		// order (jsonataGoOrdered). Sorted, like any map, rather than
		// through its MarshalJSON, which only the evaluating goroutine may
		// call.
		return e.appendValue(b, map[string]any(x), depth)
	case map[string]any:
		if depth >= e.maxDepth {
			return nil, errResultDepth
		}
		keys := make([]string, 0, len(x))
		for k := range x {
			keys = append(keys, k)
		}
		slices.Sort(keys) // deterministic bodies, matching json.Marshal
		return e.appendObject(b, keys, func(k string) (any, bool) { v, ok := x[k]; return v, ok }, depth)
	case orderedObject:
		if depth >= e.maxDepth {
			return nil, errResultDepth
		}
		return e.appendObject(b, x.Keys(), x.Get, depth)
	}
	if gnata.IsNull(v) {
		return append(b, "null"...), nil
	}
	if isFunction(v) {
		return nil, errors.New("result contains a function")
	}
	// gnata may hand back internal sequence values; normalizing turns them
	// into plain slices and maps.
	if n := gnata.NormalizeValue(v); reflect.TypeOf(n) != reflect.TypeOf(v) {
		return e.appendValue(b, n, depth)
	}
	// Anything else (other numeric kinds from jsonata-go, marshalers) goes
	// through encoding/json; such values are leaves or small.
	raw, err := json.Marshal(v)
	if err != nil {
		return nil, fmt.Errorf("result cannot be serialized: %w", err)
	}
	return append(b, raw...), nil
}

func (e *encoder) appendObject(b []byte, keys []string, get func(string) (any, bool), depth int) ([]byte, error) {
	b = append(b, '{')
	first := true
	for _, k := range keys {
		val, ok := get(k)
		if !ok || e.isUndefined(val) {
			continue
		}
		if !first {
			b = append(b, ',')
		}
		first = false
		b = appendString(b, k)
		b = append(b, ':')
		var err error
		if b, err = e.appendValue(b, val, depth+1); err != nil {
			return nil, err
		}
	}
	return append(b, '}'), nil
}

// isUndefined reports a member that stands for JSONata undefined.
func (e *encoder) isUndefined(v any) bool { return v == nil && !e.nilIsNull }

// isFunction reports JSONata function values (lambdas, builtins, partials),
// which JSON cannot represent.
func isFunction(v any) bool {
	t := reflect.TypeOf(v)
	if t == nil {
		return false
	}
	if t.Kind() == reflect.Func {
		return true
	}
	if _, ok := v.(jtypes.Callable); ok { // jsonata-go functions
		return true
	}
	if t.Kind() == reflect.Pointer {
		switch t.Elem().Name() {
		case "Lambda", "SignedBuiltin", "TailCall":
			return true
		}
	}
	return false
}

// appendFloat formats like JavaScript's JSON.stringify (and encoding/json):
// integers without a fraction, exponents only outside [1e-6, 1e21).
func appendFloat(b []byte, f float64) ([]byte, error) {
	if math.IsNaN(f) || math.IsInf(f, 0) {
		return nil, errors.New("result contains a non-finite number")
	}
	if f == 0 {
		return append(b, '0'), nil // -0 too, as JSON.stringify writes it
	}
	format := byte('f')
	if abs := math.Abs(f); abs != 0 && (abs < 1e-6 || abs >= 1e21) {
		format = 'e'
	}
	b = strconv.AppendFloat(b, f, format, -1, 64)
	if format == 'e' {
		// Turn e-09 into e-9, as JavaScript does.
		if n := len(b); n >= 4 && b[n-4] == 'e' && b[n-3] == '-' && b[n-2] == '0' {
			b[n-2] = b[n-1]
			b = b[:n-1]
		}
	}
	return b, nil
}

const hexDigits = "0123456789abcdef"

// appendString writes a JSON string; invalid UTF-8 becomes U+FFFD.
func appendString(b []byte, s string) []byte {
	b = append(b, '"')
	start := 0
	for i := 0; i < len(s); {
		c := s[i]
		if c < utf8.RuneSelf {
			if c >= 0x20 && c != '"' && c != '\\' {
				i++
				continue
			}
			b = append(b, s[start:i]...)
			switch c {
			case '"', '\\':
				b = append(b, '\\', c)
			case '\n':
				b = append(b, '\\', 'n')
			case '\r':
				b = append(b, '\\', 'r')
			case '\t':
				b = append(b, '\\', 't')
			default:
				b = append(b, '\\', 'u', '0', '0', hexDigits[c>>4], hexDigits[c&0xf])
			}
			i++
			start = i
			continue
		}
		r, size := utf8.DecodeRuneInString(s[i:])
		if r == utf8.RuneError && size == 1 {
			b = append(b, s[start:i]...)
			b = append(b, `\ufffd`...)
			i += size
			start = i
			continue
		}
		i += size
	}
	b = append(b, s[start:]...)
	return append(b, '"')
}
