package storetest

import (
	"context"
	"fmt"
	"sync"
	"testing"
	"time"

	"github.com/google/uuid"
	"github.com/hookgate/hookgate/store"
)

// Opener opens the store under test. Called again with the same t (after the
// store it returned before was closed) it must open the same data: the suite
// reopens to check durability. It must pass ClockFor(t).Now as the store's
// clock and close the store when t ends (closing twice must be harmless).
type Opener func(t *testing.T) store.Store

type env struct {
	t     *testing.T
	ctx   context.Context
	open  Opener
	s     store.Store
	clock *Clock
}

func newEnv(t *testing.T, open Opener) *env {
	t.Helper()
	return &env{t: t, ctx: t.Context(), open: open, s: open(t), clock: ClockFor(t)}
}

// reopen closes the store and opens it again on the same data.
func (e *env) reopen() {
	e.t.Helper()
	if err := e.s.Close(); err != nil {
		e.t.Fatalf("close: %v", err)
	}
	e.s = e.open(e.t)
}

func (e *env) now() time.Time { return e.clock.Now() }

func newID() string { return uuid.NewString() }

func (e *env) webhook(company int64, events ...string) *store.Webhook {
	e.t.Helper()
	w := &store.Webhook{
		WebhookID: newID(), CompanyID: company, UserID: 7, URL: "https://example.test/hook",
		Method: "POST", Status: store.StatusActive, Events: events, Secret: "s3cret",
		Sink: "http", Source: store.SourceAPI, Version: 1, CreatedAt: e.now(), UpdatedAt: e.now(),
	}
	hist := &store.HistoryEntry{UserID: 7, Action: "webhook_created", Changes: map[string]any{"url": w.URL}, CreatedAt: e.now()}
	if err := e.s.PutWebhook(e.ctx, w, hist); err != nil {
		e.t.Fatalf("PutWebhook: %v", err)
	}
	return w
}

// item builds one event fanned out to the webhooks, due at due.
func (e *env) item(name string, workOrder int64, prio int, due time.Time, hooks ...*store.Webhook) store.IngestItem {
	ev := &store.Event{
		ID: newID(), TraceID: newID(), Name: name, CompanyID: 1, WorkOrderID: workOrder,
		Payload: fmt.Appendf(nil, `{"event":{"name":%q},"workorder":{"id":%d}}`, name, workOrder), ReceivedAt: e.now(),
	}
	it := store.IngestItem{Event: ev}
	for _, w := range hooks {
		ev.CompanyID = w.CompanyID
		it.Deliveries = append(it.Deliveries, &store.Delivery{
			ID: newID(), EventID: ev.ID, WebhookID: w.WebhookID, CompanyID: w.CompanyID, EventName: name,
			WorkOrderID: workOrder, Priority: prio, State: store.DeliveryPending, DueAt: due,
			CreatedAt: e.now(), UpdatedAt: e.now(),
		})
	}
	return it
}

func (e *env) ingest(items ...store.IngestItem) { e.t.Helper(); e.ingestIdem(nil, items...) }

// ingestIdem ingests items under idem, which must be new.
func (e *env) ingestIdem(idem *store.Idempotency, items ...store.IngestItem) {
	e.t.Helper()
	if prior, err := e.s.Ingest(e.ctx, idem, items); err != nil || prior != nil {
		e.t.Fatalf("Ingest: prior %q, err %v", prior, err)
	}
}

func (e *env) claim(prio int, at time.Time, limit int) []*store.Delivery {
	e.t.Helper()
	ds, err := e.s.ClaimDue(e.ctx, prio, at, limit)
	if err != nil {
		e.t.Fatalf("ClaimDue: %v", err)
	}
	return ds
}

func (e *env) depth() [3]int {
	e.t.Helper()
	d, err := e.s.QueueDepth(e.ctx)
	if err != nil {
		e.t.Fatalf("QueueDepth: %v", err)
	}
	return d
}

func (e *env) delivery(id string) *store.Delivery {
	e.t.Helper()
	d, err := e.s.GetDelivery(e.ctx, id)
	if err != nil {
		e.t.Fatalf("GetDelivery %s: %v", id, err)
	}
	return d
}

// attempt records one attempt of d with the outcome and moves d accordingly.
func (e *env) record(d *store.Delivery, status int, outcome store.Outcome, at time.Time) *store.Attempt {
	e.t.Helper()
	return e.recordWith(d, status, outcome, at, nil)
}

// recordWith is record with the attempt changed by edit before it is written.
func (e *env) recordWith(d *store.Delivery, status int, outcome store.Outcome, at time.Time, edit func(*store.Attempt)) *store.Attempt {
	e.t.Helper()
	n := d.Attempts + 1
	a := &store.Attempt{
		DeliveryID: d.ID, Attempt: n, WebhookID: d.WebhookID, CompanyID: d.CompanyID, EventID: d.EventID,
		EventName: d.EventName, WorkOrderID: d.WorkOrderID, RequestURL: "https://example.test/hook",
		RequestMethod: "POST", RequestHeaders: map[string]string{"X-FN-Delivery-Id": store.FormatLogID(d.ID, n)},
		RequestBody: []byte(`{"a":1}`), ResponseStatus: status, ResponseBody: []byte("ok"), Outcome: outcome,
		DurationMs: 12, CreatedAt: at,
	}
	if edit != nil {
		edit(a)
	}
	next := *d
	next.Attempts, next.LastStatus, next.UpdatedAt = n, status, at
	switch outcome {
	case store.OutcomeSuccess:
		next.State = store.DeliverySucceeded
	case store.OutcomeRetry:
		next.State, next.DueAt = store.DeliveryPending, at.Add(10*time.Second<<min(n-1, 6))
	default:
		next.State, next.DeadReason = store.DeliveryDead, "final failure"
	}
	if err := e.s.RecordAttempt(e.ctx, &next, a); err != nil {
		e.t.Fatalf("RecordAttempt: %v", err)
	}
	*d = next
	return a
}

func ids(ds []*store.Delivery) []string {
	out := make([]string, len(ds))
	for i, d := range ds {
		out[i] = d.ID
	}
	return out
}

// ClaimEachOnce claims priority-1 deliveries due by now from stores (one
// store, or several replicas of one database) with `claimers` goroutines,
// batch at a time, until none is left, and fails t unless exactly want
// distinct deliveries were claimed, each once.
func ClaimEachOnce(t *testing.T, stores []store.Store, claimers, batch int, now time.Time, want int) {
	t.Helper()
	var mu sync.Mutex
	seen := map[string]int{}
	var wg sync.WaitGroup
	for i := range claimers {
		s := stores[i%len(stores)]
		wg.Go(func() {
			for {
				ds, err := s.ClaimDue(t.Context(), 1, now, batch)
				if err != nil {
					t.Errorf("ClaimDue: %v", err)
					return
				}
				if len(ds) == 0 {
					return
				}
				mu.Lock()
				for _, d := range ds {
					seen[d.ID]++
				}
				mu.Unlock()
			}
		})
	}
	wg.Wait()
	if len(seen) != want {
		t.Fatalf("claimed %d distinct deliveries, want %d", len(seen), want)
	}
	for id, c := range seen {
		if c != 1 {
			t.Fatalf("delivery %s claimed %d times", id, c)
		}
	}
}
