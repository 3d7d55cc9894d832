package transforms

import (
	"errors"
	"reflect"
	"strings"
	"testing"
)

// TestDecodeJSON: one value, engine null in place of JSON null, numbers as
// float64; everything encoding/json refuses is a *DecodeError with where.
func TestDecodeJSON(t *testing.T) {
	got, err := decodeJSON([]byte(` {"a":[1,-2.5e3,null,{"b":true}],"c":null,"d":"x\u00e9"} `), gnataNull)
	want := map[string]any{"a": []any{1.0, -2500.0, gnataNull, map[string]any{"b": true}}, "c": gnataNull, "d": "xé"}
	if err != nil || !reflect.DeepEqual(got, want) {
		t.Fatalf("got %#v, %v", got, err)
	}
	for in, msg := range map[string]string{
		`1 2`:           "invalid JSON at offset 3: data after the top-level value",
		`{"a":1}}`:      "invalid JSON at offset 7",
		`1e400`:         "invalid JSON at offset 0: number 1e400 is out of range",
		`{"a":1,"a":2}`: "duplicate object member name",
		"\"\xff\"":      "invalid UTF-8",
		`{"a":`:         "invalid JSON at offset 5",
		``:              "invalid JSON",
	} {
		_, err := decodeJSON([]byte(in), gnataNull)
		var de *DecodeError
		if !errors.As(err, &de) || !strings.Contains(err.Error(), msg) || strings.Count(err.Error(), "invalid JSON") != 1 {
			t.Errorf("%q: %v, want a *DecodeError saying %q", in, err, msg)
		}
	}
	const maxDepth = 10000 // jsontext's bound, and encoding/json's
	deep := strings.Repeat("[", maxDepth+2) + strings.Repeat("]", maxDepth+2)
	var de *DecodeError
	if _, err := decodeJSON([]byte(deep), nil); !errors.As(err, &de) || !strings.Contains(err.Error(), "depth") {
		t.Errorf("nesting past %d: %v", maxDepth, err)
	}
}
