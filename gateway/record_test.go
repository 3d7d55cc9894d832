package gateway

import (
	"context"
	"errors"
	"net/http"
	"sync/atomic"
	"testing"
	"time"

	"github.com/hookgate/hookgate/gateway/delivery"
	"github.com/hookgate/hookgate/gateway/gatewaytest"
	"github.com/hookgate/hookgate/store"
)

// flakyStore fails RecordAttempt a number of times, as a full disk would.
type flakyStore struct {
	store.Store
	failures atomic.Int32
}

func (f *flakyStore) RecordAttempt(ctx context.Context, d *store.Delivery, a *store.Attempt) error {
	if f.failures.Add(-1) >= 0 {
		return errors.New("no space left on device")
	}
	return f.Store.RecordAttempt(ctx, d, a)
}

// TestRecordingRetriesUntilDurable: when the attempt cannot be written, the
// worker keeps trying; the receiver's answer is recorded once the write
// works, and the delivery is not sent again meanwhile.
func TestRecordingRetriesUntilDurable(t *testing.T) {
	rc := gatewaytest.NewReceiver(t, func(_ int, w http.ResponseWriter, _ *http.Request) { w.WriteHeader(200) })
	tg := startGateway(t, gatewaytest.Config(t), false)
	flaky := &flakyStore{Store: tg.G.store}
	flaky.failures.Store(3)
	tg.G.store = flaky
	tg.G.dispatcher = delivery.New(tg.G.deliveryOptions(5 * time.Millisecond)) // it holds the store it was built with
	w := tg.AddWebhook(&store.Webhook{URL: rc.Srv.URL, Events: []string{"workorder.created"}})
	tg.G.Start()
	tg.Publish(tg.Token("acme", "acme-secret"), gatewaytest.Seed(t, "workorder.created"))
	rc.Next(t)
	d := tg.WaitDelivery(w.WebhookID, store.DeliverySucceeded)
	if d.Attempts != 1 || flaky.failures.Load() >= 0 {
		t.Errorf("attempts %d, failures left %d: want 1 attempt recorded after the 3 failures", d.Attempts, flaky.failures.Load())
	}
	rc.None(t, 100*time.Millisecond)
}
