package httpsink_test

import (
	"bufio"
	"bytes"
	"context"
	"net"
	"runtime"
	"strconv"
	"syscall"
	"testing"
	"time"

	"google.golang.org/grpc"
	"google.golang.org/grpc/credentials/insecure"

	httpsink "github.com/hookgate/hookgate/plugins/http"
	sinkpb "github.com/hookgate/hookgate/plugins/proto"
	"github.com/hookgate/hookgate/plugins/sdk"
)

// BenchmarkStream measures what the sink process spends per delivery: the
// SDK's side of the delivery stream (a real gRPC stream on loopback)
// serving the http sink, which sends each request to a loopback receiver.
// The host end keeps 64 requests in flight, as the gateway's default
// workers do, and sends new requests as results come back (batched both
// ways, as the gateway does). Both ends are minimal (a raw gRPC client, a
// receiver that answers a canned response without net/http), so the
// figures (CPU µs and allocations per delivery of the whole process) are
// mostly the sink's; compare runs of two builds interleaved.
func BenchmarkStream(b *testing.B) {
	for _, proto := range []int{sdk.ProtocolV3, sdk.ProtocolV2} {
		b.Run("protocol-"+strconv.Itoa(proto), func(b *testing.B) { benchStream(b, proto) })
	}
}

func benchStream(b *testing.B, protocol int) {
	rcvURL := cannedReceiver(b)
	client := startSinkServer(b, protocol)
	ctx, cancel := context.WithCancel(context.Background())
	defer cancel()
	cres, err := client.Configure(ctx, &sinkpb.ConfigureRequest{Name: "web", AllowHttp: true, AllowPrivateNetworks: true, BatchMax: 64})
	if err != nil || cres.GetError() != "" {
		b.Fatal(err, cres.GetError())
	}
	stream, err := client.Deliveries(ctx)
	if err != nil {
		b.Fatal(err)
	}
	body := []byte(`{"event":{"name":"workorder.status.published","params":{}},"timestamp":1700000000000,"workorder":{"id":123,"title":"Replace router"}}`)
	next := uint64(0)
	request := func() *sinkpb.DeliverRequest {
		next++
		return &sinkpb.DeliverRequest{
			Id: next, DeliveryId: "6f1c7a2e-0000-4000-8000-000000000001:1", Method: "POST", Url: rcvURL,
			Headers: []string{"Content-Type", "application/json", "X-FN-Signature", "0123456789abcdef0123456789abcdef",
				"X-FN-Webhook-Id", "42", "X-FN-Delivery-Id", "6f1c7a2e-0000-4000-8000-000000000001:1"},
			Body: body, TimeoutNs: int64(10 * time.Second),
		}
	}
	send := func(n int) {
		hb := &sinkpb.HostBatch{Requests: make([]*sinkpb.DeliverRequest, 0, n)}
		for range n {
			hb.Requests = append(hb.Requests, request())
		}
		if err := stream.Send(hb); err != nil {
			b.Fatal(err)
		}
	}
	const inFlight = 64
	var ms0, ms1 runtime.MemStats
	runtime.ReadMemStats(&ms0)
	cpu0 := processCPU()
	b.ResetTimer()
	send(min(inFlight, b.N))
	for done := 0; done < b.N; {
		sb, err := stream.Recv()
		if err != nil {
			b.Fatal(err)
		}
		for _, r := range sb.GetResults() {
			if r.GetStatus() != 200 || r.GetError() != "" {
				b.Fatalf("delivery failed: %v", r)
			}
		}
		done += len(sb.GetResults())
		if more := min(len(sb.GetResults()), b.N-int(next)); more > 0 {
			send(more)
		}
	}
	b.StopTimer()
	runtime.ReadMemStats(&ms1)
	b.ReportMetric(float64((processCPU()-cpu0).Microseconds())/float64(b.N), "cpu-µs/delivery")
	b.ReportMetric(float64(ms1.Mallocs-ms0.Mallocs)/float64(b.N), "allocs/delivery")
	b.ReportMetric(float64(ms1.TotalAlloc-ms0.TotalAlloc)/float64(b.N), "B/delivery")
	_ = stream.CloseSend()
}

// startSinkServer serves the http sink's gRPC service on loopback, as Serve
// does in a sink process, and returns a client of it.
func startSinkServer(b *testing.B, protocol int) sinkpb.SinkClient {
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		b.Fatal(err)
	}
	srv := grpc.NewServer(sdk.GRPCServerOptions()...)
	if err := (&sdk.GRPCPlugin{Impl: httpsink.New(), Protocol: protocol}).GRPCServer(nil, srv); err != nil {
		b.Fatal(err)
	}
	go func() { _ = srv.Serve(ln) }()
	b.Cleanup(srv.Stop)
	cc, err := grpc.NewClient(ln.Addr().String(), append(sdk.GRPCDialOptions(),
		grpc.WithTransportCredentials(insecure.NewCredentials()))...)
	if err != nil {
		b.Fatal(err)
	}
	b.Cleanup(func() { _ = cc.Close() })
	return sinkpb.NewSinkClient(cc)
}

// cannedReceiver is a loopback HTTP/1.1 receiver that reads each request
// (header and Content-Length body) and answers a fixed 200, allocating
// next to nothing, so that the benchmark's figures are the sink's.
func cannedReceiver(b *testing.B) string {
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		b.Fatal(err)
	}
	b.Cleanup(func() { _ = ln.Close() })
	answer := []byte("HTTP/1.1 200 OK\r\nContent-Type: application/json\r\nDate: Sat, 05 Dec 2026 12:00:00 GMT\r\nContent-Length: 11\r\n\r\n{\"ok\":true}")
	go func() {
		for {
			nc, err := ln.Accept()
			if err != nil {
				return
			}
			b.Cleanup(func() { _ = nc.Close() })
			go serveCanned(nc, answer)
		}
	}()
	return "http://" + ln.Addr().String() + "/hook?token=t"
}

func serveCanned(nc net.Conn, answer []byte) {
	defer nc.Close()
	br := bufio.NewReaderSize(nc, 16<<10)
	for {
		length := 0
		for {
			line, err := br.ReadSlice('\n')
			if err != nil {
				return
			}
			line = bytes.TrimRight(line, "\r\n")
			if len(line) == 0 {
				break
			}
			if k, v, ok := bytes.Cut(line, []byte(":")); ok && bytes.EqualFold(k, []byte("Content-Length")) {
				length, _ = strconv.Atoi(string(bytes.TrimSpace(v)))
			}
		}
		if _, err := br.Discard(length); err != nil {
			return
		}
		if _, err := nc.Write(answer); err != nil {
			return
		}
	}
}

// processCPU is this process's user+system CPU time so far.
func processCPU() time.Duration {
	var ru syscall.Rusage
	_ = syscall.Getrusage(syscall.RUSAGE_SELF, &ru)
	return time.Duration(ru.Utime.Nano() + ru.Stime.Nano())
}
