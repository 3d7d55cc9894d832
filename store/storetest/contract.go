package storetest

import (
	"bytes"
	"errors"
	"slices"
	"sync"
	"testing"
	"time"

	"github.com/hookgate/hookgate/store"
)

// RunContract runs the conformance suite against the stores open returns
// (see Opener for what open must do).
func RunContract(t *testing.T, open Opener) {
	tests := []struct {
		name string
		fn   func(*env)
	}{
		{"IngestClaimRecordCycle", testCycle},
		{"PriorityAndDueOrder", testOrder},
		{"ClaimNeverTwice", testClaimNeverTwice},
		{"ConcurrentIngestDurable", testConcurrentIngestDurable},
		{"Idempotency", testIdempotency},
		{"IdempotencyConcurrentSameKey", testIdempotencyConcurrent},
		{"IngestEach", testIngestEach},
		{"ReleaseInFlightAfterCrash", testReleaseInFlight},
		{"StatsWindow", testStatsWindow},
		{"RecordAttemptsBatch", testRecordAttempts},
		{"ListAttempts", testListAttempts},
		{"AttemptBodySizes", testAttemptBodySizes},
		{"DeleteWebhookKeepsLogsAndHistory", testDeleteWebhook},
		{"Webhooks", testWebhooks},
		{"WebhookSigningFields", testWebhookSigningFields},
		{"RequeueKeepsAttempts", testRequeue},
		{"DeadLetterPending", testDeadLetterPending},
		{"ListDeliveries", testListDeliveries},
		{"MetaStableAcrossReopen", testMeta},
		{"InFlightVisible", testInFlightVisible},
		{"EventWithoutDeliveries", testEventWithoutDeliveries},
		{"GetEvents", testGetEvents},
		{"StoredBytesPerCompany", testStoredBytes},
		{"ClaimDueFunc", testClaimDueFunc},
		{"OrderedLanes", testOrderedLanes},
		{"Locker", testLocker},
		{"RateBuckets", testRateBuckets},
		{"Rollups", testRollups},
		{"Closed", testClosed},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) { tc.fn(newEnv(t, open)) })
	}
}

