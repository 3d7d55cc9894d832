package store

import (
	"bytes"
	"encoding/json"
	"errors"
	"fmt"
	"maps"

	badger "github.com/dgraph-io/badger/v4"

	"github.com/hookgate/hookgate/secretbox"
)

// Secrets at rest. A webhook record keeps its secret, its previous secret
// and its custom header values (usually credentials) sealed with the
// store's keyring (AES-256-GCM, secretbox), bound to the webhook id, so
// the data folder alone reveals none of them. Everything else stays plain
// JSON: the fields lists and filters read are not secret.

// Errors of OpenBadger about keys.
var (
	// ErrNoKey: the data holds sealed secrets but the store has no keyring.
	ErrNoKey = errors.New("store: the data holds encrypted webhook secrets but no encryption key is configured")
	// ErrKeyMismatch: the data was sealed with a key the keyring lacks, or
	// does not authenticate under the key it names.
	ErrKeyMismatch = errors.New("store: the configured encryption key does not open this data")
)

// webhookRecord is a Webhook as stored: the secret fields cleared and
// sealed into Sealed.
type webhookRecord struct {
	Webhook
	Sealed []byte `json:"sealed,omitempty"`
}

// sealedWebhookFields is the plaintext inside webhookRecord.Sealed.
type sealedWebhookFields struct {
	Secret         string            `json:"s"`
	PreviousSecret string            `json:"p,omitempty"`
	Headers        map[string]string `json:"h,omitempty"`
}

func webhookAAD(webhookID string) []byte { return []byte("hookgate webhook secrets\x00" + webhookID) }

// SealWebhook returns a copy of w without its secret, previous secret and
// header values, and those sealed with keys. Store implementations other
// than Badger use it (with OpenWebhook) to keep the same guarantee.
func SealWebhook(keys *secretbox.Keyring, w *Webhook) (*Webhook, []byte, error) {
	plain, err := json.Marshal(sealedWebhookFields{Secret: w.Secret, PreviousSecret: w.PreviousSecret, Headers: w.Headers})
	if err != nil {
		return nil, nil, err
	}
	sealed, err := keys.Seal(plain, webhookAAD(w.WebhookID))
	if err != nil {
		return nil, nil, err
	}
	c := *w
	c.Secret, c.PreviousSecret, c.Headers = "", "", nil
	return &c, sealed, nil
}

// OpenWebhook restores into w the fields SealWebhook sealed, and says which
// key had sealed them.
func OpenWebhook(keys *secretbox.Keyring, w *Webhook, sealed []byte) (keyID string, err error) {
	plain, keyID, err := keys.Open(sealed, webhookAAD(w.WebhookID))
	if err != nil {
		return keyID, fmt.Errorf("store: webhook %s: %w", w.WebhookID, err)
	}
	var f sealedWebhookFields
	if err := json.Unmarshal(plain, &f); err != nil {
		return keyID, fmt.Errorf("%w: webhook %s: %v", errCorrupt, w.WebhookID, err)
	}
	w.Secret, w.PreviousSecret, w.Headers = f.Secret, f.PreviousSecret, f.Headers
	return keyID, nil
}

// encodeWebhook is the stored form of w: sealed when the store has keys,
// plain JSON otherwise (in-memory stores in tests).
func (s *Badger) encodeWebhook(w *Webhook) ([]byte, error) {
	if s.keys == nil {
		return json.Marshal(w)
	}
	clear, sealed, err := SealWebhook(s.keys, w)
	if err != nil {
		return nil, err
	}
	return json.Marshal(&webhookRecord{Webhook: *clear, Sealed: sealed})
}

// decodeWebhook reads a stored webhook, opening its sealed fields. keyID is
// the key that sealed them ("" for a plain record).
func (s *Badger) decodeWebhook(v []byte) (w *Webhook, keyID string, err error) {
	var r webhookRecord
	if err := json.Unmarshal(v, &r); err != nil {
		return nil, "", err
	}
	w = &r.Webhook
	if r.Sealed == nil {
		return w, "", nil
	}
	if s.keys == nil {
		return nil, "", ErrNoKey
	}
	keyID, err = OpenWebhook(s.keys, w, r.Sealed)
	return w, keyID, err
}

// getWebhook reads one webhook; ErrNotFound when absent.
func (s *Badger) getWebhook(txn *badger.Txn, id string) (*Webhook, error) {
	v, err := getValue(txn, webhookKey(id))
	if err != nil {
		return nil, err
	}
	w, _, err := s.decodeWebhook(v)
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
func (s *Badger) checkKeys(path string) error {
	check, err := s.readMeta(keyCheckName)
	if err != nil && !errors.Is(err, ErrNotFound) {
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
func (s *Badger) keyError(path string, err error) error {
	var unknown *secretbox.UnknownKeyError
	switch {
	case errors.As(err, &unknown):
		return fmt.Errorf("%w: the data at %s was encrypted with key %s, but the configured keys are %s; "+
			"configure the key it was written with (storage.encryption_key, HOOKGATE_ENCRYPTION_KEY or the key file), "+
			"or add it to storage.previous_encryption_keys while rotating; see docs/security.md", ErrKeyMismatch, path, unknown.ID, s.keys.Describe())
	case errors.Is(err, secretbox.ErrDecrypt):
		return fmt.Errorf("%w: the data at %s does not decrypt with the configured key (%s): it was altered or written with another key", ErrKeyMismatch, path, s.keys.Describe())
	}
	return err
}

// resealWebhooks rewrites webhooks not sealed with the primary key, in
// batches small enough for one badger transaction.
func (s *Badger) resealWebhooks() (int, error) {
	stale := map[string]*Webhook{}
	err := s.db.View(func(txn *badger.Txn) error {
		return s.eachWebhook(txn, func(key []byte, w *Webhook, keyID string) error {
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
				v, err := s.encodeWebhook(stale[k])
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

func slicesOfKeys(m map[string]*Webhook) []string {
	out := make([]string, 0, len(m))
	for k := range maps.Keys(m) {
		out = append(out, k)
	}
	return out
}

// readMeta reads a meta value directly (the committer is not running yet).
func (s *Badger) readMeta(name string) ([]byte, error) {
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

func (s *Badger) sealMeta(name string, v []byte) ([]byte, error) {
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
func (s *Badger) openMeta(name string, stored []byte) ([]byte, error) {
	v, _, err := s.openMetaKey(name, stored)
	return v, err
}

func (s *Badger) openMetaKey(name string, stored []byte) ([]byte, string, error) {
	if !bytes.HasPrefix(stored, sealedMetaTag) {
		return stored, "", nil
	}
	if s.keys == nil {
		return nil, "", ErrNoKey
	}
	v, keyID, err := s.keys.Open(stored[len(sealedMetaTag):], metaAAD(name))
	if err != nil {
		return nil, keyID, fmt.Errorf("store: meta %s: %w", name, err)
	}
	return v, keyID, nil
}

// resealMeta seals, with the primary key, every meta value that is plain
// or sealed with another key (the key check has its own format).
func (s *Badger) resealMeta() (int, error) {
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
