package api_test

import (
	"bytes"
	"context"
	"fmt"
	"slices"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/google/uuid"

	"github.com/hookgate/hookgate/events"
	"github.com/hookgate/hookgate/gateway/api"
	"github.com/hookgate/hookgate/gateway/gatewaytest"
	"github.com/hookgate/hookgate/store"
)

// TestDeliveryLogQueriesBoundedMemory: a search, a sort other than
// createdAt and the stats walk a company's log of 2,000 attempts with
// 64 KiB bodies each (125 MiB) without holding it: the heap rises by a
// small part of that, and the answers count every attempt. Reading the
// whole log with bodies, as these queries once did, holds all of it.
func TestDeliveryLogQueriesBoundedMemory(t *testing.T) {
	const n, bodySize = 2000, 64 << 10
	tg := startGateway(t, gatewaytest.Config(t), false)
	w := tg.AddWebhook(&store.Webhook{URL: "http://127.0.0.1:9/hook", Events: []string{"workorder.created"}})
	recordAttempts(t, tg, w, n, bodySize)
	tok := tg.Token("acme", "acme-secret")

	for _, q := range []struct{ path, what string }{
		{"/api/v1/webhooks/delivery-logs?search=workorder.created&perPage=50", "search"},
		{"/api/v1/webhooks/delivery-logs?sortBy=deliveryStatus&sortDirection=ASC&page=3&perPage=100", "sort by status"},
		{"/api/v1/webhooks/delivery-logs?search=workorder&sortBy=workOrderId&perPage=500", "search and sort"},
		{"/api/v1/stats", "stats"},
	} {
		var r gatewaytest.Response
		grown := gatewaytest.HeapPeak(func() { r = tg.Do("GET", q.path, tok, nil, nil) })
		t.Logf("%s: heap rose %.1f MiB over %d attempts of %d KiB", q.what, float64(grown)/(1<<20), n, bodySize>>10)
		if r.Status != 200 {
			t.Fatalf("%s: %d %s", q.what, r.Status, r.Raw)
		}
		if q.what == "stats" {
			hooks := r.Body["result"].(map[string]any)["webhooks"].([]any)
			if got := hooks[0].(map[string]any)["attempts"]; got != float64(n) {
				t.Errorf("stats count %v attempts, want %d", got, n)
			}
		} else if total := r.Body["metadata"].(map[string]any)["total"]; total != float64(n) {
			t.Errorf("%s: total %v, want %d", q.what, total, n)
		}
		if grown > 40<<20 {
			t.Errorf("%s: the heap rose %d MiB, want under 40 MiB (the log holds %d MiB of bodies)", q.what, grown>>20, n*bodySize>>20)
		}
	}

	// The pages are those a stable sort of the whole log gives.
	all, _, err := tg.G.Store().ListAttempts(context.Background(), store.AttemptFilter{CompanyID: w.CompanyID, Summaries: true})
	if err != nil {
		t.Fatal(err)
	}
	for _, c := range []struct {
		sortBy    string
		desc      bool
		page, per int
	}{{"deliveryStatus", false, 3, 100}, {"deliveryStatus", true, 1, 7}, {"workOrderId", true, 12, 50}, {"deliveryId", false, 2, 30}} {
		want := slices.Clone(all)
		slices.SortStableFunc(want, func(a, b *store.Attempt) int { return api.CompareAttempts(a, b, c.sortBy, c.desc) })
		want = want[(c.page-1)*c.per : c.page*c.per]
		dir := map[bool]string{true: "DESC", false: "ASC"}[c.desc]
		r := tg.Do("GET", fmt.Sprintf("/api/v1/webhooks/delivery-logs?sortBy=%s&sortDirection=%s&page=%d&perPage=%d", c.sortBy, dir, c.page, c.per), tok, nil, nil)
		var got []string
		for _, it := range r.Body["result"].([]any) {
			got = append(got, it.(map[string]any)["deliveryId"].(string))
		}
		var wantIDs []string
		for _, a := range want {
			wantIDs = append(wantIDs, a.LogID())
		}
		if !slices.Equal(got, wantIDs) {
			t.Errorf("sorted by %s %s, page %d of %d: got %v, want %v", c.sortBy, dir, c.page, c.per, got, wantIDs)
		}
	}
	// Deeper than api.max_sort_depth: 400 naming it, not a walk that holds more.
	r := tg.Do("GET", "/api/v1/webhooks/delivery-logs?sortBy=eventName&page=11&perPage=500", tok, nil, nil)
	if r.Status != 400 || !strings.Contains(r.ErrMessage(), "api.max_sort_depth") || !strings.Contains(r.ErrMessage(), "sort by createdAt") {
		t.Errorf("page 11 of 500 sorted by eventName: %d %s, want 400 naming api.max_sort_depth", r.Status, r.Raw)
	}
	if r := tg.Do("GET", "/api/v1/webhooks/delivery-logs?page=11&perPage=500", tok, nil, nil); r.Status != 200 {
		t.Errorf("page 11 of 500 by createdAt: %d, want 200 (any depth)", r.Status)
	}
}

