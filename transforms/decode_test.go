package transforms

import (
	"errors"
	"reflect"
	"strings"
	"testing"

	"github.com/recolabs/gnata"
)

// TestDecodeJSON: one value, engine null in place of JSON null, numbers as
// float64; everything encoding/json refuses is a *DecodeError with where.
func TestDecodeJSON(t *testing.T) {
	got, err := decodeJSON([]byte(` {"a":[1,-2.5e3,null,{"b":true}],"c":null,"d":"x\u00e9"} `), inputForm{null: gnataNull})
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
		_, err := decodeJSON([]byte(in), inputForm{null: gnataNull})
		var de *DecodeError
		if !errors.As(err, &de) || !strings.Contains(err.Error(), msg) || strings.Count(err.Error(), "invalid JSON") != 1 {
			t.Errorf("%q: %v, want a *DecodeError saying %q", in, err, msg)
		}
	}
	const maxDepth = 10000 // jsontext's bound, and encoding/json's
	deep := strings.Repeat("[", maxDepth+2) + strings.Repeat("]", maxDepth+2)
	var de *DecodeError
	if _, err := decodeJSON([]byte(deep), inputForm{}); !errors.As(err, &de) || !strings.Contains(err.Error(), "depth") {
		t.Errorf("nesting past %d: %v", maxDepth, err)
	}
}

// TestDecodeKeepsKeyOrder: for gnata the envelope's objects, nested ones
// too, are gnata's ordered objects with the keys in input order; a gnata
// whose object layout changed would silently fall back to sorted keys, so
// this fails instead.
func TestDecodeKeepsKeyOrder(t *testing.T) {
	if gnataOrderedType == nil {
		_, err := checkGnataOrderedLayout()
		t.Fatalf("gnata's ordered objects cannot be built: %v", err)
	}
	got, err := decodeJSON([]byte(`{"z":1,"a":{"y":null,"b":[{"k2":1,"k1":2}]},"m":"x"}`), gnataInput)
	if err != nil {
		t.Fatal(err)
	}
	keys := func(v any) []string {
		o, ok := v.(orderedObject)
		if !ok {
			t.Fatalf("%T is not an ordered object", v)
		}
		return o.Keys()
	}
	get := func(v any, k string) any {
		x, _ := v.(orderedObject).Get(k)
		return x
	}
	inner := get(got, "a")
	deepest := get(inner, "b").([]any)[0]
	for _, c := range []struct {
		obj  any
		want []string
	}{{got, []string{"z", "a", "m"}}, {inner, []string{"y", "b"}}, {deepest, []string{"k2", "k1"}}} {
		if k := keys(c.obj); !reflect.DeepEqual(k, c.want) {
			t.Errorf("keys %v, want %v", k, c.want)
		}
	}
	if !gnata.IsNull(get(inner, "y")) {
		t.Errorf("null member is %#v, want gnata's null", get(inner, "y"))
	}
	body, err := encodeResult(nil, got, 10, false)
	if err != nil || string(body) != `{"z":1,"a":{"y":null,"b":[{"k2":1,"k1":2}]},"m":"x"}` {
		t.Errorf("re-encoded as %s, %v", body, err)
	}
}

// TestDecodeMemberNames: escaped names are unquoted, in every decode by a
// pooled decoder; invalid UTF-8 in a name is refused.
func TestDecodeMemberNames(t *testing.T) {
	for range 3 {
		got, err := decodeJSON([]byte(`{"\u0069d":1,"x\"y":{"id":2,"caf\u00e9":3}}`), inputForm{})
		want := map[string]any{"id": 1.0, `x"y`: map[string]any{"id": 2.0, "café": 3.0}}
		if err != nil || !reflect.DeepEqual(got, want) {
			t.Fatalf("got %#v, %v", got, err)
		}
	}
	if _, err := decodeJSON([]byte("{\"\xff\":1}"), inputForm{}); err == nil || !strings.Contains(err.Error(), "UTF-8") {
		t.Errorf("invalid UTF-8 in a name: %v", err)
	}
}
