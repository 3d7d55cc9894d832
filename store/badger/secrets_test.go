package badger_test

import (
	"bytes"
	"context"
	"errors"
	"io"
	"io/fs"
	"log/slog"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/google/uuid"

	"github.com/hookgate/hookgate/secretbox"
	"github.com/hookgate/hookgate/store"
	"github.com/hookgate/hookgate/store/badger"
)

func ring(t *testing.T, keys ...[]byte) *secretbox.Keyring {
	t.Helper()
	k, err := secretbox.New(keys[0], keys[1:]...)
	if err != nil {
		t.Fatal(err)
	}
	return k
}

func newKey(t *testing.T) []byte {
	t.Helper()
	k, err := secretbox.GenerateKey()
	if err != nil {
		t.Fatal(err)
	}
	return k
}

func openAt(dir string, keys *secretbox.Keyring) (*badger.Store, error) {
	return badger.Open(badger.Options{Path: dir, Keys: keys, Logger: slog.New(slog.NewTextHandler(io.Discard, nil))})
}

func secretWebhook() *store.Webhook {
	now := time.Now().UTC()
	return &store.Webhook{
		WebhookID: uuid.NewString(), CompanyID: 7, URL: "https://example.com/h", Method: "post", Status: store.StatusActive,
		Events: []string{"workorder.created"}, Secret: uuid.NewString(), PreviousSecret: uuid.NewString(),
		PreviousSecretExpiresAt: now.Add(time.Hour), Sink: "http", Source: store.SourceAPI, Version: 1,
		Headers:   map[string]string{"Authorization": "Bearer tok-" + uuid.NewString(), "X-Api-Key": "key-" + uuid.NewString()},
		CreatedAt: now, UpdatedAt: now,
	}
}

// secretsOf lists the values that must never be on disk in the clear.
func secretsOf(w *store.Webhook) []string {
	out := []string{w.Secret, w.PreviousSecret}
	for _, v := range w.Headers {
		out = append(out, v)
	}
	return out
}

// assertNoPlaintext reads every file under dir and fails on any secret in
// the clear, as text or in the upper-case form a hex dump would show.
func assertNoPlaintext(t *testing.T, dir string, secrets []string) {
	t.Helper()
	files := 0
	err := filepath.WalkDir(dir, func(p string, d fs.DirEntry, err error) error {
		if err != nil || d.IsDir() {
			return err
		}
		raw, err := os.ReadFile(p)
		if err != nil {
			return err
		}
		files++
		for _, s := range secrets {
			if bytes.Contains(raw, []byte(s)) || bytes.Contains(bytes.ToLower(raw), []byte(strings.ToLower(s))) {
				t.Errorf("%s holds a secret in the clear (%.12s...)", filepath.Base(p), s)
			}
		}
		return nil
	})
	if err != nil {
		t.Fatal(err)
	}
	if files == 0 {
		t.Fatal("no data files to scan")
	}
}

func TestSecretsAtRest(t *testing.T) {
	dir, key := t.TempDir(), newKey(t)
	s, err := openAt(dir, ring(t, key))
	if err != nil {
		t.Fatal(err)
	}
	ctx := context.Background()
	a, b := secretWebhook(), secretWebhook()
	if err := s.PutWebhook(ctx, a, nil); err != nil {
		t.Fatal(err)
	}
	if err := s.PutWebhookChanges(ctx, b, []*store.HistoryEntry{{Action: "webhook_created", Changes: map[string]any{"url": b.URL}}}); err != nil {
		t.Fatal(err)
	}
	signingKey := []byte("token-signing-key-" + uuid.NewString())
	if v, err := s.Meta(ctx, "auth.signing_key", func() ([]byte, error) { return signingKey, nil }); err != nil || !bytes.Equal(v, signingKey) {
		t.Fatalf("Meta = %q, %v", v, err)
	}
	got, err := s.GetWebhook(ctx, a.WebhookID)
	if err != nil || got.Secret != a.Secret || got.PreviousSecret != a.PreviousSecret || got.Headers["X-Api-Key"] != a.Headers["X-Api-Key"] {
		t.Fatalf("GetWebhook = %+v, %v", got, err)
	}
	if err := s.Close(); err != nil {
		t.Fatal(err)
	}
	assertNoPlaintext(t, dir, append(append(secretsOf(a), secretsOf(b)...), string(signingKey)))

	// Reopened with the key, everything reads back.
	s, err = openAt(dir, ring(t, key))
	if err != nil {
		t.Fatal(err)
	}
	if v, err := s.Meta(ctx, "auth.signing_key", func() ([]byte, error) { return nil, errors.New("regenerated") }); err != nil || !bytes.Equal(v, signingKey) {
		t.Fatalf("Meta after reopen = %q, %v", v, err)
	}
	list, err := s.ListWebhooks(ctx, store.WebhookFilter{CompanyID: 7})
	if err != nil || len(list) != 2 {
		t.Fatalf("ListWebhooks = %d, %v", len(list), err)
	}
	for _, w := range list {
		want := a
		if w.WebhookID == b.WebhookID {
			want = b
		}
		if w.Secret != want.Secret || w.Headers["Authorization"] != want.Headers["Authorization"] || !w.PreviousSecretExpiresAt.Equal(want.PreviousSecretExpiresAt) {
			t.Errorf("webhook %s read back wrong", w.WebhookID)
		}
	}
	all, err := s.ListWebhooks(ctx, store.WebhookFilter{})
	if err != nil || len(all) != 2 || all[0].Secret == "" {
		t.Fatalf("ListWebhooks(all) = %d, %v", len(all), err)
	}
	if err := s.DeleteWebhook(ctx, a.WebhookID, nil); err != nil {
		t.Fatal(err)
	}
	if err := s.Close(); err != nil {
		t.Fatal(err)
	}
}

