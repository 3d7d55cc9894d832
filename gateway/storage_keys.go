package gateway

import (
	"errors"
	"fmt"
	"io/fs"
	"os"

	"github.com/hookgate/hookgate/config"
	"github.com/hookgate/hookgate/secretbox"
	"github.com/hookgate/hookgate/store"
)

// storageKeys is the keyring that seals webhook secrets and custom header
// values in the data folder (docs/security.md), and, when the key is new,
// the key file still to write once the data is known to accept it.
type storageKeys struct {
	ring        *secretbox.Keyring
	key         []byte // the primary key
	pendingFile string // non-empty: the key was generated, to be kept in this file
	written     bool   // the key file has been written
}

// loadStorageKeys reads storage.encryption_key, or the key file; a missing
// key file means a first start, so a key is generated. With an empty data
// folder the file is written at once (before anything is sealed with the
// key); otherwise only after the store has accepted the key (persist), so
// a lost key file in front of encrypted data is an error, not a new key.
func loadStorageKeys(s config.Storage) (*storageKeys, error) { return readStorageKeys(s, true) }

// readStorageKeys is loadStorageKeys; with generate false a missing key
// file means no key (nil, nil) instead of a new one. The PostgreSQL store
// loads its keys so: replicas do not share a data folder, so a key each
// one generated for itself would seal what the others cannot open.
func readStorageKeys(s config.Storage, generate bool) (*storageKeys, error) {
	k := &storageKeys{}
	var err error
	if s.EncryptionKey != "" {
		if k.key, err = secretbox.ParseKey(s.EncryptionKey); err != nil {
			return nil, fmt.Errorf("storage.encryption_key: %w", err)
		}
	} else {
		k.key, err = secretbox.ReadKeyFile(s.KeyFile())
		switch {
		case errors.Is(err, fs.ErrNotExist) && !generate:
			return nil, nil
		case errors.Is(err, fs.ErrNotExist):
			if k.key, err = secretbox.GenerateKey(); err != nil {
				return nil, err
			}
			k.pendingFile = s.KeyFile()
			if isEmptyDir(s.Path) {
				// A first start: the key file is written before any data
				// is sealed with the key, so no data can outlive its key.
				if err := k.writeFile(); err != nil {
					return nil, err
				}
			}
		case err != nil:
			return nil, fmt.Errorf("storage encryption key: %w", err)
		}
	}
	previous := make([][]byte, 0, len(s.PreviousEncryptionKeys))
	for i, p := range s.PreviousEncryptionKeys {
		key, err := secretbox.ParseKey(p)
		if err != nil {
			return nil, fmt.Errorf("storage.previous_encryption_keys[%d]: %w", i, err)
		}
		previous = append(previous, key)
	}
	if k.ring, err = secretbox.New(k.key, previous...); err != nil {
		return nil, err
	}
	return k, nil
}

// openError explains a store that refused the keys: with a generated key
// the likely cause is a key file that went missing.
func (k *storageKeys) openError(err error) error {
	if k.pendingFile != "" && errors.Is(err, store.ErrKeyMismatch) {
		return fmt.Errorf("%w (the key file %s does not exist, so a new key was tried: restore the key file, or set storage.encryption_key)", err, k.pendingFile)
	}
	return err
}

func (k *storageKeys) writeFile() error {
	if err := secretbox.CreateKeyFile(k.pendingFile, k.key); err != nil {
		return fmt.Errorf("saving the new storage encryption key: %w", err)
	}
	k.written = true
	return nil
}

// isEmptyDir: the folder is absent or holds nothing.
func isEmptyDir(path string) bool {
	entries, err := os.ReadDir(path)
	return errors.Is(err, fs.ErrNotExist) || (err == nil && len(entries) == 0)
}

// persist writes a generated key to its file (mode 0600) once the store
// accepted it, unless done already, and says so in the log: the operator
// must back it up apart from the data folder.
func (k *storageKeys) persist(g *Gateway) error {
	if k.pendingFile == "" {
		return nil
	}
	if !k.written {
		if err := k.writeFile(); err != nil {
			return err
		}
	}
	g.log.Warn("generated the storage encryption key that protects webhook secrets at rest; back it up apart from the data folder: without it the webhooks cannot be read",
		"key_file", k.pendingFile, "key_id", k.ring.PrimaryID())
	return nil
}