func testCycle(e *env) {
	t, now := e.t, e.now()
	w1, w2 := e.webhook(1, "workorder.created"), e.webhook(1, "workorder.created")
	it := e.item("workorder.created", 42, 1, now, w1, w2)
	it.Event.TraceParent = "00-4bf92f3577b34da6a3ce929d0e0e4736-00f067aa0ba902b7-01"
	e.ingest(it)
	if got := e.depth(); got != [3]int{0, 2, 0} {
		t.Fatalf("QueueDepth after ingest = %v, want [0 2 0]", got)
	}
	ev, err := e.s.GetEvent(e.ctx, it.Event.ID)
	if err != nil || !bytes.Equal(ev.Payload, it.Event.Payload) || ev.Name != it.Event.Name || ev.WorkOrderID != 42 ||
		ev.TraceParent != it.Event.TraceParent {
		t.Fatalf("GetEvent = %+v, %v; want the ingested event", ev, err)
	}
	ds := e.claim(1, now, 10)
	if len(ds) != 2 || ds[0].State != store.DeliveryInFlight {
		t.Fatalf("ClaimDue = %d deliveries (%v), want 2 in flight", len(ds), ds)
	}
	if got := e.depth(); got != [3]int{} {
		t.Fatalf("QueueDepth after claim = %v, want zeros", got)
	}
	if again := e.claim(1, now.Add(time.Hour), 10); len(again) != 0 {
		t.Fatalf("second ClaimDue returned %v, want nothing (all in flight)", ids(again))
	}
	ok, retry := ds[0], ds[1]
	a := e.record(ok, 200, store.OutcomeSuccess, now.Add(time.Second))
	e.record(retry, 503, store.OutcomeRetry, now.Add(time.Second))
	if d := e.delivery(ok.ID); d.State != store.DeliverySucceeded || d.Attempts != 1 || d.LastStatus != 200 {
		t.Fatalf("succeeded delivery = %+v", d)
	}
	got, err := e.s.GetAttempt(e.ctx, ok.ID, 1)
	if err != nil || got.Outcome != store.OutcomeSuccess || !bytes.Equal(got.RequestBody, a.RequestBody) ||
		!bytes.Equal(got.ResponseBody, a.ResponseBody) || got.RequestHeaders["X-FN-Delivery-Id"] != a.LogID() {
		t.Fatalf("GetAttempt = %+v, %v", got, err)
	}
	if _, err := e.s.GetAttempt(e.ctx, ok.ID, 2); !errors.Is(err, store.ErrNotFound) {
		t.Fatalf("GetAttempt of a missing attempt: err %v, want ErrNotFound", err)
	}
	if got := e.depth(); got != [3]int{0, 1, 0} {
		t.Fatalf("QueueDepth after retry = %v, want [0 1 0]", got)
	}
	if early := e.claim(1, now.Add(5*time.Second), 10); len(early) != 0 {
		t.Fatalf("retry claimed before its due time: %v", ids(early))
	}
	late := e.claim(1, retry.DueAt, 10)
	if len(late) != 1 || late[0].ID != retry.ID || late[0].Attempts != 1 {
		t.Fatalf("ClaimDue at retry due = %+v, want the retried delivery with 1 attempt", late)
	}
	st, err := e.s.GetWebhookStats(e.ctx, ok.WebhookID)
	if err != nil || len(st.Recent) != 1 || !st.Recent[0] || st.LastSuccessAt.IsZero() {
		t.Fatalf("stats of the succeeded webhook = %+v, %v", st, err)
	}
	if err := e.s.RecordAttempt(e.ctx, &store.Delivery{ID: newID(), State: store.DeliveryDead},
		&store.Attempt{Attempt: 1}); !errors.Is(err, store.ErrNotFound) {
		t.Fatalf("RecordAttempt of an unknown delivery: err %v, want ErrNotFound", err)
	}
}

func testOrder(e *env) {
	t, now := e.t, e.now()
	w := e.webhook(1, "x")
	var want []string
	// Ingest out of due order into priority 1, plus noise in 0 and 2.
	for _, off := range []int{30, 10, 50, 20, 40} {
		it := e.item("x", 1, 1, now.Add(time.Duration(off)*time.Second), w)
		e.ingest(it, e.item("x", 1, 0, now, w), e.item("x", 1, 2, now, w))
		_ = off
		want = append(want, it.Deliveries[0].ID)
	}
	byDue := []int{1, 3, 0, 4, 2} // indexes of want by due time 10,20,30,40,50
	got := ids(e.claim(1, now.Add(35*time.Second), 10))
	if exp := []string{want[byDue[0]], want[byDue[1]], want[byDue[2]]}; !slices.Equal(got, exp) {
		t.Fatalf("ClaimDue(p1, +35s) = %v, want %v (due order, only the due ones)", got, exp)
	}
	if got := e.depth(); got != [3]int{5, 2, 5} {
		t.Fatalf("QueueDepth = %v, want [5 2 5]", got)
	}
	if got := e.claim(0, now, 3); len(got) != 3 || got[0].Priority != 0 {
		t.Fatalf("ClaimDue(p0, limit 3) = %d, want 3 of priority 0", len(got))
	}
	got = ids(e.claim(1, now.Add(time.Hour), 1))
	if !slices.Equal(got, []string{want[byDue[3]]}) {
		t.Fatalf("ClaimDue(p1, limit 1) = %v, want %v", got, want[byDue[3]])
	}
	// Enqueuing something due earlier than what was claimed is still found.
	early := e.item("x", 1, 1, now.Add(-time.Minute), w)
	e.ingest(early)
	got = ids(e.claim(1, now.Add(time.Hour), 10))
	if !slices.Equal(got, []string{early.Deliveries[0].ID, want[byDue[4]]}) {
		t.Fatalf("ClaimDue after an earlier enqueue = %v", got)
	}
	if _, err := e.s.ClaimDue(e.ctx, 3, now, 1); err == nil {
		t.Fatal("ClaimDue(priority 3) succeeded, want an error")
	}
}