func TestSecretsWrongOrMissingKey(t *testing.T) {
	dir, key := t.TempDir(), newKey(t)
	s, err := openAt(dir, ring(t, key))
	if err != nil {
		t.Fatal(err)
	}
	if err := s.PutWebhook(context.Background(), secretWebhook(), nil); err != nil {
		t.Fatal(err)
	}
	_ = s.Close()

	other := ring(t, newKey(t))
	_, err = openAt(dir, other)
	if err == nil || !strings.Contains(err.Error(), secretbox.KeyID(key)) || !strings.Contains(err.Error(), other.PrimaryID()) {
		t.Fatalf("wrong key: %v", err)
	}
	// Without keys (a tool): it opens, but no sealed record reads.
	s, err = openAt(dir, nil)
	if err != nil {
		t.Fatal(err)
	}
	if _, err := s.ListWebhooks(context.Background(), store.WebhookFilter{}); !errors.Is(err, store.ErrNoKey) {
		t.Fatalf("no key: %v", err)
	}
	_ = s.Close()
	// The refusals changed nothing: the right key still opens it.
	s, err = openAt(dir, ring(t, key))
	if err != nil {
		t.Fatal(err)
	}
	_ = s.Close()
}

// TestSecretsKeyRotation: start once with the new key primary and the old
// one previous; every webhook is re-sealed, so the old key can go.
func TestSecretsKeyRotation(t *testing.T) {
	dir, oldKey, newK := t.TempDir(), newKey(t), newKey(t)
	s, err := openAt(dir, ring(t, oldKey))
	if err != nil {
		t.Fatal(err)
	}
	w := secretWebhook()
	if err := s.PutWebhook(context.Background(), w, nil); err != nil {
		t.Fatal(err)
	}
	if _, err := s.Meta(context.Background(), "auth.signing_key", func() ([]byte, error) { return []byte("k1"), nil }); err != nil {
		t.Fatal(err)
	}
	_ = s.Close()
	if s, err = openAt(dir, ring(t, newK, oldKey)); err != nil {
		t.Fatal(err)
	}
	_ = s.Close()
	if s, err = openAt(dir, ring(t, newK)); err != nil {
		t.Fatalf("after the rotation start, the new key alone: %v", err)
	}
	got, err := s.GetWebhook(context.Background(), w.WebhookID)
	if err != nil || got.Secret != w.Secret {
		t.Fatalf("after rotation: %v", err)
	}
	if v, err := s.Meta(context.Background(), "auth.signing_key", nil); err != nil || string(v) != "k1" {
		t.Fatalf("meta after rotation: %q, %v", v, err)
	}
	_ = s.Close()
}

// TestSecretsPlainDataIsSealedOnFirstKeyedStart: data written without a key
// (before encryption was configured) is sealed at the first start with one.
func TestSecretsPlainDataIsSealedOnFirstKeyedStart(t *testing.T) {
	dir, key := t.TempDir(), newKey(t)
	s, err := openAt(dir, nil)
	if err != nil {
		t.Fatal(err)
	}
	w := secretWebhook()
	if err := s.PutWebhook(context.Background(), w, nil); err != nil {
		t.Fatal(err)
	}
	if _, err := s.Meta(context.Background(), "api.presign_key", func() ([]byte, error) { return []byte("presign"), nil }); err != nil {
		t.Fatal(err)
	}
	_ = s.Close()
	if s, err = openAt(dir, ring(t, key)); err != nil {
		t.Fatal(err)
	}
	got, err := s.GetWebhook(context.Background(), w.WebhookID)
	if err != nil || got.Secret != w.Secret {
		t.Fatalf("after sealing: %v", err)
	}
	if v, err := s.Meta(context.Background(), "api.presign_key", nil); err != nil || string(v) != "presign" {
		t.Fatalf("meta after sealing: %q %v", v, err)
	}
	_ = s.Close()
	s, err = openAt(dir, nil)
	if err != nil {
		t.Fatal(err)
	}
	if _, err := s.GetWebhook(context.Background(), w.WebhookID); !errors.Is(err, store.ErrNoKey) {
		t.Fatalf("a sealed webhook read without a key: %v", err)
	}
	_ = s.Close()
}
