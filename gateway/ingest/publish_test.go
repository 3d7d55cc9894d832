package ingest

import (
	"context"
	"errors"
	"fmt"
	"testing"
	"time"

	"github.com/hookgate/hookgate/store"
	"github.com/hookgate/hookgate/store/badger"
)

type fixedClock struct{ t time.Time }

func (c fixedClock) Now() time.Time { return c.t }

type oneHook struct{ w *store.Webhook }

func (o oneHook) Subscribers(company int64, event string) []*store.Webhook {
	if company == o.w.CompanyID {
		return []*store.Webhook{o.w}
	}
	return nil
}

func fnEnvelope(company, workOrder int) []byte {
	return fmt.Appendf(nil, `{"event":{"name":"workorder.created","params":{"work_order_id":%d,"work_order_company_id":%d}},"timestamp":"2026-01-20T08:55:58Z","triggered_by_user":{"id":7},"workorder":{"id":%d}}`, workOrder, company, workOrder)
}

// TestPublishBatchEachOnItsOwn: one bad envelope of a bulk publish does not
// refuse the others; each is answered with its own outcome, and a repeated
// Idempotency-Key replays (same body) or conflicts (another body).
func TestPublishBatchEachOnItsOwn(t *testing.T) {
	st, err := badger.Open(badger.Options{Path: t.TempDir()})
	if err != nil {
		t.Fatal(err)
	}
	defer st.Close()
	ctx := context.Background()
	accepted := 0
	svc := New(Options{
		Store: st, Clock: fixedClock{time.Date(2026, 1, 20, 9, 0, 0, 0, time.UTC)},
		Subscribers:    oneHook{&store.Webhook{WebhookID: "w1", CompanyID: 100}},
		IdempotencyTTL: time.Hour,
		Accepted:       func(*store.Event, int) { accepted++ },
	})
	req := func(body []byte, key string) Request {
		return Request{Company: 100, ClientID: "c", Body: body, IdempotencyKey: key}
	}
	out := svc.PublishBatch(ctx, []Request{
		req(fnEnvelope(100, 1), ""),
		req([]byte(`{"event":`), ""),
		req(fnEnvelope(200, 2), ""),
		req(fnEnvelope(100, 3), "k1"),
		req(fnEnvelope(100, 4), "bad key with spaces and more than enough characters to be refused \x01"),
	})
	var pe *ParseError
	var wc *WrongCompanyError
	switch {
	case out[0].Err != nil || out[0].Result.Deliveries != 1:
		t.Fatalf("item 0: %+v", out[0])
	case !errors.As(out[1].Err, &pe):
		t.Fatalf("item 1 (truncated JSON): err %v, want a *ParseError", out[1].Err)
	case !errors.As(out[2].Err, &wc):
		t.Fatalf("item 2 (another company): err %v, want a *WrongCompanyError", out[2].Err)
	case out[3].Err != nil || out[3].Replayed:
		t.Fatalf("item 3: %+v", out[3])
	case out[4].Err == nil:
		t.Fatalf("item 4 (bad key): accepted")
	}
	if accepted != 2 {
		t.Fatalf("Accepted told of %d events, want 2", accepted)
	}
	for _, i := range []int{0, 3} {
		if _, err := st.GetEvent(ctx, out[i].Result.EventID); err != nil {
			t.Fatalf("item %d's event: %v", i, err)
		}
	}
	again := svc.PublishBatch(ctx, []Request{req(fnEnvelope(100, 3), "k1"), req(fnEnvelope(100, 5), "k1")})
	if again[0].Err != nil || !again[0].Replayed || again[0].Result.EventID != out[3].Result.EventID {
		t.Fatalf("same key, same body: %+v, want the replay of %s", again[0], out[3].Result.EventID)
	}
	var ic *IdempotencyConflictError
	if !errors.As(again[1].Err, &ic) {
		t.Fatalf("same key, another body: err %v, want an *IdempotencyConflictError", again[1].Err)
	}
	if accepted != 2 {
		t.Fatalf("replays told Accepted: %d", accepted)
	}
}
