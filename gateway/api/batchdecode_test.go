package api

import (
	"encoding/json"
	"reflect"
	"strings"
	"testing"
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
}

// TestDecodeBatchFast: the one-pass read takes the usual shape of a bulk
// publish and reads it as encoding/json does; it leaves every other body
// (folded names, duplicate batch names, invalid UTF-8 in a key, errors,
// deep nesting) to it; inside an envelope it keeps what encoding/json keeps.
func TestDecodeBatchFast(t *testing.T) {
	for _, c := range batchSeeds {
		got, ok := decodeBatchFast([]byte(c.body))
		if ok != c.fast {
			t.Errorf("%q: read in one pass %v, want %v", c.body, ok, c.fast)
			continue
		}
		if !ok {
			continue
		}
		var want batchRequest
		if err := json.Unmarshal([]byte(c.body), &want); err != nil {
			t.Errorf("%q: read in one pass, but encoding/json refuses it: %v", c.body, err)
		} else if !reflect.DeepEqual(got, want) {
			t.Errorf("%q: read %+v, encoding/json %+v", c.body, got, want)
		}
	}
}

// FuzzDecodeBatchFast holds the one-pass read to encoding/json's answers.
func FuzzDecodeBatchFast(f *testing.F) {
	for _, c := range batchSeeds {
		f.Add([]byte(c.body))
	}
	f.Fuzz(func(t *testing.T, body []byte) {
		got, ok := decodeBatchFast(body)
		if !ok {
			return
		}
		var want batchRequest
		if err := json.Unmarshal(body, &want); err != nil {
			t.Fatalf("%q: read in one pass, but encoding/json refuses it: %v", body, err)
		}
		if !reflect.DeepEqual(got, want) {
			t.Fatalf("%q: read %+v, encoding/json %+v", body, got, want)
		}
	})
}

// BenchmarkDecodeBatch reads a bulk publish of 500 envelopes of ~1.8 KB,
// in one pass and with encoding/json.
func BenchmarkDecodeBatch(b *testing.B) {
	env := `{"event":{"name":"workorder.created","params":{"work_order_id":"1","work_order_company_id":"100"}},` +
		`"timestamp":"2026-12-05T12:00:00Z","user":{"id":7},"workorder":{"id":1,"title":"` + strings.Repeat("a ", 800) + `"}}`
	envs := make([]string, 500)
	for i := range envs {
		envs[i] = `{"envelope":` + env + `}`
	}
	body := []byte(`{"events":[` + strings.Join(envs, ",") + `]}`)
	b.Run("one-pass", func(b *testing.B) {
		b.SetBytes(int64(len(body)))
		for b.Loop() {
			if _, ok := decodeBatchFast(body); !ok {
				b.Fatal("not read in one pass")
			}
		}
	})
	b.Run("encoding-json", func(b *testing.B) {
		b.SetBytes(int64(len(body)))
		for b.Loop() {
			var req batchRequest
			if err := json.Unmarshal(body, &req); err != nil {
				b.Fatal(err)
			}
		}
	})
}
