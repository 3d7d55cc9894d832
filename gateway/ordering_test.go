package gateway

import (
	"context"
	"encoding/json"
	"net/http"
	"strconv"
	"strings"
	"testing"
	"time"

	"github.com/hookgate/hookgate/gateway/gatewaytest"
	"github.com/hookgate/hookgate/store"
)

// seedWO is the seed envelope of event for work order wo.
func seedWO(t testing.TB, event string, wo int) []byte {
	t.Helper()
	var m map[string]any
	if err := json.Unmarshal(gatewaytest.Seed(t, event), &m); err != nil {
		t.Fatal(err)
	}
	m["workorder"].(map[string]any)["id"] = wo
	m["workorder"].(map[string]any)["work_order_id"] = wo
	m["event"].(map[string]any)["params"].(map[string]any)["work_order_id"] = strconv.Itoa(wo)
	out, _ := json.Marshal(m)
	return out
}

// sent names a request by what an ordered receiver checks: work order,
// event, X-FN-Sequence and attempt.
func sent(t *testing.T, r gatewaytest.Received) string {
	t.Helper()
	var m struct {
		Workorder struct {
			ID int `json:"id"`
		} `json:"workorder"`
	}
	if err := json.Unmarshal(r.Body, &m); err != nil {
		t.Fatal(err)
	}
	id := r.Header.Get("X-FN-Delivery-Id")
	return strconv.Itoa(m.Workorder.ID) + " " + r.Header.Get("X-FN-Event-Name") + " seq " + r.Header.Get("X-FN-Sequence") +
		" attempt " + id[strings.LastIndexByte(id, ':')+1:]
}

func expectSent(t *testing.T, rc *gatewaytest.Receiver, want ...string) {
	t.Helper()
	got := map[string]bool{}
	for range want {
		got[sent(t, rc.Next(t))] = true
	}
	for _, w := range want {
		if !got[w] {
			t.Fatalf("sent %v, want %v", got, want)
		}
	}
}

// TestOrderedWebhookWaitsForTheHeadThroughItsRetry: a work order's later
// events (a high-priority one too) wait through the first one's retry
// backoff, then go in the order accepted, numbered by X-FN-Sequence;
// another work order is not held back.
func TestOrderedWebhookWaitsForTheHeadThroughItsRetry(t *testing.T) {
	rc := gatewaytest.NewReceiver(t, nil)
	rc.Answer = func(_ int, w http.ResponseWriter, r *http.Request) {
		if r.Header.Get("X-FN-Event-Name") == "workorder.created" && strings.HasSuffix(r.Header.Get("X-FN-Delivery-Id"), ":1") {
			w.WriteHeader(503)
		}
	}
	tg := startGateway(t, gatewaytest.Config(t), true)
	tg.AddWebhook(&store.Webhook{URL: rc.Srv.URL, Ordering: store.OrderingWorkOrder,
		Events: []string{"workorder.created", "workorder.status.assigned", "workorder.status.approved"}})
	tok := tg.Token("acme", "acme-secret")
	tg.Publish(tok, seedWO(t, "workorder.created", 1))
	tg.Publish(tok, seedWO(t, "workorder.status.assigned", 1))
	tg.Publish(tok, seedWO(t, "workorder.status.approved", 1)) // high priority: still third
	expectSent(t, rc, "1 workorder.created seq 1 attempt 1")
	rc.Answer = nil // work order 2 and every retry succeed
	tg.Publish(tok, seedWO(t, "workorder.created", 2))
	expectSent(t, rc, "2 workorder.created seq 1 attempt 1")
	rc.None(t, 50*time.Millisecond) // work order 1 waits for its head's backoff

	tg.Clock.Advance(tg.Cfg.Delivery.Backoff[0])
	tg.G.Kick()
	for _, want := range []string{"1 workorder.created seq 1 attempt 2", "1 workorder.status.assigned seq 2 attempt 1",
		"1 workorder.status.approved seq 3 attempt 1"} {
		if got := sent(t, rc.Next(t)); got != want {
			t.Fatalf("sent %q, want %q", got, want)
		}
	}
}

// TestOrderedDeadLetterContinuesOrHolds: a dead head lets its lane go on
// by default; with ordering_on_dead = "hold" the lane waits (a held lane
// with one waiting) until the dead delivery is retried, which goes first.
func TestOrderedDeadLetterContinuesOrHolds(t *testing.T) {
	gone := func(_ int, w http.ResponseWriter, r *http.Request) {
		if r.Header.Get("X-FN-Event-Name") == "workorder.created" && strings.HasSuffix(r.Header.Get("X-FN-Delivery-Id"), ":1") {
			w.WriteHeader(404) // final: dead at once
		}
	}
	goOn, hold := gatewaytest.NewReceiver(t, gone), gatewaytest.NewReceiver(t, gone)
	tg := startGateway(t, gatewaytest.Config(t), true)
	events := []string{"workorder.created", "workorder.status.assigned"}
	tg.AddWebhook(&store.Webhook{URL: goOn.Srv.URL, Ordering: store.OrderingWorkOrder, Events: events})
	held := tg.AddWebhook(&store.Webhook{URL: hold.Srv.URL, Ordering: store.OrderingWorkOrder, OrderingOnDead: store.OnDeadHold, Events: events})
	tok := tg.Token("acme", "acme-secret")
	tg.Publish(tok, seedWO(t, "workorder.created", 7))
	tg.Publish(tok, seedWO(t, "workorder.status.assigned", 7))

	expectSent(t, goOn, "7 workorder.created seq 1 attempt 1", "7 workorder.status.assigned seq 2 attempt 1")
	expectSent(t, hold, "7 workorder.created seq 1 attempt 1")
	dead := tg.WaitDelivery(held.WebhookID, store.DeliveryDead)
	hold.None(t, 50*time.Millisecond)
	lanes, err := tg.G.store.(store.Lanes).HeldLanes(context.Background(), held.WebhookID)
	if err != nil || len(lanes) != 1 || lanes[0].WorkOrderID != 7 || lanes[0].DeliveryID != dead.ID || lanes[0].Waiting != 1 {
		t.Fatalf("held lanes %+v (%v), want work order 7 held by %s with 1 waiting", lanes, err, dead.ID)
	}
	// A retry of the dead delivery goes first, then the lane goes on.
	if _, err := tg.G.Requeue(context.Background(), dead.ID); err != nil {
		t.Fatal(err)
	}
	for _, want := range []string{"7 workorder.created seq 1 attempt 2", "7 workorder.status.assigned seq 2 attempt 1"} {
		if got := sent(t, hold.Next(t)); got != want {
			t.Fatalf("sent %q, want %q", got, want)
		}
	}
}
