package benchrun

import (
	"context"
	"os"
	"testing"
	"time"

	"github.com/hookgate/hookgate/internal/procstat"
	"github.com/hookgate/hookgate/transforms"
)

// BenchmarkTemplate measures the render of one delivery of `hookgate bench`:
// its webhooks' PayloadTemplate on its own envelope, at the default payload
// size, with the default engine. It reports CPU time per render, which
// moves less than wall time on a shared machine.
func BenchmarkTemplate(b *testing.B) {
	tr, err := transforms.New(transforms.Options{Timeout: 5 * time.Second})
	if err != nil {
		b.Fatal(err)
	}
	p, err := tr.Program("bench", 1, PayloadTemplate, "")
	if err != nil {
		b.Fatal(err)
	}
	env, ctx := Envelope(1, DefaultPayloadSize), context.Background()
	b.ReportAllocs()
	cpu0 := procstat.CPU(os.Getpid())
	for b.Loop() {
		if _, _, err := p.Apply(ctx, env); err != nil {
			b.Fatal(err)
		}
	}
	b.ReportMetric(float64((procstat.CPU(os.Getpid())-cpu0).Microseconds())/float64(b.N), "cpu-µs/op")
}
