package gateway

import (
	"bytes"
	"encoding/json"
	"io"
	"net/http"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	"github.com/hookgate/hookgate/gateway/gatewaytest"
	"github.com/hookgate/hookgate/store"
)

// BenchmarkPipeline measures deliveries/s through the in-process gateway
// and the real http sink subprocess (profile it with -cpuprofile).
func BenchmarkPipeline(b *testing.B) {
	var got atomic.Int64
	rc := gatewaytest.NewReceiverTB(b, func(w http.ResponseWriter, r *http.Request) {
		io.Copy(io.Discard, r.Body)
		got.Add(1)
	})
	cfg := gatewaytest.Config(b)
	cfg.Quotas.PublishRate = 0 // the gateway's capacity, not one company's quota
	cfg.Storage.Path = b.TempDir()
	cfg.Delivery.Workers = 64
	tg := startGatewayClock(b, cfg, true, SystemClock{})
	tg.AddWebhook(&store.Webhook{URL: rc + "/hook", Events: []string{"workorder.created"}})
	tok := tg.Token("acme", "acme-secret")
	env := gatewaytest.Seed(b, "workorder.created")
	b.ResetTimer()
	start := time.Now()
	publishN(tg, tok, env, b.N)
	for got.Load() < int64(b.N) {
		time.Sleep(time.Millisecond)
	}
	b.ReportMetric(float64(b.N)/time.Since(start).Seconds(), "deliveries/s")
}

// BenchmarkIngestHTTP measures durable publishes/s over HTTP with 64
// concurrent producers and no subscriber (profile with -cpuprofile).
func BenchmarkIngestHTTP(b *testing.B) {
	cfg := gatewaytest.Config(b)
	cfg.Quotas.PublishRate = 0 // the gateway's capacity, not one company's quota
	cfg.Storage.Path = b.TempDir()
	tg := startGatewayClock(b, cfg, true, SystemClock{})
	tok := tg.Token("acme", "acme-secret")
	env := gatewaytest.Seed(b, "workorder.created")
	b.ResetTimer()
	start := time.Now()
	publishN(tg, tok, env, b.N)
	b.ReportMetric(float64(b.N)/time.Since(start).Seconds(), "events/s")
}

// publishN publishes env n times from 64 concurrent producers.
func publishN(tg *testGateway, tok string, env []byte, n int) {
	client := &http.Client{Transport: &http.Transport{MaxIdleConnsPerHost: 64}}
	defer client.CloseIdleConnections()
	var wg sync.WaitGroup
	var next atomic.Int64
	for range 64 {
		wg.Add(1)
		go func() {
			defer wg.Done()
			for next.Add(1) <= int64(n) {
				req, _ := http.NewRequest("POST", tg.Base+"/api/v1/events", bytes.NewReader(env))
				req.Header.Set("Authorization", "Bearer "+tok)
				resp, err := client.Do(req)
				if err == nil {
					io.Copy(io.Discard, resp.Body)
					resp.Body.Close()
				}
			}
		}()
	}
	wg.Wait()
}

// BenchmarkBulkIngestHTTP measures durable events/s through bulk publish
// (POST /api/v1/events/batch, api.max_batch_events envelopes a request,
// 8 concurrent producers), beside BenchmarkIngestHTTP's single publishes:
// b.N counts events. Each event fans out to one webhook, whose deliveries
// are written but not sent (the dispatcher is not started).
func BenchmarkBulkIngestHTTP(b *testing.B) {
	cfg := gatewaytest.Config(b)
	cfg.Quotas.PublishRate = 0
	cfg.Storage.Path = b.TempDir()
	tg := startGatewayClock(b, cfg, false, SystemClock{})
	tg.AddWebhook(&store.Webhook{URL: "http://127.0.0.1:1/hook", Events: []string{"workorder.created"}})
	tok := tg.Token("acme", "acme-secret")
	env := gatewaytest.Seed(b, "workorder.created")
	per := cfg.API.MaxBatchEvents
	var body bytes.Buffer
	body.WriteString(`{"events":[`)
	for i := range per {
		if i > 0 {
			body.WriteByte(',')
		}
		body.WriteString(`{"envelope":`)
		body.Write(env)
		body.WriteByte('}')
	}
	body.WriteString(`]}`)
	if body.Len() > int(cfg.Server.BodyLimit) {
		b.Fatalf("a batch of %d seed envelopes is %d bytes, over server.body_limit", per, body.Len())
	}
	batches := (b.N + per - 1) / per
	client := &http.Client{Transport: &http.Transport{MaxIdleConnsPerHost: 8}}
	defer client.CloseIdleConnections()
	var accepted atomic.Int64
	var next atomic.Int64
	var wg sync.WaitGroup
	b.ResetTimer()
	start := time.Now()
	for range 8 {
		wg.Go(func() {
			for next.Add(1) <= int64(batches) {
				req, _ := http.NewRequest("POST", tg.Base+"/api/v1/events/batch", bytes.NewReader(body.Bytes()))
				req.Header.Set("Authorization", "Bearer "+tok)
				resp, err := client.Do(req)
				if err != nil {
					continue
				}
				var out struct {
					Result struct{ Accepted int64 }
				}
				json.NewDecoder(resp.Body).Decode(&out)
				resp.Body.Close()
				accepted.Add(out.Result.Accepted)
			}
		})
	}
	wg.Wait()
	b.ReportMetric(float64(accepted.Load())/time.Since(start).Seconds(), "events/s")
	if accepted.Load() != int64(batches*per) {
		b.Fatalf("accepted %d of %d events", accepted.Load(), batches*per)
	}
}
