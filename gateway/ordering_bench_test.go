package gateway

import (
	"bytes"
	"fmt"
	"io"
	"net/http"
	"slices"
	"strconv"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	"github.com/hookgate/hookgate/gateway/gatewaytest"
	"github.com/hookgate/hookgate/store"
)

// BenchmarkOrderedDrain: 1,000 work orders × 20 events wait for one
// webhook whose receiver answers at once; the gateway then starts
// delivering. Each iteration drains the backlog twice, once with
// ordering = "work_order" and once without, in alternating order, and the
// benchmark reports both rates, their ratio (ordered / unordered: the
// issue's target is at least 0.7), its spread over the iterations, and
// how many deliveries reached the receiver out of their work order's
// order (must be 0).
func BenchmarkOrderedDrain(b *testing.B) {
	const workOrders, perWO = 1000, 20
	batches := orderedBacklog(b, workOrders, perWO)
	var ordered, plain time.Duration
	var ratios []float64
	violations := 0
	for i := range b.N {
		modes := []bool{true, false}
		if i%2 == 1 {
			modes = []bool{false, true}
		}
		var took [2]time.Duration
		for _, ord := range modes {
			d, v := drainOnce(b, batches, workOrders*perWO, ord)
			if ord {
				took[0], violations = d, violations+v
			} else {
				took[1] = d
			}
		}
		ordered, plain = ordered+took[0], plain+took[1]
		ratios = append(ratios, took[1].Seconds()/took[0].Seconds())
	}
	n := float64(b.N * workOrders * perWO)
	b.ReportMetric(n/ordered.Seconds(), "ordered-deliveries/s")
	b.ReportMetric(n/plain.Seconds(), "unordered-deliveries/s")
	b.ReportMetric(plain.Seconds()/ordered.Seconds(), "ratio")
	b.ReportMetric(slices.Min(ratios), "ratio-min")
	b.ReportMetric(slices.Max(ratios), "ratio-max")
	b.ReportMetric(float64(violations), "out-of-order")
}

// orderedBacklog is the events as batch bodies of 500: event k of every
// work order before event k+1 of any, as a day's traffic interleaves them.
func orderedBacklog(b *testing.B, workOrders, perWO int) [][]byte {
	var out [][]byte
	var buf bytes.Buffer
	n := 0
	flush := func() {
		if n > 0 {
			buf.WriteString("]}")
			out = append(out, bytes.Clone(buf.Bytes()))
		}
		buf.Reset()
		n = 0
	}
	for k := range perWO {
		for wo := 1; wo <= workOrders; wo++ {
			if n == 0 {
				buf.WriteString(`{"events":[`)
			} else {
				buf.WriteByte(',')
			}
			fmt.Fprintf(&buf, `{"envelope":%s}`, seedWO(b, "workorder.created", wo))
			_ = k
			if n++; n == 500 {
				flush()
			}
		}
	}
	flush()
	return out
}

// drainOnce publishes the backlog to a stopped gateway, starts it and
// times the drain; for an ordered webhook it also counts deliveries whose
// X-FN-Sequence is not one more than the work order's last.
func drainOnce(b *testing.B, batches [][]byte, total int, ordered bool) (time.Duration, int) {
	b.Helper()
	var got atomic.Int64
	var mu sync.Mutex
	last := map[string]int{}
	bad := 0
	rc := gatewaytest.NewReceiverTB(b, func(w http.ResponseWriter, r *http.Request) {
		io.Copy(io.Discard, r.Body)
		if ordered {
			seq, _ := strconv.Atoi(r.Header.Get("X-FN-Sequence"))
			wo := r.URL.Query().Get("wo")
			mu.Lock()
			if seq != last[wo]+1 {
				bad++
			}
			last[wo] = max(last[wo], seq)
			mu.Unlock()
		}
		got.Add(1)
	})
	cfg := gatewaytest.Config(b)
	cfg.Quotas.PublishRate = 0
	cfg.Storage.Path = b.TempDir()
	cfg.Delivery.Workers = 64
	tg := startGatewayClock(b, cfg, false, SystemClock{})
	w := &store.Webhook{URL: rc + "/hook?wo={{ workorder.id }}", Events: []string{"workorder.created"}}
	if ordered {
		w.Ordering = store.OrderingWorkOrder
	}
	tg.AddWebhook(w)
	tok := tg.Token("acme", "acme-secret")
	for _, body := range batches {
		if r := tg.Do("POST", "/api/v1/events/batch", tok, body, nil); r.Status != 202 {
			b.Fatalf("batch publish: %d %s", r.Status, r.Raw)
		}
	}
	start := time.Now()
	tg.G.Start()
	deadline := time.Now().Add(5 * time.Minute)
	for got.Load() < int64(total) {
		if time.Now().After(deadline) {
			b.Fatalf("drained %d of %d in 5 min", got.Load(), total)
		}
		time.Sleep(time.Millisecond)
	}
	took := time.Since(start)
	mu.Lock()
	defer mu.Unlock()
	return took, bad
}
