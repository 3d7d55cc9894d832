package ingest

import "testing"

// BenchmarkParseEnvelope measures parsing the spec's example envelope:
// ParseEnvelope (the one-pass fast path) against parseEnvelopeSlow (strict
// checks plus encoding/json, the path every refusal takes).
func BenchmarkParseEnvelope(b *testing.B) {
	env := seed(b, "workorder.created")
	for _, c := range []struct {
		name  string
		parse func([]byte) (Parsed, error)
	}{{"fast", ParseEnvelope}, {"slow", parseEnvelopeSlow}} {
		b.Run(c.name, func(b *testing.B) {
			b.ReportAllocs()
			b.SetBytes(int64(len(env)))
			for b.Loop() {
				if _, err := c.parse(env); err != nil {
					b.Fatal(err)
				}
			}
		})
	}
}