// recordAttempts writes n delivered attempts of w, one per event, each with
// a request body of size bytes, all within the last hour.
func recordAttempts(t *testing.T, tg *testGateway, w *store.Webhook, n, size int) {
	t.Helper()
	ctx, st, now := context.Background(), tg.G.Store(), tg.Clock.Now()
	env := gatewaytest.Seed(t, "workorder.created")
	prio := int(events.PriorityOf("workorder.created"))
	var items []store.IngestItem
	for i := range n {
		at := now.Add(-time.Duration(n-i) * time.Millisecond)
		ev := &store.Event{ID: uuid.NewString(), TraceID: uuid.NewString(), Name: "workorder.created",
			CompanyID: w.CompanyID, WorkOrderID: int64(1 + i%7), Payload: env, ReceivedAt: at}
		items = append(items, store.IngestItem{Event: ev, Deliveries: []*store.Delivery{{
			ID: uuid.NewString(), EventID: ev.ID, WebhookID: w.WebhookID, CompanyID: w.CompanyID, EventName: ev.Name,
			WorkOrderID: ev.WorkOrderID, Priority: prio, State: store.DeliveryPending, DueAt: at, CreatedAt: at, UpdatedAt: at,
		}}})
	}
	for i := 0; i < n; i += 200 {
		if _, err := st.Ingest(ctx, nil, items[i:min(i+200, n)]); err != nil {
			t.Fatal(err)
		}
	}
	ds, err := st.ClaimDue(ctx, prio, now, n)
	if err != nil || len(ds) != n {
		t.Fatalf("claimed %d of %d: %v", len(ds), n, err)
	}
	body := bytes.Repeat([]byte("b"), size)
	var wg sync.WaitGroup
	errs := make(chan error, n)
	for g := range 16 { // concurrent, so the store commits them in groups
		wg.Go(func() {
			for i := g; i < n; i += 16 {
				d := *ds[i]
				d.Attempts, d.State, d.LastStatus, d.UpdatedAt = 1, store.DeliverySucceeded, 200+i%3, d.DueAt
				a := &store.Attempt{DeliveryID: d.ID, Attempt: 1, WebhookID: d.WebhookID, CompanyID: d.CompanyID, EventID: d.EventID,
					EventName: d.EventName, WorkOrderID: d.WorkOrderID, RequestURL: w.URL, RequestMethod: "POST",
					RequestBody: body, ResponseStatus: d.LastStatus, ResponseBody: []byte("ok"), Outcome: store.OutcomeSuccess,
					DurationMs: int64(i % 300), CreatedAt: d.DueAt}
				if err := st.RecordAttempt(ctx, &d, a); err != nil {
					errs <- fmt.Errorf("attempt %d: %w", i, err)
					return
				}
			}
		})
	}
	wg.Wait()
	close(errs)
	for err := range errs {
		t.Fatal(err)
	}
}
