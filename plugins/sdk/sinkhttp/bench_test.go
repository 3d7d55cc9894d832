package sinkhttp

import (
	"context"
	"net/http"
	"net/http/httptest"
	"syscall"
	"testing"
	"time"

	"github.com/hookgate/hookgate/plugins/sdk/netguard"
)

// BenchmarkDo sends small POSTs to a loopback receiver from 16 goroutines,
// as a sink does, and reports the CPU of the whole process (client and
// receiver) per request: compare runs, the receiver's share is the same.
func BenchmarkDo(b *testing.B) {
	srv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		w.Header().Set("X-Request-Id", "r-1")
		w.WriteHeader(http.StatusOK)
	}))
	defer srv.Close()
	c := New(Options{Policy: netguard.Policy{AllowHTTP: true, AllowPrivateNetworks: true}, MaxIdleConnsPerHost: 64})
	body := []byte(`{"event":"workorder.created","id":12345,"company":"acme"}`)
	b.SetParallelism(8)
	b.ReportAllocs()
	before := cpuTime()
	b.ResetTimer()
	b.RunParallel(func(pb *testing.PB) {
		for pb.Next() {
			h := http.Header{"Content-Type": {"application/json"}, "Webhook-Id": {"msg_1"}, "Webhook-Signature": {"v1,abc"}}
			ctx, cancel := context.WithTimeout(context.Background(), 10*time.Second)
			resp, res := c.Do(ctx, &Request{Method: "POST", URL: srv.URL + "/hook?token=t", Header: h, Body: body})
			cancel()
			if res != nil || resp.Status != 200 {
				b.Errorf("%+v %+v", resp, res)
				return
			}
		}
	})
	b.StopTimer()
	b.ReportMetric(float64((cpuTime()-before).Microseconds())/float64(b.N), "cpu-µs/op")
}

func cpuTime() time.Duration {
	var ru syscall.Rusage
	_ = syscall.Getrusage(syscall.RUSAGE_SELF, &ru)
	return time.Duration(ru.Utime.Nano() + ru.Stime.Nano())
}