func testClaimNeverTwice(e *env) {
	t, now := e.t, e.now()
	w := e.webhook(1, "x")
	const n = 300
	var items []store.IngestItem
	for i := range n {
		items = append(items, e.item("x", int64(i), 1, now.Add(-time.Duration(i)*time.Millisecond), w))
	}
	e.ingest(items...)
	ClaimEachOnce(t, []store.Store{e.s}, 8, 7, now, n)
}

func testConcurrentIngestDurable(e *env) {
	t, now := e.t, e.now()
	w1, w2 := e.webhook(1, "x"), e.webhook(2, "x")
	const workers, each = 32, 15
	items := make([][]store.IngestItem, workers)
	for g := range items {
		for i := range each {
			items[g] = append(items[g], e.item("x", int64(i), g%3, now, w1, w2))
		}
	}
	var wg sync.WaitGroup
	for g := range workers {
		wg.Go(func() {
			for _, it := range items[g] {
				if _, err := e.s.Ingest(e.ctx, nil, []store.IngestItem{it}); err != nil {
					t.Errorf("Ingest: %v", err)
				}
			}
		})
	}
	wg.Wait()
	e.reopen()
	var want [3]int
	for g := range items {
		for _, it := range items[g] {
			if _, err := e.s.GetEvent(e.ctx, it.Event.ID); err != nil {
				t.Fatalf("event %s after reopen: %v", it.Event.ID, err)
			}
			for _, d := range it.Deliveries {
				if got := e.delivery(d.ID); got.State != store.DeliveryPending {
					t.Fatalf("delivery after reopen in state %q", got.State)
				}
				want[d.Priority]++
			}
		}
	}
	if got := e.depth(); got != want {
		t.Fatalf("QueueDepth after reopen = %v, want %v", got, want)
	}
	total := 0
	for p := range 3 {
		total += len(e.claim(p, now, 10000))
	}
	if total != workers*each*2 {
		t.Fatalf("claimed %d after reopen, want %d", total, workers*each*2)
	}
}

func testIdempotency(e *env) {
	t, now := e.t, e.now()
	w := e.webhook(1, "x")
	idem := &store.Idempotency{Key: "client\x00k1", Response: []byte(`{"id":"first"}`), TTL: time.Hour}
	first := e.item("x", 1, 1, now, w)
	if prior, err := e.s.Ingest(e.ctx, idem, []store.IngestItem{first}); err != nil || prior != nil {
		t.Fatalf("first Ingest: prior %q, err %v", prior, err)
	}
	again := e.item("x", 1, 1, now, w)
	repeat := &store.Idempotency{Key: idem.Key, Response: []byte(`{"id":"second"}`), TTL: time.Hour}
	prior, err := e.s.Ingest(e.ctx, repeat, []store.IngestItem{again})
	if err != nil || string(prior) != `{"id":"first"}` {
		t.Fatalf("repeat Ingest: prior %q, err %v; want the first response", prior, err)
	}
	if _, err := e.s.GetEvent(e.ctx, again.Event.ID); !errors.Is(err, store.ErrNotFound) {
		t.Fatalf("repeat wrote its event (err %v)", err)
	}
	if got := e.depth(); got != [3]int{0, 1, 0} {
		t.Fatalf("QueueDepth = %v, want only the first delivery", got)
	}
	e.reopen()
	if prior, _ := e.s.Ingest(e.ctx, repeat, []store.IngestItem{again}); string(prior) != `{"id":"first"}` {
		t.Fatalf("repeat after reopen: prior %q", prior)
	}
	e.clock.Advance(time.Hour + time.Second)
	if prior, err := e.s.Ingest(e.ctx, repeat, []store.IngestItem{again}); err != nil || prior != nil {
		t.Fatalf("Ingest after the key expired: prior %q, err %v; want a fresh write", prior, err)
	}
	if _, err := e.s.GetEvent(e.ctx, again.Event.ID); err != nil {
		t.Fatalf("event after the key expired: %v", err)
	}
	third := e.item("x", 1, 1, now, w)
	if prior, _ := e.s.Ingest(e.ctx, idem, []store.IngestItem{third}); string(prior) != `{"id":"second"}` {
		t.Fatalf("the renewed key answers %q, want the second response", prior)
	}
}

