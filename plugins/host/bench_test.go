package host_test

import (
	"context"
	"io"
	"net/http"
	"net/http/httptest"
	"runtime"
	"syscall"
	"testing"
	"time"

	"github.com/hookgate/hookgate/internal/procstat"
	"github.com/hookgate/hookgate/plugins/host"
	httpsink "github.com/hookgate/hookgate/plugins/http"
	"github.com/hookgate/hookgate/plugins/sdk"
	"github.com/hookgate/hookgate/plugins/sdk/sdktest"
)

// benchWorkers matches the gateway's default worker count.
const benchWorkers = 64

func benchReceiver(b *testing.B) *httptest.Server {
	rcv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		_, _ = io.Copy(io.Discard, r.Body)
		_, _ = w.Write([]byte(`{"ok":true}`))
	}))
	b.Cleanup(rcv.Close)
	return rcv
}

func benchRequest(url string) *sdk.Request {
	return &sdk.Request{
		ID: "6f1c7a2e-0000-4000-8000-000000000001:1", Method: "POST", URL: url,
		Headers: map[string]string{
			"Content-Type": "application/json", "X-FN-Signature": "0123456789abcdef0123456789abcdef",
			"X-FN-Webhook-Id": "42", "X-FN-Delivery-Id": "6f1c7a2e-0000-4000-8000-000000000001:1",
		},
		Body:    []byte(`{"event":{"name":"workorder.status.published","params":{}},"timestamp":1700000000000,"workorder":{"id":123,"title":"Replace router"}}`),
		Timeout: 10 * time.Second,
	}
}

// runDeliveries runs deliver from benchWorkers goroutines and reports
// deliveries/s, the figure to compare between the two benchmarks.
// It also reports the CPU time spent per delivery by this process (the
// caller, the host and the receiver) and, when sinkPID is not 0, by the
// sink process: on a shared machine these move much less than the rate.
func runDeliveries(b *testing.B, deliver func(*sdk.Request) (*sdk.Result, error), url string, sinkPID int) {
	b.SetParallelism((benchWorkers + runtime.GOMAXPROCS(0) - 1) / runtime.GOMAXPROCS(0))
	b.ReportAllocs()
	self0, sink0 := selfCPU(), procstat.CPU(sinkPID)
	b.ResetTimer()
	b.RunParallel(func(pb *testing.PB) {
		req := benchRequest(url)
		for pb.Next() {
			res, err := deliver(req)
			if err != nil || !res.OK() {
				b.Errorf("delivery failed: %v %+v", err, res)
				return
			}
		}
	})
	b.StopTimer()
	b.ReportMetric(float64(b.N)/b.Elapsed().Seconds(), "deliveries/s")
	b.ReportMetric(float64((selfCPU()-self0).Microseconds())/float64(b.N), "self-cpu-µs/op")
	if sinkPID != 0 {
		b.ReportMetric(float64((procstat.CPU(sinkPID)-sink0).Microseconds())/float64(b.N), "sink-cpu-µs/op")
	}
}

// selfCPU is this process's user+system CPU time so far.
func selfCPU() time.Duration {
	var ru syscall.Rusage
	if err := syscall.Getrusage(syscall.RUSAGE_SELF, &ru); err != nil {
		return 0
	}
	return time.Duration(ru.Utime.Nano() + ru.Stime.Nano())
}

// BenchmarkDeliverViaPlugin: gateway → host → gRPC stream → http sink
// subprocess → loopback receiver; the stream with a 200 µs linger
// (batched), with whatever is queued per message (unbatched: the default),
// and with a sink that speaks only protocol 2.
func BenchmarkDeliverViaPlugin(b *testing.B) {
	batched := openPolicy
	batched.BatchMax, batched.BatchLinger = 64, 200*time.Microsecond
	old := batched
	old.BuiltinCommand = sdktest.CommandProtocol(sdk.ProtocolV2)
	for _, c := range []struct {
		name string
		opts host.Options
	}{{"batched", batched}, {"unbatched", openPolicy}, {"protocol-2", old}} {
		b.Run(c.name, func(b *testing.B) {
			rcv := benchReceiver(b)
			h := startHost(b, c.opts, httpSpec("web"))
			ctx := context.Background()
			runDeliveries(b, func(r *sdk.Request) (*sdk.Result, error) { return h.Deliver(ctx, "web", r) }, rcv.URL, pidOf(b, h, "web"))
		})
	}
}

// BenchmarkStream: gateway → host → gRPC stream → a sink that answers at
// once, from 64 callers: the stream's own cost per delivery on both sides,
// with no receiver in this process (self-cpu-µs/op is the host's alone).
func BenchmarkStream(b *testing.B) {
	h := startHost(b, openPolicy, host.Spec{Name: "i", Type: "instant"})
	ctx := context.Background()
	runDeliveries(b, func(r *sdk.Request) (*sdk.Result, error) { return h.Deliver(ctx, "i", r) }, "http://127.0.0.1:1/", pidOf(b, h, "i"))
}

// BenchmarkDeliverPlainClient: the same http sink called in-process, i.e.
// a plain net/http client with the same transport and classification.
func BenchmarkDeliverPlainClient(b *testing.B) {
	rcv := benchReceiver(b)
	s := httpsink.New()
	if err := s.Configure(context.Background(), sdk.Config{Name: "web", AllowHTTP: true, AllowPrivateNetworks: true}); err != nil {
		b.Fatal(err)
	}
	ctx := context.Background()
	runDeliveries(b, func(r *sdk.Request) (*sdk.Result, error) { return s.Deliver(ctx, r) }, rcv.URL, 0)
}
