package transforms

import (
	"context"
	"encoding/json"
	"os"
	"testing"
	"time"

	"github.com/hookgate/hookgate/internal/procstat"
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

// benchPayloadTemplate is internal/benchrun's PayloadTemplate, the template
// `hookgate bench` delivers with (a copy: benchrun imports this package).
const benchPayloadTemplate = `{"type": event.name, "at": timestamp, "work_order": {"id": workorder.id, "title": workorder.title,
 "status": workorder.status.name, "company": workorder.company.name, "description": workorder.description}}
`

// BenchmarkServiceNowTemplate measures one delivery: decoding the seed
// envelope, evaluating the ServiceNow template and encoding the body.
func BenchmarkServiceNowTemplate(b *testing.B) { benchmarkTemplate(b, serviceNowTemplate, bothEngines) }

// BenchmarkBenchTemplate measures one delivery of `hookgate bench`: its
// payload template on the seed envelope (the template reads six members, so
// the envelope's decode is projected).
func BenchmarkBenchTemplate(b *testing.B) { benchmarkTemplate(b, benchPayloadTemplate, bothEngines) }

// BenchmarkIncidentTemplate measures the ServiceNow example's template
// (a block binding $wo, with a comment) on the seed envelope. gnata only:
// jsonata-go has no comments.
func BenchmarkIncidentTemplate(b *testing.B) {
	tpl, err := os.ReadFile("../examples/servicenow/templates/incident.jsonata")
	if err != nil {
		b.Fatal(err)
	}
	benchmarkTemplate(b, string(tpl), []string{EngineGnata})
}

func benchmarkTemplate(b *testing.B, tpl string, engines []string) {
	seed := seedEnvelope(b)
	for _, eng := range engines {
		b.Run(eng, func(b *testing.B) {
			p, err := newTransformer(b, Options{Engine: eng, Timeout: 5 * time.Second}).Program("bench", 1, tpl, "")
			if err != nil {
				b.Fatal(err)
			}
			ctx := context.Background()
			b.ReportAllocs()
			cpu0 := procstat.CPU(os.Getpid())
			for b.Loop() {
				if _, _, err := p.Apply(ctx, seed); err != nil {
					b.Fatal(err)
				}
			}
			// CPU time, not wall time: it is what the gateway's CPU target
			// counts, and less at the mercy of other work on the machine.
			b.ReportMetric(float64((procstat.CPU(os.Getpid())-cpu0).Microseconds())/float64(b.N), "cpu-µs/op")
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
	b.Run("projected-bench-template", func(b *testing.B) {
		proj := projectionOf([]string{benchPayloadTemplate}, true)
		b.ReportAllocs()
		for b.Loop() {
			if _, err := decodeProjected(seed, gnataInput, proj); err != nil {
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
