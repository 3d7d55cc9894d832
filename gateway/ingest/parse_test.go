package ingest

import (
	"bytes"
	"encoding/json"
	"errors"
	"io"
	"os"
	"path/filepath"
	"strconv"
	"strings"
	"testing"

	"github.com/go-json-experiment/json/jsontext"

	"github.com/hookgate/hookgate/events"
)

// sameAnswer fails unless ParseEnvelope answers raw exactly as
// parseEnvelopeSlow does (result, field, offset and message), and parseEnvelopeFast,
// when it answers, agrees. It returns whether the fast path answered.
func sameAnswer(t *testing.T, raw []byte) bool {
	t.Helper()
	orig := bytes.Clone(raw)
	want, wantErr := parseEnvelopeSlow(raw)
	fast, ok := parseEnvelopeFast(raw)
	if !bytes.Equal(raw, orig) {
		t.Fatalf("the fast parse changed the body: %q", raw)
	}
	if ok && (wantErr != nil || fast != want) {
		t.Fatalf("fast path accepted %q as %+v; the slow path answers %+v, %v", raw, fast, want, wantErr)
	}
	got, gotErr := ParseEnvelope(raw)
	if got != want || errText(gotErr) != errText(wantErr) {
		t.Fatalf("ParseEnvelope(%q) = %+v, %s; want %+v, %s", raw, got, errText(gotErr), want, errText(wantErr))
	}
	if parsed := inBatch(t, raw, want, wantErr); ok && !parsed {
		t.Fatalf("the fast path answered %q, but not when it is the envelope of a bulk publish", raw)
	}
	return ok
}

// inBatch fails unless ReadEnvelope, reading raw as the envelope of a bulk
// publish's body, keeps raw's bytes and, when it parsed them, answers as
// parseEnvelopeSlow does (want, wantErr). It returns whether it parsed them.
func inBatch(t *testing.T, raw []byte, want Parsed, wantErr error) bool {
	t.Helper()
	body := append(append([]byte(`{"events":[{"envelope": `), raw...), `}]}`...)
	if !BatchWithinDepth(body) {
		return false
	}
	d := jsontext.NewDecoder(bytes.NewBuffer(body))
	for range 5 { // {"events":[{"envelope"
		if _, err := d.ReadToken(); err != nil {
			return false
		}
	}
	var p Parsed
	got, parsed, ok := ReadEnvelope(d, body, &p)
	if !ok {
		return false
	}
	for range 3 { // }]}
		if _, err := d.ReadToken(); err != nil {
			return false // raw was not one value: the body is not JSON
		}
	}
	if _, err := d.ReadToken(); err != io.EOF {
		return false
	}
	if !bytes.Equal(got, bytes.Trim(raw, " \t\r\n")) {
		t.Fatalf("ReadEnvelope kept %q of the envelope %q", got, raw)
	}
	if parsed && (wantErr != nil || p != want) {
		t.Fatalf("ReadEnvelope parsed %q as %+v; the slow path answers %+v, %v", raw, p, want, wantErr)
	}
	return parsed
}

// errText is what tells two answers apart: a refusal's field, offset and
// message (the API answers every ParseError 400).
func errText(err error) string {
	var pe *ParseError
	if errors.As(err, &pe) {
		return "field " + strconv.Quote(pe.Field) + " at " + strconv.FormatInt(pe.Offset, 10) + ": " + pe.Msg
	}
	if err != nil {
		return "not a ParseError: " + err.Error()
	}
	return "<nil>"
}

// seed is transforms' seed envelope, compact, naming event.
func seed(t testing.TB, event string) []byte {
	t.Helper()
	raw, err := os.ReadFile("../../transforms/testdata/seed-envelope.json")
	if err != nil {
		t.Fatal(err)
	}
	var b bytes.Buffer
	if err := json.Compact(&b, raw); err != nil {
		t.Fatal(err)
	}
	return bytes.Replace(b.Bytes(), []byte(`"name":"workorder.status.published"`), []byte(`"name":`+strconv.Quote(event)), 1)
}

