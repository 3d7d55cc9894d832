package badger

import (
	"bytes"
	"errors"
	"fmt"
	"maps"

	badger "github.com/dgraph-io/badger/v4"

	"github.com/hookgate/hookgate/secretbox"
	"github.com/hookgate/hookgate/store"
)

// Secrets at rest. A webhook record keeps its secret, its previous secret
// and its custom header values (usually credentials) sealed with the
// store's keyring (store.EncodeWebhook, store/secrets.go), bound to the
// webhook id, so the data folder alone reveals none of them. Everything
// else stays plain JSON: the fields lists and filters read are not secret.

// getWebhook reads one webhook; ErrNotFound when absent.
func (s *Store) getWebhook(txn *badger.Txn, id string) (*store.Webhook, error) {
	v, err := getValue(txn, webhookKey(id))
	if err != nil {
		return nil, err
	}
	w, _, err := store.DecodeWebhook(s.sealer, v)
	return w, err
}

// keyCheck is a sealed known value kept in meta, so a wrong key is reported
// at start even before any webhook is read.
var (
	keyCheckName  = "secretbox.check"
	keyCheckPlain = []byte("hookgate encryption key check")
)

// checkKeys runs at open with a keyring, before the committer starts. It proves the keyring
// opens what the data was sealed with (a clear error otherwise), and
// re-seals with the primary key every webhook sealed with an older key or
// still in plain text (data written before encryption was configured), so a
// retired key can be dropped after one start with the new one.
func (s *Store) checkKeys(path string) error {
	check, err := s.readMeta(keyCheckName)
	if err != nil && !errors.Is(err, store.ErrNotFound) {
		return err
	}
	if s.keys == nil {
		// Tools that open the store without keys (benchmark prefill) may
		// still queue deliveries; reading a sealed record fails with
		// ErrNoKey. The gateway always opens with keys, so it checks here.
		return nil
	}
	if check != nil {
		if _, _, err := s.keys.Open(check, []byte(keyCheckName)); err != nil {
			return s.keyError(path, err)
		}
	}
	n, err := s.resealWebhooks()
	if err != nil {
		return s.keyError(path, err)
	}
	if _, err := s.resealMeta(); err != nil {
		return s.keyError(path, err)
	}
	if n > 0 {
		s.log.Info("storage: webhook secrets re-encrypted with the primary key", "webhooks", n, "key", s.keys.PrimaryID())
	}
	fresh, err := s.keys.Seal(keyCheckPlain, []byte(keyCheckName))
	if err != nil {
		return err
	}
	return s.db.Update(func(txn *badger.Txn) error { return txn.Set(metaKey(keyCheckName), fresh) })
}

// keyError explains a key that does not open the data.
func (s *Store) keyError(path string, err error) error {
	var unknown *secretbox.UnknownKeyError
	switch {
	case errors.As(err, &unknown):
		return fmt.Errorf("%w: the data at %s was encrypted with key %s, but the configured keys are %s; "+
			"configure the key it was written with (storage.encryption_key, HOOKGATE_ENCRYPTION_KEY or the key file), "+
			"or add it to storage.previous_encryption_keys while rotating; see docs/security.md", store.ErrKeyMismatch, path, unknown.ID, s.keys.Describe())
	case errors.Is(err, secretbox.ErrDecrypt):
		return fmt.Errorf("%w: the data at %s does not decrypt with the configured key (%s): it was altered or written with another key", store.ErrKeyMismatch, path, s.keys.Describe())
	}
	return err
}

