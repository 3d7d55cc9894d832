package store

import (
	"encoding/json"
	"errors"
	"fmt"
)

// Secrets at rest, as every driver keeps them. A webhook record keeps its
// secret, its previous secret and its custom header values (usually
// credentials) sealed with the store's keyring (AES-256-GCM, secretbox),
// bound to the webhook id, so the stored data alone reveals none of them.
// Everything else stays plain: the fields lists and filters read are not
// secret.

// Errors of opening a store about keys.
var (
	// ErrNoKey: the data holds sealed secrets but the store has no keyring.
	ErrNoKey = errors.New("store: the data holds encrypted webhook secrets but no encryption key is configured")
	// ErrKeyMismatch: the data was sealed with a key the keyring lacks, or
	// does not authenticate under the key it names.
	ErrKeyMismatch = errors.New("store: the configured encryption key does not open this data")
	// ErrCorrupt: a stored record could not be decoded.
	ErrCorrupt = errors.New("store: corrupt record")
)

// Sealer seals and opens values bound to associated data: a driver's
// *secretbox.Keyring (AES-256-GCM; Open says which of its keys had sealed
// the value). An interface, so that store imports nothing of hookgate's.
type Sealer interface {
	Seal(plaintext, aad []byte) ([]byte, error)
	Open(sealed, aad []byte) (plaintext []byte, keyID string, err error)
}

// sealedWebhookFields is the plaintext SealWebhook seals.
type sealedWebhookFields struct {
	Secret         string            `json:"s"`
	PreviousSecret string            `json:"p,omitempty"`
	Headers        map[string]string `json:"h,omitempty"`
}

func webhookAAD(webhookID string) []byte { return []byte("hookgate webhook secrets\x00" + webhookID) }

// SealWebhook returns a copy of w without its secret, previous secret and
// header values, and those sealed with keys. Store implementations other
// use it (with OpenWebhook) to keep the same guarantee.
func SealWebhook(keys Sealer, w *Webhook) (*Webhook, []byte, error) {
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
func OpenWebhook(keys Sealer, w *Webhook, sealed []byte) (keyID string, err error) {
	plain, keyID, err := keys.Open(sealed, webhookAAD(w.WebhookID))
	if err != nil {
		return keyID, fmt.Errorf("store: webhook %s: %w", w.WebhookID, err)
	}
	var f sealedWebhookFields
	if err := json.Unmarshal(plain, &f); err != nil {
		return keyID, fmt.Errorf("%w: webhook %s: %v", ErrCorrupt, w.WebhookID, err)
	}
	w.Secret, w.PreviousSecret, w.Headers = f.Secret, f.PreviousSecret, f.Headers
	return keyID, nil
}

// webhookRecord is a Webhook as a driver stores it: the secret fields
// cleared and sealed into Sealed (absent without keys).
type webhookRecord struct {
	Webhook
	Sealed []byte `json:"sealed,omitempty"`
}

// EncodeWebhook is the stored form of w, JSON: sealed (SealWebhook, into a
// "sealed" member) when keys is not nil, plain otherwise (tests and tools).
// Badger stores it as the record, PostgreSQL as the doc column, whose
// plain members its SQL filters read.
func EncodeWebhook(keys Sealer, w *Webhook) ([]byte, error) {
	if keys == nil {
		return json.Marshal(w)
	}
	clear, sealed, err := SealWebhook(keys, w)
	if err != nil {
		return nil, err
	}
	return json.Marshal(&webhookRecord{Webhook: *clear, Sealed: sealed})
}

// DecodeWebhook reads what EncodeWebhook wrote, opening its sealed fields;
// keyID is the key that sealed them ("" for a plain record). A sealed
// record without keys is ErrNoKey.
func DecodeWebhook(keys Sealer, v []byte) (w *Webhook, keyID string, err error) {
	var r webhookRecord
	if err := json.Unmarshal(v, &r); err != nil {
		return nil, "", err
	}
	if r.Sealed == nil {
		return &r.Webhook, "", nil
	}
	if keys == nil {
		return nil, "", ErrNoKey
	}
	if keyID, err = OpenWebhook(keys, &r.Webhook, r.Sealed); err != nil {
		return nil, keyID, err
	}
	return &r.Webhook, keyID, nil
}
