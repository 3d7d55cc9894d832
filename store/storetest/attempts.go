package storetest

import (
	"bytes"
	"errors"
	"reflect"
	"slices"
	"testing"
	"time"

	"github.com/hookgate/hookgate/store"
)

// testListAttempts builds attempts across two companies and three webhooks
// and checks ListAttempts against a reference filter over what was written.
func testListAttempts(e *env) {
	t, now := e.t, e.now()
	w1, w2, w3 := e.webhook(1, "a", "b"), e.webhook(1, "a", "b"), e.webhook(2, "a", "b")
	var written []*store.Attempt
	at := now
	statuses := []int{200, 500, 0, 404}
	for i := range 18 {
		w := []*store.Webhook{w1, w2, w3}[i%3]
		name := []string{"a", "b"}[i/3%2]
		e.ingest(e.item(name, int64(100+i%4), 1, now, w))
		d := e.claim(1, now, 1)[0]
		at = at.Add(time.Second)
		st := statuses[i%4]
		outcome := store.OutcomeFailed
		if st == 200 {
			outcome = store.OutcomeSuccess
		} else if st == 500 {
			outcome = store.OutcomeRetry
		}
		written = append(written, e.record(d, st, outcome, at))
		if outcome == store.OutcomeRetry { // a second attempt, later
			d = e.claim(1, d.DueAt, 1)[0]
			at = at.Add(time.Second)
			written = append(written, e.record(d, 200, store.OutcomeSuccess, at))
		}
	}
	ref := func(f store.AttemptFilter) []string {
		var out []string
		for _, a := range written {
			did, n, _ := store.ParseLogID(f.DeliveryID)
			switch {
			case f.CompanyID != 0 && a.CompanyID != f.CompanyID,
				f.WebhookID != "" && a.WebhookID != f.WebhookID,
				did != "" && a.DeliveryID != did, n > 0 && a.Attempt != n,
				f.EventName != "" && a.EventName != f.EventName,
				f.WorkOrderID != 0 && a.WorkOrderID != f.WorkOrderID,
				f.Status == -1 && a.ResponseStatus != 0, f.Status > 0 && a.ResponseStatus != f.Status,
				!f.CreatedFrom.IsZero() && a.CreatedAt.Before(f.CreatedFrom),
				!f.CreatedTo.IsZero() && a.CreatedAt.After(f.CreatedTo):
				continue
			}
			out = append(out, a.LogID())
		}
		if !f.OldestFirst {
			slices.Reverse(out)
		}
		return out
	}
	check := func(name string, f store.AttemptFilter) {
		t.Helper()
		want := ref(f)
		total := len(want)
		lo := min(f.Offset, len(want))
		want = want[lo:]
		if f.Limit > 0 && f.Limit < len(want) {
			want = want[:f.Limit]
		}
		got, n, err := e.s.ListAttempts(e.ctx, f)
		if err != nil {
			t.Fatalf("%s: %v", name, err)
		}
		var gotIDs []string
		for _, a := range got {
			gotIDs = append(gotIDs, a.LogID())
		}
		if n != total || !slices.Equal(gotIDs, want) {
			t.Fatalf("%s: got %v (total %d), want %v (total %d)", name, gotIDs, n, want, total)
		}
		// The same page as summaries: the same records, without detail.
		fs := f
		fs.Summaries = true
		sums, n, err := e.s.ListAttempts(e.ctx, fs)
		if err != nil {
			t.Fatalf("%s, summaries: %v", name, err)
		}
		if n != total || !slices.Equal(logIDs(sums), want) {
			t.Fatalf("%s, summaries: got %v (total %d), want %v (total %d)", name, logIDs(sums), n, want, total)
		}
		checkSummaries(t, name, sums, written)
		// A walk visits every match in the same order, whatever the page.
		var walked []*store.Attempt
		if err := e.s.WalkAttempts(e.ctx, f, func(a *store.Attempt) bool { walked = append(walked, a); return true }); err != nil {
			t.Fatalf("%s, walk: %v", name, err)
		}
		if all := ref(f); !slices.Equal(logIDs(walked), all) {
			t.Fatalf("%s, walk: got %v, want %v", name, logIDs(walked), all)
		}
		checkSummaries(t, name+", walk", walked, written)
		// fn returning false ends the walk.
		seen := 0
		if err := e.s.WalkAttempts(e.ctx, f, func(*store.Attempt) bool { seen++; return seen < 2 }); err != nil || seen != min(2, total) {
			t.Fatalf("%s, walk stopped after the second: saw %d (%v), want %d", name, seen, err, min(2, total))
		}
	}
	d5 := written[5]
	cases := []struct {
		name string
		f    store.AttemptFilter
	}{
		{"company 1", store.AttemptFilter{CompanyID: 1}},
		{"company 2", store.AttemptFilter{CompanyID: 2}},
		{"company 3 (none)", store.AttemptFilter{CompanyID: 3}},
		{"webhook", store.AttemptFilter{CompanyID: 1, WebhookID: w2.WebhookID}},
		{"webhook of another company", store.AttemptFilter{CompanyID: 1, WebhookID: w3.WebhookID}},
		{"delivery uuid", store.AttemptFilter{CompanyID: 1, DeliveryID: written[1].DeliveryID}},
		{"delivery uuid:n", store.AttemptFilter{CompanyID: 1, DeliveryID: written[2].LogID()}},
		{"delivery of another company", store.AttemptFilter{CompanyID: 2, DeliveryID: written[1].DeliveryID}},
		{"event name", store.AttemptFilter{CompanyID: 1, EventName: "b"}},
		{"work order", store.AttemptFilter{CompanyID: 1, WorkOrderID: 101}},
		{"status", store.AttemptFilter{CompanyID: 1, Status: 404}},
		{"status 200 oldest first", store.AttemptFilter{CompanyID: 1, Status: 200, OldestFirst: true}},
		{"no response", store.AttemptFilter{CompanyID: 1, Status: -1}},
		{"created range", store.AttemptFilter{CompanyID: 1, CreatedFrom: d5.CreatedAt, CreatedTo: d5.CreatedAt.Add(6 * time.Second)}},
		{"created from, webhook", store.AttemptFilter{WebhookID: w1.WebhookID, CreatedFrom: d5.CreatedAt}},
		{"page 1", store.AttemptFilter{CompanyID: 1, Limit: 4}},
		{"page 2", store.AttemptFilter{CompanyID: 1, Limit: 4, Offset: 4}},
		{"page past the end", store.AttemptFilter{CompanyID: 1, Limit: 4, Offset: 400}},
		{"page oldest first, filtered", store.AttemptFilter{CompanyID: 1, EventName: "a", Limit: 3, Offset: 2, OldestFirst: true}},
		{"everyone (operator)", store.AttemptFilter{Limit: 5, Offset: 1}},
	}
	for _, c := range cases {
		check(c.name, c.f)
	}
}

