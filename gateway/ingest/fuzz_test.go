package ingest

import (
	"encoding/json"
	"errors"
	"testing"
	"unicode/utf8"

	"github.com/hookgate/hookgate/events"
)

// The seed corpora live in testdata/fuzz/<target>/; `make fuzz` (part of
// `make test`) runs each target for FUZZTIME on top of them.

// FuzzParseEnvelope: whatever the body, parsing never panics, a refusal is
// a ParseError (a 400) with a message, and an accepted body is valid UTF-8, valid JSON
// without duplicate keys, within the depth bound and names a known event.
func FuzzParseEnvelope(f *testing.F) {
	f.Add([]byte(`{"event":{"name":"workorder.created","params":{"work_order_id":1,"work_order_company_id":100}},"timestamp":"2026-01-20T08:55:58-06:00","triggered_by_user":{"id":1068},"workorder":{"id":1}}`))
	f.Add([]byte(`{"event":{"name":"workorder.created","params":{}},"timestamp":"2026-01-20T08:55:58Z","triggered_by_user":{"id":"7"},"workorder":{"id":"12","company":{"id":"100"}}}`))
	f.Add([]byte(`[{"event":{}}]`))
	f.Add([]byte("{\"a\":\"\xff\"}"))
	f.Add([]byte(`{"a":1,"a":2}`))
	f.Fuzz(func(t *testing.T, raw []byte) {
		p, err := ParseEnvelope(raw)
		if err != nil {
			// The API answers every *ParseError 400 (api.DomainStatus).
			var pe *ParseError
			if !errors.As(err, &pe) || pe.Msg == "" {
				t.Fatalf("refusal is not a ParseError (a 400) with a message: %#v", err)
			}
			return
		}
		if !utf8.Valid(raw) || !json.Valid(raw) {
			t.Fatalf("accepted a body that is not valid UTF-8 JSON: %q", raw)
		}
		if d := nestingDepth(raw); d > maxEventDepth {
			t.Fatalf("accepted a body nested %d deep", d)
		}
		if checkEventJSON(raw) != nil {
			t.Fatalf("accepted a body checkEventJSON refuses: %q", raw)
		}
		if !events.Valid(p.Name) {
			t.Fatalf("accepted unknown event %q", p.Name)
		}
	})
}
