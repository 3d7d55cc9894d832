package api

import (
	"encoding/json"
	"reflect"
	"slices"
	"strings"
	"testing"

	"github.com/go-json-experiment/json/jsontext"

	"github.com/hookgate/hookgate/gateway/ingest"
)

// batchSeeds are bodies of a bulk publish; fast says whether the one-pass
// read must take them (the usual shape) rather than leave them to
// encoding/json.
var batchSeeds = []struct {
	body string
	fast bool
}{
	{`{"events":[{"envelope":{"a":1},"idempotencyKey":"k1"},{"idempotencyKey":"k\u00e92","envelope":[1,"x"]}]}`, true},
	{" {\"events\":[{\"envelope\":{\"a\":{\"b\":[null,true]}}}]}\n", true},
	{`{"events":[]}`, true},
	{`{}`, true},
	{`{"events":[{"envelope":null}]}`, true},
	{`{"Events":[{"envelope":{}}]}`, false},                       // encoding/json folds case
	{`{"events":[{"envelope":{},"envelope":{"b":2}}]}`, false},    // the last wins there
	{`{"events":[{"envelope":{}}],"other":1}`, false},             // unknown names are ignored there
	{`{"events":[{"envelope":{},"idempotencyKey":null}]}`, false}, // null leaves the key empty there
	{`{"events":[{"envelope":{}}],"events":[]}`, false},
	{`{"events":[{"idempotencyKey":"a","idempotencyKey":"b"}]}`, false},
	{`{"events":[{"idempotencyKey":"` + "\xff" + `"}]}`, false}, // replaced there
	{`{"events":[{"envelope":{"a":1,"a":2}}]}`, true},           // kept raw there
	{`{"events":[{"envelope":{"s":"` + "\xff" + `"}}]}`, true},  // kept raw there
	{`{"events":null}`, false},
	{`{"events":[{"envelope":{}}]} x`, false},
	{`{"events":[{"envelope":{}]}`, false},
	{`[{"envelope":{}}]`, false},
	{`{"events":[` + strings.Repeat("[", 80) + strings.Repeat("]", 80) + `]}`, false},
	{``, false},
	// Envelopes the one pass parses, and ones it leaves to ParseEnvelope.
	{`{"events":[{"envelope":` + batchEnvelope("workorder.created") + `},{"envelope":` + batchEnvelope("no.such.event") + `,"idempotencyKey":"k"},` +
		`{"envelope": ` + batchEnvelope("workorder.routed") + " }]}", true},
}

func batchEnvelope(event string) string {
	return `{"event":{"name":"` + event + `","params":{"work_order_id":"1","work_order_company_id":"100"}},` +
		`"timestamp":"2026-12-05T12:00:00Z","triggered_by_user":{"id":7},"workorder":{"id":1,"title":"t"}}`
}

// sameAsJSON fails unless req, read from body in one pass (parse: with its
// envelopes parsed), is what encoding/json reads, and each envelope parsed
// is what ingest.ParseEnvelope answers for its bytes.
func sameAsJSON(t *testing.T, body []byte, req batchRequest) {
	t.Helper()
	var want batchRequest
	if err := json.Unmarshal(body, &want); err != nil {
		t.Fatalf("%q: read in one pass, but encoding/json refuses it: %v", body, err)
	}
	got := batchRequest{Events: slices.Clone(req.Events)}
	for i, e := range got.Events {
		if e.sure {
			p, err := ingest.ParseEnvelope(e.Envelope)
			if err != nil || p != e.parsed {
				t.Fatalf("%q: envelope %d parsed as %+v; ParseEnvelope answers %+v, %v", body, i, e.parsed, p, err)
			}
		}
		got.Events[i].parsed, got.Events[i].sure = ingest.Parsed{}, false
	}
	if !reflect.DeepEqual(got, want) {
		t.Fatalf("%q: read %+v, encoding/json %+v", body, got, want)
	}
}

// TestDecodeBatchFast: the one-pass read takes the usual shape of a bulk
// publish and reads it as encoding/json does; it leaves every other body
// (folded names, duplicate batch names, invalid UTF-8 in a key, errors,
// deep nesting) to it; inside an envelope it keeps what encoding/json keeps.
// The pass that parses the envelopes takes the same bodies when they are
// strict JSON, and parses each envelope as ingest.ParseEnvelope does.
func TestDecodeBatchFast(t *testing.T) {
	parsed := 0
	for _, c := range batchSeeds {
		body := []byte(c.body)
		for _, parse := range []bool{false, true} {
			want := c.fast && (!parse || jsontext.Value(body).IsValid())
			got, ok := decodeBatchFast(body, parse)
			if ok != want {
				t.Errorf("%q: read in one pass (parse %v) %v, want %v", c.body, parse, ok, want)
				continue
			}
			if ok {
				sameAsJSON(t, body, got)
			}
			for _, e := range got.Events {
				if e.sure {
					parsed++
				}
			}
		}
	}
	if parsed != 2 {
		t.Errorf("%d envelopes parsed in the one pass, want 2 (the known events)", parsed)
	}
}

// FuzzDecodeBatchFast holds the one-pass read, with and without parsing
// the envelopes, to encoding/json's and ingest.ParseEnvelope's answers.
func FuzzDecodeBatchFast(f *testing.F) {
	for _, c := range batchSeeds {
		f.Add([]byte(c.body))
	}
	f.Fuzz(func(t *testing.T, body []byte) {
		for _, parse := range []bool{false, true} {
			if got, ok := decodeBatchFast(body, parse); ok {
				sameAsJSON(t, body, got)
			}
		}
	})
}

// BenchmarkDecodeBatch reads a bulk publish of 500 envelopes of ~1.8 KB:
// in one pass that parses the envelopes too (what decodeBatch does), in one
// pass keeping them raw and then parsing each (what it did before), and
// with encoding/json (without parsing them).
func BenchmarkDecodeBatch(b *testing.B) {
	env := `{"event":{"name":"workorder.created","params":{"work_order_id":"1","work_order_company_id":"100"}},` +
		`"timestamp":"2026-12-05T12:00:00Z","triggered_by_user":{"id":7},"workorder":{"id":1,"title":"` + strings.Repeat("a ", 800) + `"}}`
	envs := make([]string, 500)
	for i := range envs {
		envs[i] = `{"envelope":` + env + `}`
	}
	body := []byte(`{"events":[` + strings.Join(envs, ",") + `]}`)
	b.Run("parsed", func(b *testing.B) {
		b.ReportAllocs()
		b.SetBytes(int64(len(body)))
		for b.Loop() {
			req, ok := decodeBatchFast(body, true)
			if !ok || !req.Events[0].sure {
				b.Fatal("not read and parsed in one pass")
			}
		}
	})
	b.Run("raw-then-parse", func(b *testing.B) {
		b.ReportAllocs()
		b.SetBytes(int64(len(body)))
		for b.Loop() {
			req, ok := decodeBatchFast(body, false)
			if !ok {
				b.Fatal("not read in one pass")
			}
			for _, e := range req.Events {
				if _, err := ingest.ParseEnvelope(e.Envelope); err != nil {
					b.Fatal(err)
				}
			}
		}
	})
	b.Run("encoding-json", func(b *testing.B) {
		b.ReportAllocs()
		b.SetBytes(int64(len(body)))
		for b.Loop() {
			var req batchRequest
			if err := json.Unmarshal(body, &req); err != nil {
				b.Fatal(err)
			}
		}
	})
}
