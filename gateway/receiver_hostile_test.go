package gateway

import (
	"bufio"
	"context"
	"fmt"
	"io"
	"net"
	"net/http"
	"os"
	"path/filepath"
	"strconv"
	"strings"
	"testing"
	"time"

	"github.com/hookgate/hookgate/gateway/gatewaytest"
	"github.com/hookgate/hookgate/plugins/sdk"
	"github.com/hookgate/hookgate/store"
)

// hostileAttempt publishes one event to a webhook at url and returns its
// delivery once the first attempt is recorded, and that attempt.
func hostileAttempt(t *testing.T, tg *testGateway, url string) (*store.Delivery, *store.Attempt) {
	t.Helper()
	w := tg.AddWebhook(&store.Webhook{URL: url, Events: []string{"workorder.created"}})
	tg.Publish(tg.Token("acme", "acme-secret"), gatewaytest.Seed(t, "workorder.created"))
	deadline := time.Now().Add(15 * time.Second)
	for time.Now().Before(deadline) {
		ds, err := tg.G.store.ListDeliveries(context.Background(), w.WebhookID, "", time.Time{}, time.Time{})
		if err != nil {
			t.Fatal(err)
		}
		if len(ds) == 1 && ds[0].Attempts >= 1 {
			a, err := tg.G.store.GetAttempt(context.Background(), ds[0].ID, 1)
			if err != nil {
				t.Fatal(err)
			}
			return ds[0], a
		}
		time.Sleep(10 * time.Millisecond)
	}
	t.Fatal("no attempt recorded within 15 s")
	return nil, nil
}

// TestTenMegabyteResponse: 20 receivers each answer 200 with 10 MB at once.
// Each attempt succeeds, logs the first 64 KiB of the body, and the sink
// process's peak memory stays far below the 200 MB sent to it.
func TestTenMegabyteResponse(t *testing.T) {
	cfg := gatewaytest.Config(t)
	cfg.Delivery.Workers = 20
	tg := startGateway(t, cfg, true)
	chunk := []byte(strings.Repeat("x", 64<<10))
	url := gatewaytest.NewReceiverTB(t, func(w http.ResponseWriter, r *http.Request) {
		w.Header().Set("Content-Length", strconv.Itoa(10<<20))
		w.WriteHeader(200)
		for range (10 << 20) / len(chunk) {
			if _, err := w.Write(chunk); err != nil {
				return // the sink stopped reading, as it should
			}
		}
	})
	var hooks []*store.Webhook
	for i := range 20 {
		hooks = append(hooks, tg.AddWebhook(&store.Webhook{URL: fmt.Sprintf("%s/%d", url, i), Events: []string{"workorder.created"}}))
	}
	before := sinkPeakRSS(t)
	tg.Publish(tg.Token("acme", "acme-secret"), gatewaytest.Seed(t, "workorder.created"))
	for _, w := range hooks {
		d := tg.WaitDelivery(w.WebhookID, store.DeliverySucceeded)
		a, err := tg.G.store.GetAttempt(context.Background(), d.ID, 1)
		if err != nil {
			t.Fatal(err)
		}
		if len(a.ResponseBody) != sdk.MaxResponseBody {
			t.Fatalf("logged %d bytes of a 10 MB body, want %d", len(a.ResponseBody), sdk.MaxResponseBody)
		}
	}
	// Each attempt holds at most 64 KiB plus a 256 KiB drain buffer: a few
	// MB for 20, against the 200 MB the receivers sent.
	peak := sinkPeakRSS(t)
	t.Logf("sink peak RSS %d MB before, %d MB after 20 concurrent 10 MB responses", before>>20, peak>>20)
	if peak-before > 40<<20 {
		t.Errorf("sink peak RSS grew by %d MB: response bodies are not bounded", (peak-before)>>20)
	}
}

