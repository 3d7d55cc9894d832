package postgres

import (
	"context"
	"errors"
	"fmt"

	"github.com/jackc/pgx/v5"

	"github.com/hookgate/hookgate/secretbox"
	"github.com/hookgate/hookgate/store"
)

// Secrets at rest, as in the Badger store: with a keyring (Options.Keys) a
// webhook's secret, previous secret and custom header values are sealed
// (store.EncodeWebhook: AES-256-GCM, bound to the webhook id) into the
// "sealed" member of its doc; everything else stays plain JSON, so the SQL
// filters (company, status, events) still read it. Without a keyring docs
// are plain JSON, and a database that holds sealed data refuses to open.

// keyCheckName is a meta row holding a sealed known value: written by the
// first keyed open, it lets every later open (every replica) prove its key
// before reading a webhook.
const keyCheckName = "secretbox.check"

var keyCheckPlain = []byte("hookgate encryption key check")

// checkKeys runs at Open. Without a keyring it refuses a database that
// holds sealed secrets (store.ErrNoKey). With one it proves the keyring
// opens the key check (store.ErrKeyMismatch otherwise), then re-seals with
// the primary key every webhook still plain (written before a key was
// configured) or sealed with an older key, so a retired key can be dropped
// after every replica started once with the new one.
func (s *Store) checkKeys(ctx context.Context) error {
	var check []byte
	err := s.pool.QueryRow(ctx, `SELECT value FROM meta WHERE name = $1`, keyCheckName).Scan(&check)
	if err != nil && !errors.Is(err, pgx.ErrNoRows) {
		return err
	}
	if s.keys == nil {
		if check != nil {
			return fmt.Errorf("postgres: %w (storage.encryption_key, HOOKGATE_ENCRYPTION_KEY or the key file; see docs/postgres.md)", store.ErrNoKey)
		}
		return nil
	}
	if check == nil {
		fresh, err := s.keys.Seal(keyCheckPlain, []byte(keyCheckName))
		if err != nil {
			return err
		}
		// Replicas starting together: the first insert wins, the others
		// check their key against it.
		if _, err := s.pool.Exec(ctx, `INSERT INTO meta (name, value) VALUES ($1, $2) ON CONFLICT (name) DO NOTHING`, keyCheckName, fresh); err != nil {
			return err
		}
		if err := s.pool.QueryRow(ctx, `SELECT value FROM meta WHERE name = $1`, keyCheckName).Scan(&check); err != nil {
			return err
		}
	}
	if _, _, err := s.keys.Open(check, []byte(keyCheckName)); err != nil {
		return s.keyError(err)
	}
	n, err := s.resealWebhooks(ctx)
	if err != nil {
		return s.keyError(err)
	}
	if n > 0 {
		s.log.Info("storage: webhook secrets encrypted with the primary key", "webhooks", n, "key", s.keys.PrimaryID())
	}
	if id, _, err := secretbox.SealedKeyID(check); err == nil && id != s.keys.PrimaryID() {
		fresh, err := s.keys.Seal(keyCheckPlain, []byte(keyCheckName))
		if err != nil {
			return err
		}
		if _, err := s.pool.Exec(ctx, `UPDATE meta SET value = $2 WHERE name = $1`, keyCheckName, fresh); err != nil {
			return err
		}
	}
	return nil
}

// keyError explains a key that does not open the data.
func (s *Store) keyError(err error) error {
	var unknown *secretbox.UnknownKeyError
	switch {
	case errors.As(err, &unknown):
		return fmt.Errorf("postgres: %w: the database's webhook secrets were encrypted with key %s, but the configured keys are %s; "+
			"configure the key they were written with (storage.encryption_key, HOOKGATE_ENCRYPTION_KEY or the key file; every replica needs the same key), "+
			"or add it to storage.previous_encryption_keys while rotating; see docs/security.md", store.ErrKeyMismatch, unknown.ID, s.keys.Describe())
	case errors.Is(err, secretbox.ErrDecrypt):
		return fmt.Errorf("postgres: %w: the database's webhook secrets do not decrypt with the configured key (%s): altered, or written with another key",
			store.ErrKeyMismatch, s.keys.Describe())
	}
	return err
}

// resealWebhooks rewrites the webhooks not sealed with the primary key.
// Each update applies only if the doc is unchanged since it was read, so a
// replica's concurrent write is never overwritten with an older value.
func (s *Store) resealWebhooks(ctx context.Context) (int, error) {
	rows, err := s.pool.Query(ctx, `SELECT webhook_id, doc FROM webhooks`)
	if err != nil {
		return 0, err
	}
	type stale struct {
		id       string
		old, new []byte
	}
	var todo []stale
	var id string
	var doc []byte
	_, err = pgx.ForEachRow(rows, []any{&id, &doc}, func() error {
		w, keyID, err := store.DecodeWebhook(s.sealer, doc)
		if err != nil {
			return err
		}
		if keyID == s.keys.PrimaryID() {
			return nil
		}
		nd, err := store.EncodeWebhook(s.sealer, w)
		if err != nil {
			return err
		}
		todo = append(todo, stale{id, append([]byte(nil), doc...), nd})
		return nil
	})
	if err != nil {
		return 0, err
	}
	n := 0
	for _, st := range todo {
		tag, err := s.pool.Exec(ctx, `UPDATE webhooks SET doc = $2 WHERE webhook_id = $1 AND doc = $3::jsonb`, st.id, st.new, st.old)
		if err != nil {
			return n, err
		}
		n += int(tag.RowsAffected())
	}
	return n, nil
}