// testIngestEach: the groups of one bulk publish are each written or
// replayed as one Ingest would be; a group that does not validate fails
// alone; a key repeated inside the batch replays the first of it.
func testIngestEach(e *env) {
	t, now := e.t, e.now()
	w := e.webhook(1, "x")
	known := &store.Idempotency{Key: "c\x00known", Response: []byte(`{"id":"before"}`), TTL: time.Hour}
	e.ingestIdem(known, e.item("x", 1, 1, now, w))
	plain, keyed, sameKey, bad, replay := e.item("x", 1, 1, now, w), e.item("x", 2, 1, now, w),
		e.item("x", 3, 1, now, w), e.item("x", 4, 1, now, w), e.item("x", 5, 1, now, w)
	bad.Event.ID = "" // refused by the store's own check
	k1 := &store.Idempotency{Key: "c\x00k1", Response: []byte(`{"id":"keyed"}`), TTL: time.Hour}
	k1again := &store.Idempotency{Key: k1.Key, Response: []byte(`{"id":"again"}`), TTL: time.Hour}
	res := e.s.IngestEach(e.ctx, []store.IngestGroup{
		{Items: []store.IngestItem{plain}},
		{Idem: k1, Items: []store.IngestItem{keyed}},
		{Idem: k1again, Items: []store.IngestItem{sameKey}},
		{Items: []store.IngestItem{bad}},
		{Idem: &store.Idempotency{Key: known.Key, Response: []byte("x"), TTL: time.Hour}, Items: []store.IngestItem{replay}},
	})
	if len(res) != 5 {
		t.Fatalf("IngestEach answered %d results for 5 groups", len(res))
	}
	for i, want := range []string{"", "", `{"id":"keyed"}`, "", `{"id":"before"}`} {
		if string(res[i].Prior) != want {
			t.Errorf("group %d: prior %q, want %q", i, res[i].Prior, want)
		}
		if (res[i].Err != nil) != (i == 3) {
			t.Errorf("group %d: err %v", i, res[i].Err)
		}
	}
	for _, it := range []store.IngestItem{plain, keyed} {
		if _, err := e.s.GetEvent(e.ctx, it.Event.ID); err != nil {
			t.Errorf("written group's event %d: %v", it.Event.WorkOrderID, err)
		}
	}
	for _, it := range []store.IngestItem{sameKey, replay} {
		if _, err := e.s.GetEvent(e.ctx, it.Event.ID); !errors.Is(err, store.ErrNotFound) {
			t.Errorf("replayed group's event %d was written (err %v)", it.Event.WorkOrderID, err)
		}
	}
	e.reopen() // durable when IngestEach returned
	if got := len(e.claim(1, now, 100)); got != 3 {
		t.Fatalf("claimed %d deliveries after reopen, want 3 (the earlier one, plain, keyed)", got)
	}
}

func testIdempotencyConcurrent(e *env) {
	t, now := e.t, e.now()
	w := e.webhook(1, "x")
	const n = 24
	items := make([]store.IngestItem, n)
	priors := make([][]byte, n)
	for i := range items {
		items[i] = e.item("x", 1, 1, now, w)
	}
	var wg sync.WaitGroup
	for i := range n {
		wg.Go(func() {
			idem := &store.Idempotency{Key: "same", Response: []byte(items[i].Event.ID), TTL: time.Hour}
			p, err := e.s.Ingest(e.ctx, idem, []store.IngestItem{items[i]})
			if err != nil {
				t.Errorf("Ingest: %v", err)
			}
			priors[i] = p
		})
	}
	wg.Wait()
	var writers []int
	for i := range items {
		if _, err := e.s.GetEvent(e.ctx, items[i].Event.ID); err == nil {
			writers = append(writers, i)
		}
	}
	if len(writers) != 1 {
		t.Fatalf("%d calls wrote their event, want exactly 1", len(writers))
	}
	winner := items[writers[0]].Event.ID
	for i, p := range priors {
		if i == writers[0] {
			if p != nil {
				t.Fatalf("the writer got prior %q", p)
			}
		} else if string(p) != winner {
			t.Fatalf("call %d got prior %q, want the writer's response %q", i, p, winner)
		}
	}
}