// sinkPeakRSS is the largest VmHWM of this process's children: the test
// binary runs the http sink as its child.
func sinkPeakRSS(t *testing.T) int64 {
	// A child is listed under the thread that forked it.
	tasks, _ := filepath.Glob(fmt.Sprintf("/proc/%d/task/*/children", os.Getpid()))
	var kids []string
	for _, task := range tasks {
		raw, _ := os.ReadFile(task)
		kids = append(kids, strings.Fields(string(raw))...)
	}
	var peak int64
	for _, f := range kids {
		status, err := os.ReadFile("/proc/" + f + "/status")
		if err != nil {
			continue
		}
		for _, line := range strings.Split(string(status), "\n") {
			if strings.HasPrefix(line, "VmHWM:") {
				kb, _ := strconv.ParseInt(strings.Fields(line)[1], 10, 64)
				peak = max(peak, kb<<10)
			}
		}
	}
	if peak == 0 {
		t.Skip("no sink child process found in /proc (not Linux?)")
	}
	return peak
}

// TestReceiverNeverAnswers: the attempt ends at delivery.timeout (2 s here)
// as a retryable failure, and the delivery is pending for its next retry.
func TestReceiverNeverAnswers(t *testing.T) {
	tg := startGateway(t, gatewaytest.Config(t), true)
	url := gatewaytest.NewReceiverTB(t, func(w http.ResponseWriter, r *http.Request) {
		// Read the body first: only then does net/http notice the client
		// hanging up and end r.Context().
		io.Copy(io.Discard, r.Body)
		select {
		case <-r.Context().Done():
		case <-time.After(20 * time.Second): // never, unless the timeout failed
		}
	})
	d, a := hostileAttempt(t, tg, url)
	if d.State != store.DeliveryPending || !strings.Contains(a.Error, "timed out") {
		t.Fatalf("delivery %s, attempt error %q: want pending after a timeout", d.State, a.Error)
	}
	if a.DurationMs < 1900 || a.DurationMs > 4000 {
		t.Errorf("attempt took %d ms, want about the 2 s delivery timeout", a.DurationMs)
	}
}

// trickler is a TCP server that answers with burst at once, then slow one
// byte every 300 ms, then dots the same way until the client goes away.
func trickler(t *testing.T, burst, slow string) string {
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { ln.Close() })
	go func() {
		for {
			c, err := ln.Accept()
			if err != nil {
				return
			}
			go func() {
				defer c.Close()
				bufio.NewReader(c).ReadString('\n') // the request line is enough
				if _, err := c.Write([]byte(burst)); err != nil {
					return
				}
				for i := 0; ; i++ {
					b := []byte{'.'}
					if i < len(slow) {
						b = []byte{slow[i]}
					}
					if _, err := c.Write(b); err != nil {
						return
					}
					time.Sleep(300 * time.Millisecond)
				}
			}()
		}
	}()
	return "http://" + ln.Addr().String()
}

// TestReceiverTricklesHeaders: a receiver that sends its status line one
// byte at a time never completes it within the timeout: every read makes
// progress, but the whole attempt is bounded, and it is retried.
func TestReceiverTricklesHeaders(t *testing.T) {
	tg := startGateway(t, gatewaytest.Config(t), true)
	d, a := hostileAttempt(t, tg, trickler(t, "", "HTTP/1.1 200 OK\r\nX-Slow: "+strings.Repeat("a", 100)))
	if d.State != store.DeliveryPending || !strings.Contains(a.Error, "timed out") {
		t.Fatalf("delivery %s, attempt error %q: want pending after a timeout", d.State, a.Error)
	}
	if a.DurationMs > 4000 {
		t.Errorf("attempt took %d ms; the delivery timeout is 2 s", a.DurationMs)
	}
}

// TestReceiverTricklesBody: a receiver that answers 200 at once and then
// trickles its body has answered: the attempt succeeds, the body read is
// cut off at the delivery timeout, and the attempt takes no longer.
func TestReceiverTricklesBody(t *testing.T) {
	tg := startGateway(t, gatewaytest.Config(t), true)
	d, a := hostileAttempt(t, tg, trickler(t, "HTTP/1.1 200 OK\r\nContent-Length: 1000000\r\n\r\n", ""))
	if d.State != store.DeliverySucceeded || a.ResponseStatus != 200 {
		t.Fatalf("delivery %s, status %d, error %q: want success", d.State, a.ResponseStatus, a.Error)
	}
	if a.DurationMs > 4000 {
		t.Errorf("attempt took %d ms; the delivery timeout is 2 s", a.DurationMs)
	}
}