// envelopeCases are bodies near the edges of what either parser accepts:
// shapes encoding/json treats specially (case folding, nulls, RawMessage,
// json.Number) and the strict checks' bounds. fast says whether the fast
// path must answer it itself.
var envelopeCases = []struct {
	name string
	body string
	fast bool
}{
	{"spec example", specEnvelope(``, ``), true},
	{"string ids", `{"event":{"name":"workorder.routed","params":{"work_order_id":"12","work_order_company_id":"100"}},"timestamp":"2026-01-20T08:55:58+00:00","triggered_by_user":{"id":"1"},"workorder":{}}`, true},
	{"company from workorder", `{"event":{"name":"workorder.created","params":{}},"timestamp":"2026-01-20T08:55:58Z","triggered_by_user":{"id":"7"},"workorder":{"id":"12","company":{"id":"100"}}}`, true},
	{"company id folds", `{"event":{"name":"workorder.created","params":{}},"timestamp":"2026-01-20T08:55:58Z","triggered_by_user":{"ID":7},"workorder":{"id":12,"company":{"Id":100}}}`, true},
	{"company id last fold wins", `{"event":{"name":"workorder.created","params":{}},"timestamp":"2026-01-20T08:55:58Z","triggered_by_user":{"id":7},"workorder":{"company":{"ID":"x","id":100}}}`, true},
	{"company id null", `{"event":{"name":"workorder.created","params":{}},"timestamp":"2026-01-20T08:55:58Z","triggered_by_user":{"id":7},"workorder":{"company":{"id":null}}}`, false},
	{"company null", `{"event":{"name":"workorder.created","params":{}},"timestamp":"2026-01-20T08:55:58Z","triggered_by_user":{"id":7},"workorder":{"company":null}}`, false},
	{"company array", `{"event":{"name":"workorder.created","params":{}},"timestamp":"2026-01-20T08:55:58Z","triggered_by_user":{"id":7},"workorder":{"company":[1]}}`, false},
	{"company dotless i", `{"event":{"name":"workorder.created","params":{}},"timestamp":"2026-01-20T08:55:58Z","triggered_by_user":{"id":7},"workorder":{"company":{"ıd":100}}}`, false},
	{"company escaped ID wins", `{"event":{"name":"workorder.created","params":{}},"timestamp":"2026-01-20T08:55:58Z","triggered_by_user":{"id":7},"workorder":{"company":{"id":100,"\u0049D":"x"}}}`, false},
	{"company dotless i wins", `{"event":{"name":"workorder.created","params":{}},"timestamp":"2026-01-20T08:55:58Z","triggered_by_user":{"id":7},"workorder":{"company":{"id":100,"ıD":"x"}}}`, false},
	{"company unused and odd", `{"event":{"name":"workorder.created","params":{"work_order_company_id":100}},"timestamp":"2026-01-20T08:55:58Z","triggered_by_user":{"id":7},"workorder":{"company":"acme"}}`, true},
	{"no company", `{"event":{"name":"workorder.created","params":{}},"timestamp":"2026-01-20T08:55:58Z","triggered_by_user":{"id":7},"workorder":{}}`, false},
	{"params null", `{"event":{"name":"workorder.created","params":null},"timestamp":"2026-01-20T08:55:58Z","triggered_by_user":{"id":7},"workorder":{"company":{"id":1}}}`, false},
	{"params company null", `{"event":{"name":"workorder.created","params":{"work_order_company_id":null}},"timestamp":"2026-01-20T08:55:58Z","triggered_by_user":{"id":7},"workorder":{"company":{"id":1}}}`, false},
	{"params company object", `{"event":{"name":"workorder.created","params":{"work_order_company_id":{"id":1}}},"timestamp":"2026-01-20T08:55:58Z","triggered_by_user":{"id":7},"workorder":{}}`, false},
	{"params company float", `{"event":{"name":"workorder.created","params":{"work_order_company_id":1e2}},"timestamp":"2026-01-20T08:55:58Z","triggered_by_user":{"id":7},"workorder":{}}`, false},
	{"params company plus", `{"event":{"name":"workorder.created","params":{"work_order_company_id":"+100"}},"timestamp":"2026-01-20T08:55:58Z","triggered_by_user":{"id":7},"workorder":{}}`, true},
	{"params company escaped digit", `{"event":{"name":"workorder.created","params":{"work_order_company_id":"\u0031"}},"timestamp":"2026-01-20T08:55:58Z","triggered_by_user":{"id":7},"workorder":{}}`, true},
	{"params escaped name", `{"event":{"name":"workorder.created","params":{"work_order_company_\u0069d":100}},"timestamp":"2026-01-20T08:55:58Z","triggered_by_user":{"id":7},"workorder":{}}`, false},
	{"work order id bad", `{"event":{"name":"workorder.created","params":{"work_order_company_id":100,"work_order_id":"x"}},"timestamp":"2026-01-20T08:55:58Z","triggered_by_user":{"id":7},"workorder":{"id":1}}`, false},
	{"workorder id bad", `{"event":{"name":"workorder.created","params":{"work_order_company_id":100}},"timestamp":"2026-01-20T08:55:58Z","triggered_by_user":{"id":7},"workorder":{"id":true}}`, false},
	{"workorder id unused and odd", `{"event":{"name":"workorder.created","params":{"work_order_company_id":100,"work_order_id":5}},"timestamp":"2026-01-20T08:55:58Z","triggered_by_user":{"id":7},"workorder":{"id":[]}}`, true},
	{"user empty", `{"event":{"name":"workorder.created","params":{"work_order_company_id":100}},"timestamp":"2026-01-20T08:55:58Z","triggered_by_user":{},"workorder":{}}`, true},
	{"user id null", `{"event":{"name":"workorder.created","params":{"work_order_company_id":100}},"timestamp":"2026-01-20T08:55:58Z","triggered_by_user":{"id":null},"workorder":{}}`, true},
	{"user id not a number", `{"event":{"name":"workorder.created","params":{"work_order_company_id":100}},"timestamp":"2026-01-20T08:55:58Z","triggered_by_user":{"id":"7x"},"workorder":{}}`, false},
	{"user id bool", `{"event":{"name":"workorder.created","params":{"work_order_company_id":100}},"timestamp":"2026-01-20T08:55:58Z","triggered_by_user":{"id":true},"workorder":{}}`, false},
	{"user null", `{"event":{"name":"workorder.created","params":{"work_order_company_id":100}},"timestamp":"2026-01-20T08:55:58Z","triggered_by_user":null,"workorder":{}}`, false},
	{"user array", `{"event":{"name":"workorder.created","params":{"work_order_company_id":100}},"timestamp":"2026-01-20T08:55:58Z","triggered_by_user":[],"workorder":{}}`, false},
	{"folded top-level name", `{"Event":{"name":"workorder.created","params":{"work_order_company_id":100}},"timestamp":"2026-01-20T08:55:58Z","triggered_by_user":{"id":7},"workorder":{}}`, false},
	{"both event and Event", `{"event":{"name":"workorder.created","params":{"work_order_company_id":100}},"EVENT":{"params":{"work_order_company_id":200}},"timestamp":"2026-01-20T08:55:58Z","triggered_by_user":{"id":7},"workorder":{}}`, false},
	{"Kelvin sign", `{"event":{"name":"workorder.created","params":{"work_order_company_id":100}},"timestamp":"2026-01-20T08:55:58Z","triggered_by_user":{"id":7},"wor` + "\u212a" + `order":null,"workorder":{}}`, false},
	{"escaped top-level name", `{"\u0065vent":{"name":"workorder.created","params":{"work_order_company_id":100}},"timestamp":"2026-01-20T08:55:58Z","triggered_by_user":{"id":7},"workorder":{}}`, false},
	{"extra members", `{"x":[1,{"y":null}],"event":{"name":"workorder.created","params":{"work_order_company_id":100},"v":2},"timestamp":"2026-01-20T08:55:58Z","triggered_by_user":{"id":7,"name":"ann"},"workorder":{},"z":"\"}"}`, true},
	{"escaped name value", `{"event":{"name":"workorder\u002ecreated","params":{"work_order_company_id":100}},"timestamp":"2026-01-20T08:55:58Z","triggered_by_user":{"id":7},"workorder":{}}`, false},
	{"unknown event", `{"event":{"name":"workorder.exploded","params":{"work_order_company_id":100}},"timestamp":"2026-01-20T08:55:58Z","triggered_by_user":{"id":7},"workorder":{}}`, false},
	{"bad timestamp", `{"event":{"name":"workorder.created","params":{"work_order_company_id":100}},"timestamp":"yesterday","triggered_by_user":{"id":7},"workorder":{}}`, false},
	{"whitespace around", " \r\n\t" + `{"event":{"name":"workorder.created","params":{"work_order_company_id":100}},"timestamp":"2026-01-20T08:55:58Z","triggered_by_user":{"id":7},"workorder":{}}` + "\n ", true},
	{"trailing brace", `{"event":{"name":"workorder.created","params":{"work_order_company_id":100}},"timestamp":"2026-01-20T08:55:58Z","triggered_by_user":{"id":7},"workorder":{}}}`, false},
	{"trailing value", `{"event":{"name":"workorder.created","params":{"work_order_company_id":100}},"timestamp":"2026-01-20T08:55:58Z","triggered_by_user":{"id":7},"workorder":{}} {}`, false},
	{"lone surrogate", `{"event":{"name":"workorder.created","params":{"work_order_company_id":100}},"timestamp":"2026-01-20T08:55:58Z","triggered_by_user":{"id":7},"workorder":{"t":"\ud800"}}`, false},
	{"depth 64", specEnvelope(strings.Repeat("[", 62)+strings.Repeat("]", 62), ``), true},
	{"depth 65", specEnvelope(strings.Repeat("[", 63)+strings.Repeat("]", 63), ``), false},
	{"depth 64 with strings", specEnvelope(`[`+strings.Repeat(`["\\\"[",`, 61)+`0`+strings.Repeat("]", 62), ``), true},
	{"depth 65 in params", specEnvelope(``, `"x":`+strings.Repeat("[", 62)+strings.Repeat("]", 62)+`,`), false},
	{"deep timestamp", `{"timestamp":` + strings.Repeat("[", 100) + strings.Repeat("]", 100) + `}`, false},
	{"deep user id", `{"triggered_by_user":{"id":` + strings.Repeat("[", 100) + strings.Repeat("]", 100) + `}}`, false},
	{"deep in place of a name", `{"workorder":{` + strings.Repeat("[", 100) + strings.Repeat("]", 100) + `}}`, false},
	{"deep unclosed", specEnvelope(strings.Repeat(`[{"a":`, 20000), ``), false},
	{"brackets in strings", specEnvelope(`["]]]]","[[[[\\",{"\\\"{":"}"}]`, ``), true},
	{"duplicate nested", specEnvelope(`{"a":1,"a":2}`, ``), false},
	{"duplicate escaped", specEnvelope(`{"a":1,"\u0061":2}`, ``), false},
	{"not utf-8", specEnvelope("\"\xff\"", ``), false},
	{"array", `[` + specEnvelope(``, ``) + `]`, false},
	{"empty", ``, false},
	{"null", `null`, false},
}