func testReleaseInFlight(e *env) {
	t, now := e.t, e.now()
	w := e.webhook(1, "x")
	e.ingest(e.item("x", 1, 2, now, w), e.item("x", 2, 2, now, w), e.item("x", 3, 2, now.Add(time.Minute), w))
	claimed := e.claim(2, now, 10)
	if len(claimed) != 2 {
		t.Fatalf("claimed %d, want 2", len(claimed))
	}
	e.reopen() // the worker never recorded: as after a crash
	later := now.Add(10 * time.Second)
	if _, err := e.s.ReleaseInFlight(e.ctx, later); err != nil {
		t.Fatalf("ReleaseInFlight: %v", err)
	}
	if got := e.depth(); got != [3]int{0, 0, 3} {
		t.Fatalf("QueueDepth = %v, want [0 0 3]", got)
	}
	// The same deliveries, same uuid, no attempt counted, are claimable again.
	got := e.claim(2, later, 10)
	if !slices.Equal(ids(got), ids(claimed)) || got[0].Attempts != 0 {
		t.Fatalf("claimed after release %v, want %v with 0 attempts", ids(got), ids(claimed))
	}
	if got := e.depth(); got != [3]int{0, 0, 1} {
		t.Fatalf("QueueDepth with 2 in flight = %v, want [0 0 1]", got)
	}
}

func testStatsWindow(e *env) {
	t, now := e.t, e.now()
	w := e.webhook(1, "x")
	it := e.item("x", 1, 1, now, w)
	e.ingest(it)
	d := e.claim(1, now, 1)[0]
	at := now
	outcome := func(i int) store.Outcome {
		if i < 40 || (i >= 90 && i < 95) {
			return store.OutcomeSuccess
		}
		return store.OutcomeRetry
	}
	var firstFailAfterSuccess, lastSuccess time.Time
	for i := range 130 {
		at = at.Add(time.Second)
		o := outcome(i)
		e.record(d, map[bool]int{true: 200, false: 500}[o == store.OutcomeSuccess], o, at)
		if o == store.OutcomeSuccess {
			lastSuccess, firstFailAfterSuccess = at, time.Time{}
		} else if firstFailAfterSuccess.IsZero() {
			firstFailAfterSuccess = at
		}
	}
	st, err := e.s.GetWebhookStats(e.ctx, w.WebhookID)
	if err != nil {
		t.Fatal(err)
	}
	rate, n := st.SuccessRate()
	if n != store.StatsWindow || rate != 15.0/100 { // last 100 = attempts 30..129: 10 + 5 successes
		t.Fatalf("SuccessRate = %v over %d, want 0.15 over 100", rate, n)
	}
	if !st.Recent[0] || st.Recent[99] || !st.Recent[60] {
		t.Fatalf("Recent is not oldest first: %v", st.Recent)
	}
	if !st.LastSuccessAt.Equal(lastSuccess) || !st.FailingSince.Equal(firstFailAfterSuccess) {
		t.Fatalf("LastSuccessAt %v FailingSince %v, want %v and %v", st.LastSuccessAt, st.FailingSince, lastSuccess, firstFailAfterSuccess)
	}
	e.record(d, 200, store.OutcomeSuccess, at.Add(time.Second))
	if st, _ := e.s.GetWebhookStats(e.ctx, w.WebhookID); !st.FailingSince.IsZero() || len(st.Recent) != 100 {
		t.Fatalf("after a success: FailingSince %v, %d recent", st.FailingSince, len(st.Recent))
	}
	if st, err := e.s.GetWebhookStats(e.ctx, newID()); err != nil || len(st.Recent) != 0 {
		t.Fatalf("stats of a webhook without attempts = %+v, %v", st, err)
	}
}

