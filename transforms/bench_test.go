package transforms

import (
	"context"
	"encoding/json"
	"testing"
	"time"

	"github.com/recolabs/gnata"
)

const serviceNowTemplate = `{
  "u_external_ticket_id": $string($.workorder.id),
  "short_description": $.workorder.title,
  "state": $.workorder.status.name = "Work Done" ? "6" : "2",
  "assignment_group": "Field Services",
  "u_technician": $.workorder.assignee.first_name & " " & $.workorder.assignee.last_name,
  "u_client_company": $.workorder.company.name,
  "work_notes": "Status updated via Field Nation at " & $.timestamp
}`

// BenchmarkServiceNowTemplate measures one delivery: decoding the seed
// envelope, evaluating the ServiceNow template and encoding the body.
func BenchmarkServiceNowTemplate(b *testing.B) {
	seed := seedEnvelope(b)
	for _, eng := range bothEngines {
		b.Run(eng, func(b *testing.B) {
			p, err := newTransformer(b, Options{Engine: eng, Timeout: 5 * time.Second}).Program("sn", 1, serviceNowTemplate, "")
			if err != nil {
				b.Fatal(err)
			}
			ctx := context.Background()
			b.ReportAllocs()
			for b.Loop() {
				if _, _, err := p.Apply(ctx, seed); err != nil {
					b.Fatal(err)
				}
			}
		})
	}
}

// BenchmarkURLTemplate measures rendering a URL with one placeholder (and
// the no-placeholder fast path) without a payload template.
func BenchmarkURLTemplate(b *testing.B) {
	seed := seedEnvelope(b)
	for _, c := range []struct{ name, url string }{
		{"placeholder", "https://api.company.com/{{$.workorder.location.country}}/workorders/{{ workorder.id }}"},
		{"static", "https://api.company.com/workorders"},
	} {
		for _, eng := range bothEngines {
			b.Run(c.name+"/"+eng, func(b *testing.B) {
				p, err := newTransformer(b, Options{Engine: eng, Timeout: 5 * time.Second}).Program("u", 1, "", c.url)
				if err != nil {
					b.Fatal(err)
				}
				ctx := context.Background()
				b.ReportAllocs()
				for b.Loop() {
					if _, _, err := p.Apply(ctx, seed); err != nil {
						b.Fatal(err)
					}
				}
			})
		}
	}
}

// BenchmarkDecodeEnvelope compares the package's decoder with what it
// replaced, for the record in docs/transforms.md.
func BenchmarkDecodeEnvelope(b *testing.B) {
	seed := seedEnvelope(b)
	b.Run("decodeJSON", func(b *testing.B) {
		b.ReportAllocs()
		for b.Loop() {
			if _, err := decodeJSON(seed, gnataInput); err != nil {
				b.Fatal(err)
			}
		}
	})
	b.Run("encoding-json", func(b *testing.B) {
		b.ReportAllocs()
		for b.Loop() {
			var v any
			if err := json.Unmarshal(seed, &v); err != nil {
				b.Fatal(err)
			}
		}
	})
	b.Run("gnata-DecodeJSON", func(b *testing.B) {
		b.ReportAllocs()
		for b.Loop() {
			if _, err := gnata.DecodeJSON(seed); err != nil {
				b.Fatal(err)
			}
		}
	})
}
