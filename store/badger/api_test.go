package badger_test

import (
	"context"
	"testing"

	"github.com/google/uuid"

	"github.com/hookgate/hookgate/store"
)

// PutWebhookChanges writes the webhook and every history entry together,
// with increasing ids, and keeps the webhook's id across updates.
func TestBadgerPutWebhookChanges(t *testing.T) {
	s := openBadger(t)
	ctx := context.Background()
	w := &store.Webhook{WebhookID: uuid.NewString(), CompanyID: 7, URL: "https://a.example.com", Method: "post",
		Status: store.StatusActive, Events: []string{"workorder.created"}, Sink: "http", Source: store.SourceAPI, Version: 1}
	created := &store.HistoryEntry{UserID: 3, Action: "webhook_created", Changes: map[string]any{"url": w.URL}}
	if err := s.PutWebhookChanges(ctx, w, []*store.HistoryEntry{created}); err != nil {
		t.Fatal(err)
	}
	if w.ID == 0 || created.ID == 0 {
		t.Fatalf("ids not assigned: webhook %d, history %d", w.ID, created.ID)
	}
	next := *w
	next.ID, next.URL, next.Status, next.Version = 0, "https://b.example.com", store.StatusInactive, 2
	hs := []*store.HistoryEntry{
		{UserID: 3, Action: "url_changed", Changes: map[string]any{"url": map[string]any{"from": w.URL, "to": next.URL}}},
		nil,
		{Action: "status_changed", Reason: "system", Changes: map[string]any{"status": map[string]any{"from": "active", "to": "inactive"}}},
	}
	if err := s.PutWebhookChanges(ctx, &next, hs); err != nil {
		t.Fatal(err)
	}
	if next.ID != w.ID {
		t.Errorf("update changed the id: %d, was %d", next.ID, w.ID)
	}
	if !(hs[0].ID > created.ID && hs[2].ID > hs[0].ID) {
		t.Errorf("history ids %d, %d after %d: want increasing", hs[0].ID, hs[2].ID, created.ID)
	}
	got, err := s.GetWebhook(ctx, w.WebhookID)
	if err != nil || got.URL != next.URL || got.Status != store.StatusInactive {
		t.Fatalf("stored %+v, %v", got, err)
	}
	list, err := s.ListHistory(ctx, w.WebhookID)
	if err != nil || len(list) != 3 {
		t.Fatalf("history %d entries, %v", len(list), err)
	}
	if list[2].Action != "status_changed" || list[2].Reason != "system" || list[2].CompanyID != 7 || list[2].WebhookID != w.WebhookID {
		t.Errorf("last entry %+v", list[2])
	}
}