func testDeleteWebhook(e *env) {
	t, now := e.t, e.now()
	w := e.webhook(5, "x")
	e.ingest(e.item("x", 1, 1, now, w))
	d := e.claim(1, now, 1)[0]
	e.record(d, 200, store.OutcomeSuccess, now)
	if err := e.s.DeleteWebhook(e.ctx, w.WebhookID, &store.HistoryEntry{Action: "webhook_deleted", CreatedAt: now}); err != nil {
		t.Fatalf("DeleteWebhook: %v", err)
	}
	if _, err := e.s.GetWebhook(e.ctx, w.WebhookID); !errors.Is(err, store.ErrNotFound) {
		t.Fatalf("GetWebhook after delete: %v, want ErrNotFound", err)
	}
	if ws, _ := e.s.ListWebhooks(e.ctx, store.WebhookFilter{CompanyID: 5}); len(ws) != 0 {
		t.Fatalf("ListWebhooks after delete = %d webhooks", len(ws))
	}
	as, total, err := e.s.ListAttempts(e.ctx, store.AttemptFilter{CompanyID: 5, WebhookID: w.WebhookID})
	if err != nil || total != 1 || len(as) != 1 {
		t.Fatalf("attempt logs after delete: %d (total %d), %v; want 1", len(as), total, err)
	}
	hist, err := e.s.ListHistory(e.ctx, w.WebhookID)
	if err != nil || len(hist) != 2 || hist[0].Action != "webhook_created" || hist[1].Action != "webhook_deleted" ||
		hist[1].ID <= hist[0].ID || hist[1].CompanyID != 5 || hist[1].WebhookID != w.WebhookID {
		t.Fatalf("history after delete = %+v, %v", hist, err)
	}
	if e.delivery(d.ID).State != store.DeliverySucceeded {
		t.Fatal("the delivery did not survive its webhook")
	}
	if err := e.s.DeleteWebhook(e.ctx, w.WebhookID, nil); !errors.Is(err, store.ErrNotFound) {
		t.Fatalf("deleting twice: %v, want ErrNotFound", err)
	}
}

