package gateway

import (
	"context"
	"errors"
	"net/http"
	"sync/atomic"
	"testing"
	"time"

	"github.com/hookgate/hookgate/gateway/delivery"
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
	rc := newReceiver(t, func(_ int, w http.ResponseWriter, _ *http.Request) { w.WriteHeader(200) })
	tg := startGateway(t, testConfig(t), false)
	flaky := &flakyStore{Store: tg.g.store}
	flaky.failures.Store(3)
	tg.g.store = flaky
	tg.g.dispatcher = delivery.New(tg.g.deliveryOptions(5 * time.Millisecond)) // it holds the store it was built with
	w := tg.addWebhook(&store.Webhook{URL: rc.srv.URL, Events: []string{"workorder.created"}})
	tg.g.Start()
	tg.publish(tg.token("acme", "acme-secret"), seed(t, "workorder.created"))
	rc.next(t)
	d := tg.waitDelivery(w.WebhookID, store.DeliverySucceeded)
	if d.Attempts != 1 || flaky.failures.Load() >= 0 {
		t.Errorf("attempts %d, failures left %d: want 1 attempt recorded after the 3 failures", d.Attempts, flaky.failures.Load())
	}
	rc.none(t, 100*time.Millisecond)
}