// resealWebhooks rewrites webhooks not sealed with the primary key, in
// batches small enough for one badger transaction.
func (s *Store) resealWebhooks() (int, error) {
	stale := map[string]*store.Webhook{}
	err := s.db.View(func(txn *badger.Txn) error {
		return s.eachWebhook(txn, func(key []byte, w *store.Webhook, keyID string) error {
			if keyID != s.keys.PrimaryID() {
				stale[string(key)] = w // string() copies the key
			}
			return nil
		})
	})
	if err != nil || len(stale) == 0 {
		return 0, err
	}
	keys := slicesOfKeys(stale)
	const batch = 256
	for i := 0; i < len(keys); i += batch {
		err := s.db.Update(func(txn *badger.Txn) error {
			for _, k := range keys[i:min(i+batch, len(keys))] {
				v, err := store.EncodeWebhook(s.sealer, stale[k])
				if err != nil {
					return err
				}
				if err := txn.Set([]byte(k), v); err != nil {
					return err
				}
			}
			return nil
		})
		if err != nil {
			return 0, err
		}
	}
	return len(stale), nil
}

func slicesOfKeys(m map[string]*store.Webhook) []string {
	out := make([]string, 0, len(m))
	for k := range maps.Keys(m) {
		out = append(out, k)
	}
	return out
}

// readMeta reads a meta value directly (the committer is not running yet).
func (s *Store) readMeta(name string) ([]byte, error) {
	var v []byte
	err := s.db.View(func(txn *badger.Txn) error {
		var err error
		v, err = getValue(txn, metaKey(name))
		return err
	})
	return v, err
}

// Meta values are the gateway's own keys (the token signing key, the
// pre-signed URL key): with them a copy of the data folder could forge API
// tokens, so they are sealed like webhook secrets. A sealed value starts
// with sealedMetaTag; values without it were written before a keyring was
// configured and are sealed at the next keyed start (resealMeta).
var sealedMetaTag = []byte("\x00hookgate-sealed\x01")

func metaAAD(name string) []byte { return []byte("hookgate meta\x00" + name) }

func (s *Store) sealMeta(name string, v []byte) ([]byte, error) {
	if s.keys == nil {
		return v, nil
	}
	sealed, err := s.keys.Seal(v, metaAAD(name))
	if err != nil {
		return nil, err
	}
	return append(append([]byte{}, sealedMetaTag...), sealed...), nil
}

// openMeta returns the plain value of a stored meta value, and which key
// sealed it ("" when plain).
func (s *Store) openMeta(name string, stored []byte) ([]byte, error) {
	v, _, err := s.openMetaKey(name, stored)
	return v, err
}

func (s *Store) openMetaKey(name string, stored []byte) ([]byte, string, error) {
	if !bytes.HasPrefix(stored, sealedMetaTag) {
		return stored, "", nil
	}
	if s.keys == nil {
		return nil, "", store.ErrNoKey
	}
	v, keyID, err := s.keys.Open(stored[len(sealedMetaTag):], metaAAD(name))
	if err != nil {
		return nil, keyID, fmt.Errorf("store: meta %s: %w", name, err)
	}
	return v, keyID, nil
}

// resealMeta seals, with the primary key, every meta value that is plain
// or sealed with another key (the key check has its own format).
func (s *Store) resealMeta() (int, error) {
	type item struct {
		key  []byte
		name string
		v    []byte
	}
	var stale []item
	err := s.db.View(func(txn *badger.Txn) error {
		opts := badger.DefaultIteratorOptions
		opts.Prefix = []byte(pMeta)
		it := txn.NewIterator(opts)
		defer it.Close()
		for it.Rewind(); it.Valid(); it.Next() {
			name := string(it.Item().Key()[len(pMeta):])
			if name == keyCheckName {
				continue
			}
			stored, err := it.Item().ValueCopy(nil)
			if err != nil {
				return err
			}
			v, keyID, err := s.openMetaKey(name, stored)
			if err != nil {
				return err
			}
			if keyID != s.keys.PrimaryID() {
				stale = append(stale, item{it.Item().KeyCopy(nil), name, v})
			}
		}
		return nil
	})
	if err != nil || len(stale) == 0 {
		return 0, err
	}
	return len(stale), s.db.Update(func(txn *badger.Txn) error {
		for _, it := range stale {
			sealed, err := s.sealMeta(it.name, it.v)
			if err != nil {
				return err
			}
			if err := txn.Set(it.key, sealed); err != nil {
				return err
			}
		}
		return nil
	})
}