func testWebhooks(e *env) {
	t := e.t
	a := e.webhook(1, "a", "b")
	b := e.webhook(1, "b")
	c := e.webhook(2, "a")
	if a.ID <= 0 || b.ID <= a.ID || c.ID <= b.ID {
		t.Fatalf("ids not assigned increasing: %d %d %d", a.ID, b.ID, c.ID)
	}
	b.Status, b.Version = store.StatusInactive, 2
	id := b.ID
	b.ID = 0 // replace by WebhookID keeps the stored id
	if err := e.s.PutWebhook(e.ctx, b, &store.HistoryEntry{Action: "status_changed"}); err != nil {
		t.Fatal(err)
	}
	if b.ID != id {
		t.Fatalf("update changed the id: %d, want %d", b.ID, id)
	}
	got, err := e.s.GetWebhook(e.ctx, b.WebhookID)
	if err != nil || got.Status != store.StatusInactive || got.Version != 2 || got.Secret != "s3cret" {
		t.Fatalf("GetWebhook = %+v, %v", got, err)
	}
	list := func(f store.WebhookFilter) []int64 {
		ws, err := e.s.ListWebhooks(e.ctx, f)
		if err != nil {
			t.Fatal(err)
		}
		var out []int64
		for _, w := range ws {
			out = append(out, w.ID)
		}
		return out
	}
	if got := list(store.WebhookFilter{CompanyID: 1}); !slices.Equal(got, []int64{a.ID, b.ID}) {
		t.Fatalf("company 1 = %v", got)
	}
	if got := list(store.WebhookFilter{Status: store.StatusActive}); !slices.Equal(got, []int64{a.ID, c.ID}) {
		t.Fatalf("active = %v", got)
	}
	if got := list(store.WebhookFilter{Event: "a", CompanyID: 2}); !slices.Equal(got, []int64{c.ID}) {
		t.Fatalf("company 2 event a = %v", got)
	}
	c.CompanyID = 3 // moving company moves the index
	if err := e.s.PutWebhook(e.ctx, c, nil); err != nil {
		t.Fatal(err)
	}
	if got := list(store.WebhookFilter{CompanyID: 2}); len(got) != 0 {
		t.Fatalf("company 2 after the move = %v", got)
	}
	if got := list(store.WebhookFilter{CompanyID: 3}); !slices.Equal(got, []int64{c.ID}) {
		t.Fatalf("company 3 after the move = %v", got)
	}
	hist, _ := e.s.ListHistory(e.ctx, b.WebhookID)
	if len(hist) != 2 || hist[1].Action != "status_changed" || hist[1].ID <= hist[0].ID {
		t.Fatalf("history of b = %+v", hist)
	}
	e.reopen()
	d := e.webhook(1, "z")
	if d.ID <= c.ID {
		t.Fatalf("id after reopen %d not above %d", d.ID, c.ID)
	}
	if h, _ := e.s.ListHistory(e.ctx, d.WebhookID); len(h) != 1 || h[0].ID <= hist[1].ID {
		t.Fatalf("history id after reopen not increasing: %+v", h)
	}
}

func testRequeue(e *env) {
	t, now := e.t, e.now()
	w := e.webhook(1, "x")
	e.ingest(e.item("x", 1, 0, now, w))
	d := e.claim(0, now, 1)[0]
	e.record(d, 500, store.OutcomeRetry, now)
	d = e.claim(0, now.Add(time.Hour), 1)[0]
	e.record(d, 500, store.OutcomeRetry, now.Add(time.Hour))
	d = e.claim(0, now.Add(2*time.Hour), 1)[0]
	e.record(d, 400, store.OutcomeFailed, now.Add(2*time.Hour))
	if got := e.delivery(d.ID); got.State != store.DeliveryDead || got.Attempts != 3 {
		t.Fatalf("before requeue = %+v", got)
	}
	at := now.Add(3 * time.Hour)
	r, err := e.s.Requeue(e.ctx, d.ID, at)
	if err != nil || r.State != store.DeliveryPending || r.Attempts != 3 || !r.DueAt.Equal(at) || r.ID != d.ID {
		t.Fatalf("Requeue = %+v, %v", r, err)
	}
	if _, err := e.s.GetEvent(e.ctx, d.EventID); err != nil {
		t.Fatalf("event of the requeued delivery: %v", err)
	}
	got := e.claim(0, at, 5)
	if len(got) != 1 || got[0].ID != d.ID || got[0].Attempts != 3 {
		t.Fatalf("claim after requeue = %+v", got)
	}
	if _, err := e.s.Requeue(e.ctx, newID(), at); !errors.Is(err, store.ErrNotFound) {
		t.Fatalf("Requeue of an unknown delivery: %v, want ErrNotFound", err)
	}
}

