// Package secretbox seals small secrets for storage with AES-256-GCM under a
// keyring: one primary key encrypts every new write, and any key of the
// ring decrypts, so keys can be rotated without a flag day.
//
// A sealed value names the key that sealed it by a key id derived from the
// key itself (a hash), so no id has to be configured and a wrong key is told
// apart from corrupt data:
//
//	sealed = 0x01 | len(id) | id | nonce (12) | AES-GCM ciphertext+tag
//
// Store implementations use it for webhook secrets and custom header
// values; callers pass associated data (e.g. the record's id) so a sealed
// value copied onto another record does not open.
package secretbox

import (
	"crypto/aes"
	"crypto/cipher"
	"crypto/rand"
	"crypto/sha256"
	"encoding/base64"
	"encoding/hex"
	"errors"
	"fmt"
	"slices"
	"strings"
)

// KeySize is the length of a key: AES-256.
const KeySize = 32

const (
	formatVersion = 1
	nonceSize     = 12
)

// Errors of Open. UnknownKeyError is returned for a value sealed with a key
// the ring does not hold.
var (
	ErrCorrupt = errors.New("secretbox: sealed value is malformed")
	ErrDecrypt = errors.New("secretbox: authentication failed (wrong key, altered data or wrong associated data)")
)

// UnknownKeyError is a sealed value whose key is not in the ring.
type UnknownKeyError struct {
	ID string // the key id the value was sealed with
}

func (e *UnknownKeyError) Error() string {
	return "secretbox: sealed with key " + e.ID + ", which is not configured"
}

// Keyring holds the primary key and any previous keys.
type Keyring struct {
	primary string
	ids     []string // primary first
	aeads   map[string]cipher.AEAD
}

// New builds a keyring: primary seals, primary and previous open. Duplicate
// keys are ignored, so a previous key equal to the primary is harmless.
func New(primary []byte, previous ...[]byte) (*Keyring, error) {
	k := &Keyring{aeads: map[string]cipher.AEAD{}}
	for i, key := range append([][]byte{primary}, previous...) {
		if len(key) != KeySize {
			return nil, fmt.Errorf("secretbox: key %d has %d bytes, want %d", i, len(key), KeySize)
		}
		id := KeyID(key)
		if _, dup := k.aeads[id]; dup {
			continue
		}
		block, err := aes.NewCipher(key)
		if err != nil {
			return nil, err
		}
		aead, err := cipher.NewGCM(block)
		if err != nil {
			return nil, err
		}
		k.aeads[id] = aead
		k.ids = append(k.ids, id)
	}
	k.primary = k.ids[0]
	return k, nil
}

// KeyID is the public name of a key: 8 hex digits of a domain-separated
// SHA-256 of it. It says which key sealed a value without revealing it.
func KeyID(key []byte) string {
	h := sha256.New()
	h.Write([]byte("hookgate secretbox key id\x00"))
	h.Write(key)
	return hex.EncodeToString(h.Sum(nil)[:4])
}

// PrimaryID is the id of the key new values are sealed with.
func (k *Keyring) PrimaryID() string { return k.primary }

// IDs lists the ring's key ids, primary first.
func (k *Keyring) IDs() []string { return slices.Clone(k.ids) }

// Describe lists the ids for messages: "1a2b3c4d (primary), 5e6f7a8b".
func (k *Keyring) Describe() string {
	parts := make([]string, len(k.ids))
	for i, id := range k.ids {
		parts[i] = id
		if i == 0 {
			parts[i] += " (primary)"
		}
	}
	return strings.Join(parts, ", ")
}

// Seal encrypts plaintext with the primary key, binding aad.
func (k *Keyring) Seal(plaintext, aad []byte) ([]byte, error) {
	aead := k.aeads[k.primary]
	out := make([]byte, 0, 2+len(k.primary)+nonceSize+len(plaintext)+aead.Overhead())
	out = append(out, formatVersion, byte(len(k.primary)))
	out = append(out, k.primary...)
	nonce := make([]byte, nonceSize)
	if _, err := rand.Read(nonce); err != nil {
		return nil, err
	}
	out = append(out, nonce...)
	return aead.Seal(out, nonce, plaintext, aad), nil
}

// Open decrypts a value sealed by any key of the ring and says which key
// that was (so callers can re-seal values of a retired key).
func (k *Keyring) Open(sealed, aad []byte) (plaintext []byte, keyID string, err error) {
	id, rest, err := SealedKeyID(sealed)
	if err != nil {
		return nil, "", err
	}
	aead, ok := k.aeads[id]
	if !ok {
		return nil, id, &UnknownKeyError{ID: id}
	}
	if len(rest) < nonceSize+aead.Overhead() {
		return nil, id, ErrCorrupt
	}
	plain, err := aead.Open(nil, rest[:nonceSize], rest[nonceSize:], aad)
	if err != nil {
		return nil, id, ErrDecrypt
	}
	return plain, id, nil
}

// SealedKeyID returns the key id a value was sealed with, and what follows it.
func SealedKeyID(sealed []byte) (id string, rest []byte, err error) {
	if len(sealed) < 2 || sealed[0] != formatVersion || len(sealed) < 2+int(sealed[1]) {
		return "", nil, ErrCorrupt
	}
	n := int(sealed[1])
	return string(sealed[2 : 2+n]), sealed[2+n:], nil
}

// GenerateKey returns a new random key.
func GenerateKey() ([]byte, error) {
	key := make([]byte, KeySize)
	_, err := rand.Read(key)
	return key, err
}

// EncodeKey is the text form of a key: standard base64 (44 characters).
func EncodeKey(key []byte) string { return base64.StdEncoding.EncodeToString(key) }

// ParseKey reads a key written as base64 (standard or URL alphabet, padded
// or not) or as 64 hex digits; surrounding space is ignored. The message
// never repeats the value: it is a key.
func ParseKey(s string) ([]byte, error) {
	s = strings.TrimSpace(s)
	if len(s) == 2*KeySize {
		if b, err := hex.DecodeString(s); err == nil {
			return b, nil
		}
	}
	for _, enc := range []*base64.Encoding{base64.StdEncoding, base64.RawStdEncoding, base64.URLEncoding, base64.RawURLEncoding} {
		if b, err := enc.DecodeString(s); err == nil {
			if len(b) != KeySize {
				return nil, fmt.Errorf("secretbox: the key decodes to %d bytes, want %d (generate one with `openssl rand -base64 32`)", len(b), KeySize)
			}
			return b, nil
		}
	}
	return nil, fmt.Errorf("secretbox: the key is neither base64 nor 64 hex digits (generate one with `openssl rand -base64 32`)")
}