func logIDs(as []*store.Attempt) []string {
	out := []string{}
	for _, a := range as {
		out = append(out, a.LogID())
	}
	return out
}

// checkSummaries: each summary equals its written record less the headers
// and bodies.
func checkSummaries(t testing.TB, name string, got, written []*store.Attempt) {
	t.Helper()
	for _, a := range got {
		i := slices.IndexFunc(written, func(w *store.Attempt) bool { return w.LogID() == a.LogID() })
		if i < 0 {
			t.Fatalf("%s: summary %s was never written", name, a.LogID())
		}
		want := *written[i]
		want.FillBodySizes() // a summary keeps the sizes of what it leaves out
		want.RequestHeaders, want.RequestBody, want.ResponseHeaders, want.ResponseBody = nil, nil, nil, nil
		sum := *a
		sum.CreatedAt, want.CreatedAt = a.CreatedAt.UTC(), want.CreatedAt.UTC()
		if !reflect.DeepEqual(sum, want) {
			t.Fatalf("%s: summary\n%+v\nwant\n%+v", name, sum, want)
		}
	}
}

// testAttemptBodySizes: a record keeps the bodies it is given and their
// full sizes, so a reader can tell a truncated body (the gateway keeps the
// first delivery_log.max_body bytes); sizes left out read as the bodies'
// lengths; a truncated request body that is the event's payload reads back
// as the part that was kept, not the whole payload.
func testAttemptBodySizes(e *env) {
	t, now := e.t, e.now()
	w := e.webhook(1, "x")
	it := e.item("x", 1, 1, now, w, w, w)
	e.ingest(it)
	ds := e.claim(1, now, 3)
	if len(ds) != 3 {
		t.Fatalf("claimed %d deliveries, want 3", len(ds))
	}
	head := bytes.Repeat([]byte("é"), 100) // 200 bytes kept of 8 MiB
	cut := e.recordWith(ds[0], 200, store.OutcomeSuccess, now.Add(time.Second), func(a *store.Attempt) {
		a.RequestBody, a.RequestBodySize = head, 8<<20
		a.ResponseBody, a.ResponseBodySize = []byte("first part"), 100_000
	})
	whole := e.record(ds[1], 200, store.OutcomeSuccess, now.Add(time.Second))
	payload := it.Event.Payload
	e.recordWith(ds[2], 200, store.OutcomeSuccess, now.Add(time.Second), func(a *store.Attempt) {
		a.RequestBody, a.RequestBodySize, a.RequestBodyIsPayload = payload[:10], int64(len(payload)), true
	})
	e.reopen()
	check := func(id string, body []byte, size int64, resp []byte, respSize int64) {
		t.Helper()
		got, err := e.s.GetAttempt(e.ctx, id, 1)
		if err != nil {
			t.Fatal(err)
		}
		if !bytes.Equal(got.RequestBody, body) || got.RequestBodySize != size ||
			!bytes.Equal(got.ResponseBody, resp) || got.ResponseBodySize != respSize {
			t.Fatalf("attempt %s: request %d bytes of %d, response %q of %d; want %d of %d, %q of %d", id,
				len(got.RequestBody), got.RequestBodySize, got.ResponseBody, got.ResponseBodySize, len(body), size, resp, respSize)
		}
		if got.RequestBodyTruncated() != (int64(len(body)) < size) || got.ResponseBodyTruncated() != (int64(len(resp)) < respSize) {
			t.Fatalf("attempt %s: truncated flags %v %v", id, got.RequestBodyTruncated(), got.ResponseBodyTruncated())
		}
		listed, _, err := e.s.ListAttempts(e.ctx, store.AttemptFilter{CompanyID: 1, DeliveryID: id})
		if err != nil || len(listed) != 1 || listed[0].RequestBodySize != size || listed[0].ResponseBodySize != respSize {
			t.Fatalf("ListAttempts %s: %v, %v", id, listed, err)
		}
	}
	check(cut.DeliveryID, head, 8<<20, []byte("first part"), 100_000)
	check(whole.DeliveryID, whole.RequestBody, int64(len(whole.RequestBody)), whole.ResponseBody, int64(len(whole.ResponseBody)))
	check(ds[2].ID, payload[:10], int64(len(payload)), []byte("ok"), 2)
}