func testDeadLetterPending(e *env) {
	t, now := e.t, e.now()
	w, other := e.webhook(1, "x"), e.webhook(1, "x")
	e.ingest(e.item("x", 1, 1, now, w), e.item("x", 2, 1, now.Add(time.Hour), w))
	e.ingest(e.item("x", 3, 1, now.Add(time.Minute), w, other))
	inflight := e.claim(1, now, 1)[0]
	if inflight.WebhookID != w.WebhookID {
		t.Fatal("claimed the wrong delivery")
	}
	n, err := e.s.DeadLetterPending(e.ctx, w.WebhookID, "webhook deactivated", now)
	if err != nil || n != 2 {
		t.Fatalf("DeadLetterPending = %d, %v; want 2", n, err)
	}
	if got := e.depth(); got != [3]int{0, 1, 0} {
		t.Fatalf("QueueDepth = %v, want only the other webhook's delivery", got)
	}
	dead, err := e.s.ListDeliveries(e.ctx, w.WebhookID, store.DeliveryDead, time.Time{}, time.Time{})
	if err != nil || len(dead) != 2 || dead[0].DeadReason != "webhook deactivated" {
		t.Fatalf("dead deliveries = %+v, %v", dead, err)
	}
	if d := e.delivery(inflight.ID); d.State != store.DeliveryInFlight {
		t.Fatalf("the in-flight delivery became %q", d.State)
	}
	if got := e.claim(1, now.Add(2*time.Hour), 10); len(got) != 1 || got[0].WebhookID != other.WebhookID {
		t.Fatalf("claim after dead-lettering = %v", ids(got))
	}
}

func testListDeliveries(e *env) {
	t, now := e.t, e.now()
	w := e.webhook(1, "x")
	var all []string
	for i := range 5 {
		e.clock.Advance(time.Minute)
		it := e.item("x", int64(i), 1, now.Add(time.Duration(i)*time.Millisecond), w)
		e.ingest(it)
		all = append(all, it.Deliveries[0].ID)
	}
	ds := e.claim(1, now.Add(time.Second), 2) // the two created first
	e.record(ds[0], 410, store.OutcomeFailed, now)
	e.record(ds[1], 200, store.OutcomeSuccess, now)
	list := func(state store.DeliveryState, from, to time.Time) []string {
		got, err := e.s.ListDeliveries(e.ctx, w.WebhookID, state, from, to)
		if err != nil {
			t.Fatal(err)
		}
		return ids(got)
	}
	if got := list("", time.Time{}, time.Time{}); !slices.Equal(got, all) {
		t.Fatalf("all deliveries = %v, want %v (oldest first)", got, all)
	}
	if got := list(store.DeliveryDead, time.Time{}, time.Time{}); !slices.Equal(got, all[:1]) {
		t.Fatalf("dead = %v", got)
	}
	if got := list(store.DeliveryPending, now.Add(3*time.Minute), now.Add(4*time.Minute)); !slices.Equal(got, all[2:4]) {
		t.Fatalf("pending in [3m,4m] = %v, want %v", got, all[2:4])
	}
	if got := list(store.DeliverySucceeded, now.Add(3*time.Minute), time.Time{}); len(got) != 0 {
		t.Fatalf("succeeded since 3m = %v", got)
	}
}

func testMeta(e *env) {
	t := e.t
	calls := 0
	gen := func() ([]byte, error) { calls++; return []byte("key-1"), nil }
	v1, err := e.s.Meta(e.ctx, "auth.signing_key", gen)
	if err != nil || string(v1) != "key-1" {
		t.Fatalf("Meta = %q, %v", v1, err)
	}
	e.reopen()
	v2, err := e.s.Meta(e.ctx, "auth.signing_key", func() ([]byte, error) { calls++; return []byte("key-2"), nil })
	if err != nil || string(v2) != "key-1" || calls != 1 {
		t.Fatalf("Meta after reopen = %q, %v (gen called %d times)", v2, err, calls)
	}
	if _, err := e.s.Meta(e.ctx, "other", func() ([]byte, error) { return nil, errors.New("boom") }); err == nil {
		t.Fatal("Meta did not return gen's error")
	}
}

func testClosed(e *env) {
	if err := e.s.Close(); err != nil {
		e.t.Fatal(err)
	}
	if _, err := e.s.Ingest(e.ctx, nil, []store.IngestItem{e.item("x", 1, 1, e.now())}); !errors.Is(err, store.ErrClosed) {
		e.t.Fatalf("Ingest after Close: %v, want ErrClosed", err)
	}
	if _, err := e.s.GetDelivery(e.ctx, newID()); !errors.Is(err, store.ErrClosed) {
		e.t.Fatalf("GetDelivery after Close: %v, want ErrClosed", err)
	}
}
