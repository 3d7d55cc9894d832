package gateway

import (
	"io"
	"net/http"
	"os"
	"sync/atomic"
	"testing"
	"time"

	"github.com/hookgate/hookgate/gateway/gatewaytest"
	"github.com/hookgate/hookgate/internal/procstat"
	"github.com/hookgate/hookgate/store"
)

// BenchmarkPipelineTracing is BenchmarkPipeline with tracing off and on,
// as sub-benchmarks of one run so the two are measured side by side (run
// with -count for interleaved repeats). Besides deliveries/s it reports the
// CPU of the test process (gateway, receiver and collector) and of its
// sink processes per delivery. The collector only reads what it is sent,
// so its decoding is not counted against the gateway.
func BenchmarkPipelineTracing(b *testing.B) {
	for _, on := range []bool{false, true} {
		name := "off"
		if on {
			name = "on"
		}
		b.Run(name, func(b *testing.B) {
			var got atomic.Int64
			rc := gatewaytest.NewReceiverTB(b, func(w http.ResponseWriter, r *http.Request) {
				io.Copy(io.Discard, r.Body)
				got.Add(1)
			})
			cfg := gatewaytest.Config(b)
			cfg.Quotas.PublishRate = 0
			cfg.Delivery.Workers = 64
			if on {
				cfg.Telemetry.OTLPEndpoint = gatewaytest.NewReceiverTB(b, func(w http.ResponseWriter, r *http.Request) {
					io.Copy(io.Discard, r.Body)
				})
			}
			tg := startGatewayClock(b, cfg, true, SystemClock{})
			tg.AddWebhook(&store.Webhook{URL: rc + "/hook", Events: []string{"workorder.created"}})
			tok := tg.Token("acme", "acme-secret")
			env := gatewaytest.Seed(b, "workorder.created")
			cpu0 := treeCPU()
			b.ResetTimer()
			start := time.Now()
			publishN(tg, tok, env, b.N)
			for got.Load() < int64(b.N) {
				time.Sleep(time.Millisecond)
			}
			b.StopTimer()
			b.ReportMetric(float64(b.N)/time.Since(start).Seconds(), "deliveries/s")
			b.ReportMetric(float64((treeCPU()-cpu0).Microseconds())/float64(b.N), "cpu-µs/delivery")
		})
	}
}

// treeCPU is the CPU time of this process and its children (the sinks).
func treeCPU() time.Duration {
	self := os.Getpid()
	t := procstat.CPU(self)
	for _, c := range procstat.Children(self) {
		t += procstat.CPU(c)
	}
	return t
}