// testRecordAttempts: one batch records several deliveries' attempts (a
// success, a retry, a final failure) as RecordAttempt would each; a record
// of an unknown delivery gets ErrNotFound in its Err without keeping the
// others from being written; the stats count every outcome in order, also
// after the store is reopened.
func testRecordAttempts(e *env) {
	t, now := e.t, e.now()
	w := e.webhook(1, "x")
	e.ingest(e.item("x", 1, 1, now, w), e.item("x", 2, 1, now, w), e.item("x", 3, 1, now, w))
	claimed := e.claim(1, now, 10)
	if len(claimed) != 3 {
		t.Fatalf("claimed %d, want 3", len(claimed))
	}
	outcomes := []store.Outcome{store.OutcomeSuccess, store.OutcomeRetry, store.OutcomeFailed}
	states := []store.DeliveryState{store.DeliverySucceeded, store.DeliveryPending, store.DeliveryDead}
	var recs []store.AttemptRecord
	for i, d := range claimed {
		at := now.Add(time.Duration(i) * time.Millisecond)
		next := *d
		next.Attempts, next.State, next.UpdatedAt, next.LastStatus = 1, states[i], at, 200+100*i
		if states[i] == store.DeliveryPending {
			next.DueAt = now.Add(time.Minute)
		}
		recs = append(recs, store.AttemptRecord{Delivery: &next, Attempt: &store.Attempt{
			Attempt: 1, WebhookID: d.WebhookID, CompanyID: d.CompanyID, EventID: d.EventID, EventName: d.EventName,
			WorkOrderID: d.WorkOrderID, ResponseStatus: 200 + 100*i, Outcome: outcomes[i], CreatedAt: at}})
	}
	unknown := store.AttemptRecord{Delivery: &store.Delivery{ID: newID(), State: store.DeliveryDead}, Attempt: &store.Attempt{Attempt: 1}}
	recs = append(recs[:1], append([]store.AttemptRecord{unknown}, recs[1:]...)...)
	if err := e.s.RecordAttempts(e.ctx, recs); err != nil {
		t.Fatalf("RecordAttempts: %v", err)
	}
	for i, r := range recs {
		if want := i == 1; errors.Is(r.Err, store.ErrNotFound) != want || (!want && r.Err != nil) {
			t.Fatalf("record %d: Err %v (want ErrNotFound only for the unknown delivery)", i, r.Err)
		}
	}
	for i, d := range claimed {
		got := e.delivery(d.ID)
		if got.State != states[i] || got.Attempts != 1 || got.LastStatus != 200+100*i {
			t.Fatalf("delivery %d after the batch: %+v, want state %s", i, got, states[i])
		}
		if a, err := e.s.GetAttempt(e.ctx, d.ID, 1); err != nil || a.Outcome != outcomes[i] {
			t.Fatalf("attempt %d: %+v, %v", i, a, err)
		}
	}
	if got := e.depth(); got != [3]int{0, 1, 0} {
		t.Fatalf("QueueDepth = %v, want the retry alone", got)
	}
	list, total, err := e.s.ListAttempts(e.ctx, store.AttemptFilter{CompanyID: 1, WebhookID: w.WebhookID, OldestFirst: true})
	if err != nil || total != 3 || list[0].Outcome != store.OutcomeSuccess || list[2].Outcome != store.OutcomeFailed {
		t.Fatalf("ListAttempts = %d records (total %d), %v", len(list), total, err)
	}
	for _, reopened := range []bool{false, true} {
		if reopened {
			e.reopen()
		}
		st, err := e.s.GetWebhookStats(e.ctx, w.WebhookID)
		if err != nil || !slices.Equal(st.Recent, []bool{true, false, false}) || !st.LastSuccessAt.Equal(now) ||
			!st.FailingSince.Equal(now.Add(time.Millisecond)) {
			t.Fatalf("stats (reopened %v) = %+v, %v", reopened, st, err)
		}
	}
	if err := e.s.RecordAttempts(e.ctx, nil); err != nil {
		t.Fatalf("RecordAttempts of nothing: %v", err)
	}

	// Two attempts of one delivery in one batch are written in order: the
	// later one's state is the delivery's.
	retry := e.claim(1, now.Add(time.Minute), 10)
	if len(retry) != 1 {
		t.Fatalf("claimed %d retries, want 1", len(retry))
	}
	d := retry[0]
	second, third := *d, *d
	second.Attempts, second.State, second.DueAt = 2, store.DeliveryPending, now.Add(2*time.Minute)
	third.Attempts, third.State, third.LastStatus = 3, store.DeliverySucceeded, 200
	pair := []store.AttemptRecord{
		{Delivery: &second, Attempt: &store.Attempt{Attempt: 2, WebhookID: d.WebhookID, CompanyID: 1, ResponseStatus: 503, Outcome: store.OutcomeRetry, CreatedAt: now.Add(time.Minute)}},
		{Delivery: &third, Attempt: &store.Attempt{Attempt: 3, WebhookID: d.WebhookID, CompanyID: 1, ResponseStatus: 200, Outcome: store.OutcomeSuccess, CreatedAt: now.Add(time.Minute + time.Millisecond)}},
	}
	if err := e.s.RecordAttempts(e.ctx, pair); err != nil || pair[0].Err != nil || pair[1].Err != nil {
		t.Fatalf("RecordAttempts of two attempts of one delivery: %v, %v, %v", err, pair[0].Err, pair[1].Err)
	}
	if got := e.delivery(d.ID); got.State != store.DeliverySucceeded || got.Attempts != 3 {
		t.Fatalf("delivery after two attempts in one batch: %s with %d attempts, want succeeded with 3", got.State, got.Attempts)
	}
	if _, total, err := e.s.ListAttempts(e.ctx, store.AttemptFilter{DeliveryID: d.ID}); err != nil || total != 3 {
		t.Fatalf("attempts of the delivery: %d, %v; want 3", total, err)
	}
	if got := e.depth(); got != [3]int{0, 0, 0} {
		t.Fatalf("QueueDepth = %v, want empty", got)
	}
	if got := e.claim(1, now.Add(time.Hour), 10); len(got) != 0 {
		t.Fatalf("claimed %v after the batch, want nothing queued", ids(got))
	}
}