// specEnvelope returns a valid envelope with x as workorder.x (when not
// empty) and params prefixed to the event's params.
func specEnvelope(x, params string) string {
	wo := `{"id":12345,"company":{"id":100,"name":"Acme"}}`
	if x != "" {
		wo = `{"x":` + x + `,"id":12345,"company":{"id":100,"name":"Acme"}}`
	}
	return `{"event":{"name":"workorder.created","params":{` + params + `"work_order_id":"12345","work_order_company_id":"100"}},"timestamp":"2026-01-20T08:55:58-06:00","triggered_by_user":{"id":1068},"workorder":` + wo + `}`
}

func TestParseEnvelopeFastAgrees(t *testing.T) {
	for _, c := range envelopeCases {
		t.Run(c.name, func(t *testing.T) {
			if fast := sameAnswer(t, []byte(c.body)); fast != c.fast {
				p, err := parseEnvelopeSlow([]byte(c.body))
				t.Errorf("fast path answered: %v, want %v (slow path: %+v, %s)", fast, c.fast, p, errText(err))
			}
		})
	}
	// Every event's seed, as producers send it, takes the fast path.
	for _, name := range events.Names() {
		if !sameAnswer(t, seed(t, name)) {
			t.Errorf("the seed of %s fell back to the slow path", name)
		}
	}
	// So does the seed file as written, indented.
	raw, err := os.ReadFile("../../transforms/testdata/seed-envelope.json")
	if err != nil {
		t.Fatal(err)
	}
	if !sameAnswer(t, raw) {
		t.Error("the indented seed fell back to the slow path")
	}
}

// FuzzParseEnvelopeFast: on any body ParseEnvelope answers as the reference
// parseEnvelopeSlow does, and the fast path never accepts what the slow
// path refuses or reads it differently.
func FuzzParseEnvelopeFast(f *testing.F) {
	for _, c := range envelopeCases {
		f.Add([]byte(c.body))
	}
	// FuzzParseEnvelope's committed corpus too.
	files, _ := filepath.Glob("testdata/fuzz/FuzzParseEnvelope/*")
	for _, file := range files {
		b, err := os.ReadFile(file)
		if err != nil {
			f.Fatal(err)
		}
		for _, line := range strings.Split(string(b), "\n") {
			if q, ok := strings.CutPrefix(line, "[]byte("); ok {
				if s, err := strconv.Unquote(strings.TrimSuffix(q, ")")); err == nil {
					f.Add([]byte(s))
				}
			}
		}
	}
	f.Fuzz(func(t *testing.T, raw []byte) {
		sameAnswer(t, raw)
	})
}
