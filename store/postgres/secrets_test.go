package postgres_test

import (
	"errors"
	"io"
	"log/slog"
	"maps"
	"strings"
	"testing"

	"github.com/hookgate/hookgate/secretbox"
	"github.com/hookgate/hookgate/store"
	"github.com/hookgate/hookgate/store/postgres"
)

func testKeyring(t *testing.T, previous ...[]byte) (*secretbox.Keyring, []byte) {
	t.Helper()
	key, err := secretbox.GenerateKey()
	if err != nil {
		t.Fatal(err)
	}
	ring, err := secretbox.New(key, previous...)
	if err != nil {
		t.Fatal(err)
	}
	return ring, key
}

const (
	plainSecret   = "whsec-plain-secret-4f1c9a"
	plainPrevious = "whsec-previous-secret-77b2e0"
	plainHeader   = "Bearer header-credential-0d93ab"
)

func secretWebhook(id string) *store.Webhook {
	return &store.Webhook{WebhookID: id, CompanyID: 100, URL: "https://hooks.example.com/x", Method: "post",
		Status: store.StatusActive, Events: []string{"workorder.created"}, Sink: "http",
		Secret: plainSecret, PreviousSecret: plainPrevious,
		Headers: map[string]string{"Authorization": plainHeader, "X-Api-Key": plainHeader + "-2"}}
}

// rawDocs is every webhook row's stored doc as the database holds it.
func rawDocs(t *testing.T, s *postgres.Store) []string {
	t.Helper()
	rows, err := s.Pool().Query(t.Context(), `SELECT doc::text FROM webhooks ORDER BY id`)
	if err != nil {
		t.Fatal(err)
	}
	defer rows.Close()
	var out []string
	for rows.Next() {
		var doc string
		if err := rows.Scan(&doc); err != nil {
			t.Fatal(err)
		}
		out = append(out, doc)
	}
	if err := rows.Err(); err != nil {
		t.Fatal(err)
	}
	return out
}

func assertSealed(t *testing.T, s *postgres.Store, want int) {
	t.Helper()
	docs := rawDocs(t, s)
	if len(docs) != want {
		t.Fatalf("%d webhook rows, want %d", len(docs), want)
	}
	for _, doc := range docs {
		for _, secret := range []string{plainSecret, plainPrevious, plainHeader, "header-credential"} {
			if strings.Contains(doc, secret) {
				t.Errorf("stored doc holds %q in the clear: %s", secret, doc)
			}
		}
		if !strings.Contains(doc, `"sealed"`) {
			t.Errorf("stored doc has no sealed member: %s", doc)
		}
	}
}

func assertPlainValues(t *testing.T, got *store.Webhook) {
	t.Helper()
	want := secretWebhook(got.WebhookID)
	if got.Secret != want.Secret || got.PreviousSecret != want.PreviousSecret || !maps.Equal(got.Headers, want.Headers) {
		t.Errorf("webhook %s read back with secret %q, previous %q, headers %v; want %q, %q, %v",
			got.WebhookID, got.Secret, got.PreviousSecret, got.Headers, want.Secret, want.PreviousSecret, want.Headers)
	}
}

// TestWebhookSecretsSealed: with a keyring, the webhook table holds no
// secret, previous secret or header value in the clear, and every read
// returns them plain.
func TestWebhookSecretsSealed(t *testing.T) {
	ring, _ := testKeyring(t)
	s := openWith(t, postgres.Options{Keys: ring})
	ctx := t.Context()
	const id = "6f0c3a52-0000-4000-8000-000000000001"
	if err := s.PutWebhook(ctx, secretWebhook(id), nil); err != nil {
		t.Fatal(err)
	}
	assertSealed(t, s, 1)

	got, err := s.GetWebhook(ctx, id)
	if err != nil {
		t.Fatal(err)
	}
	assertPlainValues(t, got)
	if got.URL != "https://hooks.example.com/x" || got.CompanyID != 100 {
		t.Errorf("plain fields read back as %q, company %d", got.URL, got.CompanyID)
	}
	list, err := s.ListWebhooks(ctx, store.WebhookFilter{CompanyID: 100, Event: "workorder.created"})
	if err != nil || len(list) != 1 {
		t.Fatalf("ListWebhooks by event over sealed docs: %d (%v), want 1", len(list), err)
	}
	assertPlainValues(t, list[0])

	// A replace keeps them sealed too.
	w := secretWebhook(id)
	w.Status = store.StatusInactive
	if err := s.PutWebhook(ctx, w, nil); err != nil {
		t.Fatal(err)
	}
	assertSealed(t, s, 1)
}

// TestWebhookSecretsKeys: plain docs written without a key are sealed at
// the first keyed open; a store without the key, or with another key,
// refuses to open; a rotation re-seals with the new key.
func TestWebhookSecretsKeys(t *testing.T) {
	ctx := t.Context()
	const id = "6f0c3a52-0000-4000-8000-000000000002"
	plain := openWith(t, postgres.Options{})
	if err := plain.PutWebhook(ctx, secretWebhook(id), nil); err != nil {
		t.Fatal(err)
	}
	if docs := rawDocs(t, plain); len(docs) != 1 || !strings.Contains(docs[0], plainSecret) {
		t.Fatalf("without a key the doc is stored as written: %v", docs)
	}
	_ = plain.Close()

	ring, oldKey := testKeyring(t)
	s := openWith(t, postgres.Options{Keys: ring})
	assertSealed(t, s, 1)
	_ = s.Close()

	open := func(keys *secretbox.Keyring) error {
		s, err := postgres.Open(ctx, postgres.Options{DSN: dsnFor(t), Keys: keys, Logger: slog.New(slog.NewTextHandler(io.Discard, nil))})
		if err == nil {
			_ = s.Close()
		}
		return err
	}
	if err := open(nil); !errors.Is(err, store.ErrNoKey) {
		t.Errorf("open without a key over sealed data: %v, want ErrNoKey", err)
	}
	other, _ := testKeyring(t)
	if err := open(other); !errors.Is(err, store.ErrKeyMismatch) {
		t.Errorf("open with another key: %v, want ErrKeyMismatch", err)
	}

	rotated, newKey := testKeyring(t, oldKey)
	s = openWith(t, postgres.Options{Keys: rotated})
	assertSealed(t, s, 1)
	got, err := s.GetWebhook(ctx, id)
	if err != nil {
		t.Fatal(err)
	}
	assertPlainValues(t, got)
	_ = s.Close()

	// After the rotation the new key alone opens everything.
	newOnly, err := secretbox.New(newKey)
	if err != nil {
		t.Fatal(err)
	}
	s = openWith(t, postgres.Options{Keys: newOnly})
	got, err = s.GetWebhook(ctx, id)
	if err != nil {
		t.Fatalf("reading after the rotation with the new key only: %v", err)
	}
	assertPlainValues(t, got)
}
