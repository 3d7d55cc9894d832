package transforms

import (
	"bytes"
	"errors"
	"fmt"
	"maps"
	"math"
	"reflect"
	"slices"
	"strconv"
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

// scanCases are envelopes where the scanner (decode_scan.go) and the
// jsontext path could part: escapes, surrogates, numbers at the edges,
// duplicates in small and large objects, kept or skipped, bad syntax.
func scanCases(t testing.TB) [][]byte {
	cases := [][]byte{}
	for _, env := range projectedEnvelopes(t) {
		cases = append(cases, env)
	}
	var many, manyDup strings.Builder
	for i := range 40 {
		fmt.Fprintf(&many, `"k%d":%d,`, i, i)
	}
	manyDup.WriteString(many.String() + `"k7":0,`)
	for _, s := range []string{
		`{"workorder":{"id":1},"skip":{` + strings.TrimSuffix(many.String(), ",") + `}}`,
		`{"workorder":{"id":1},"skip":{` + strings.TrimSuffix(manyDup.String(), ",") + `}}`,
		`{"workorder":{` + strings.TrimSuffix(manyDup.String(), ",") + `}}`,
		`{` + many.String() + `"workorder":{"id":1},"k3":2}`,
		`{"workorder":{"id":1},"\u0077orkorder":2}`, `{"workorder":{"id":1},"s\u006bip":1,"skip":2}`,
		`"\ud83d\ude00"`, `"\ud800"`, `"\udc00"`, `"\ud800\u0041"`, `"\ud800x"`, `"\uD83D\uDE00\/\b\f\n\r\t"`, `"\x"`, `"\u12"`, `"\u12g4"`,
		"\"\t\"", "\"a\u2028b\"", "\"\xed\xa0\x80\"", "\"\xf4\x90\x80\x80\"", "\"\xc0\xaf\"", "\"é日本\U0001F600\"",
		`-0`, `-0.0`, `0`, `-`, `1.`, `.5`, `1e`, `1e+`, `1E-2`, `01`, `-01`, `1.5e308`, `1e309`, `-1e309`, `4e-400`,
		`999999999999999`, `9999999999999999`, `12345678901234567890`, `9007199254740993`, `0.1`, `123.456e-7`,
		`true`, `false`, `null`, `tru`, `nul`, `falsey`, `[true,false,null]`, `[1 2]`, `{"a" 1}`, `{"a":1,}`, `{,}`, `[,]`,
		` { } `, ` [ ] `, "\t\r\n1\n", `{"a":{"b":{"c":[{"d":"e"}]}}}`, `[[[[]]]]`, `{"":""}`, `{"a":[]}`, `[{}]`,
		`{"workorder":[{"id":1,"id":2}]}`, `{"workorder":{"id":[1,{"a":1,"a":1}]}}`, `{"event":{"name":"x\"y\\z"}}`,
		strings.Repeat("[", 600) + strings.Repeat("]", 600), strings.Repeat(`{"a":`, 600) + "1" + strings.Repeat("}", 600),
	} {
		cases = append(cases, []byte(s))
	}
	return cases
}

// scanProjections are the projections scanCases are decoded with: none,
// the bench template's, and one reading a member whole.
func scanProjections() []*projection {
	return []*projection{nil,
		projectionOf([]string{benchPayloadTemplate}, true),
		projectionOf([]string{`{"a": workorder.id, "b": $string(event), "c": k3}`}, true)}
}

// TestScanMatchesTokens: the scanner decodes what the jsontext path decodes
// to the same value (in each engine's form, key order included), and when
// it gives up the error is the jsontext path's.
func TestScanMatchesTokens(t *testing.T) {
	for _, env := range scanCases(t) {
		checkScan(t, env)
	}
}

// FuzzScanDecode is TestScanMatchesTokens over mutated envelopes.
func FuzzScanDecode(f *testing.F) {
	for _, env := range scanCases(f) {
		if len(env) < 4096 { // the 10,001 levels: a fiftieth of a second per call, for nothing the 600 do not reach
			f.Add(env)
		}
	}
	f.Fuzz(checkScan)
}

func checkScan(t *testing.T, env []byte) {
	for _, form := range []inputForm{{}, gnataInput, jsonataGoEngine{}.input()} {
		for _, p := range scanProjections() {
			// The scanner decodes a copy that is then overwritten: a value
			// that kept a view of the input's bytes (the store's buffer,
			// in the gateway) would change with it.
			in := bytes.Clone(env)
			got, err := decodeWith(in, form, p, true)
			for i := range in {
				in[i] = '#'
			}
			want, werr := decodeWith(env, form, p, false)
			if fmt.Sprint(err) != fmt.Sprint(werr) {
				t.Fatalf("%q, form %d, projection %q: error %v, jsontext's %v", env, form.objects, describeProjection(p), err, werr)
			}
			if g, w := decodedForm(got), decodedForm(want); g != w {
				t.Fatalf("%q, form %d, projection %q:\nscanner  %s\njsontext %s", env, form.objects, describeProjection(p), g, w)
			}
			// The scanner itself accepts what jsontext accepts (else every
			// decode would cost both), but for what it leaves to jsontext
			// on purpose: surrogate escapes, deep nesting, names written
			// with escapes where a projection compares them.
			if werr == nil && !scanSkips(env, p) && !scans(env, form, p) {
				t.Fatalf("%q, form %d, projection %q: the scanner gave up on valid JSON", env, form.objects, describeProjection(p))
			}
		}
	}
}

// decodedForm writes a decoded value with its types, key order, -0 and the
// engine's null, for comparing two decodes.
func decodedForm(v any) string {
	var b strings.Builder
	var order jsonataGoOrder
	if in, ok := v.(*jsonataGoInput); ok {
		v, order = in.root, in.order
	}
	var walk func(v any)
	walk = func(v any) {
		switch x := v.(type) {
		case orderedObject:
			b.WriteString("O{")
			for _, k := range x.Keys() {
				e, _ := x.Get(k)
				fmt.Fprintf(&b, "%q:", k)
				walk(e)
				b.WriteString(",")
			}
			b.WriteString("}")
		case jsonataGoObject:
			keys, ok := order[reflect.ValueOf(x).UnsafePointer()]
			fmt.Fprintf(&b, "J%v{", ok)
			for _, k := range keys {
				fmt.Fprintf(&b, "%q:", k)
				walk(x[k])
				b.WriteString(",")
			}
			b.WriteString("}")
		case map[string]any:
			b.WriteString("M{")
			for _, k := range slices.Sorted(maps.Keys(x)) {
				fmt.Fprintf(&b, "%q:", k)
				walk(x[k])
				b.WriteString(",")
			}
			b.WriteString("}")
		case []any:
			fmt.Fprintf(&b, "A%v[", x == nil)
			for _, e := range x {
				walk(e)
				b.WriteString(",")
			}
			b.WriteString("]")
		case float64:
			fmt.Fprintf(&b, "%v/%v", strconv.FormatFloat(x, 'g', -1, 64), math.Signbit(x))
		default:
			fmt.Fprintf(&b, "%T(%#v)", v, v)
		}
	}
	walk(v)
	return b.String()
}

// scans reports whether the scanner alone decodes env.
func scans(env []byte, form inputForm, p *projection) bool {
	s := &decodeState{form: form, order: jsonataGoOrder{}}
	s.scanStart(env, p)
	_, ok := s.scan(p)
	return ok
}

// scanSkips reports whether env may have what the scanner leaves to
// jsontext: a \u escape of a surrogate, nesting deeper than maxScanDepth,
// or, with a projection, any escape (it could be in a name).
func scanSkips(env []byte, p *projection) bool {
	if p != nil && bytes.IndexByte(env, '\\') >= 0 {
		return true
	}
	depth, most, quoted := 0, 0, false
	for i := 0; i < len(env); i++ {
		switch c := env[i]; {
		case quoted && c == '\\':
			i++
		case c == '"':
			quoted = !quoted
		case quoted:
		case c == '[' || c == '{':
			depth++
			most = max(most, depth)
		case c == ']' || c == '}':
			depth--
		}
	}
	lower := strings.ToLower(string(env))
	return most > maxScanDepth || strings.Contains(lower, `\ud8`) || strings.Contains(lower, `\ud9`) || strings.Contains(lower, `\uda`) ||
		strings.Contains(lower, `\udb`) || strings.Contains(lower, `\udc`) || strings.Contains(lower, `\udd`) || strings.Contains(lower, `\ude`) || strings.Contains(lower, `\udf`)
}
