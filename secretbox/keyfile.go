package secretbox

import (
	"errors"
	"fmt"
	"os"
	"path/filepath"
)

// ReadKeyFile reads a key file: the key as ParseKey accepts it (the file
// CreateKeyFile writes holds base64 and a newline). A missing file is an
// error satisfying errors.Is(err, fs.ErrNotExist).
func ReadKeyFile(path string) ([]byte, error) {
	b, err := os.ReadFile(path)
	if err != nil {
		return nil, err
	}
	key, err := ParseKey(string(b))
	if err != nil {
		return nil, fmt.Errorf("key file %s: %w", path, err)
	}
	return key, nil
}

// CreateKeyFile writes key to a new file at path with mode 0600, creating
// its folder (0700) if needed. It never replaces an existing file (the
// error then satisfies errors.Is(err, fs.ErrExist)): overwriting a key file
// would make the data sealed with it unreadable. The file appears whole or
// not at all (a temporary file linked into place).
func CreateKeyFile(path string, key []byte) error {
	if err := os.MkdirAll(filepath.Dir(path), 0o700); err != nil {
		return fmt.Errorf("secretbox: creating the folder of key file %s: %w", path, err)
	}
	tmp, err := os.CreateTemp(filepath.Dir(path), ".hookgate-key-*")
	if err != nil {
		return fmt.Errorf("secretbox: creating key file %s: %w", path, err)
	}
	defer os.Remove(tmp.Name())
	_, werr := tmp.WriteString(EncodeKey(key) + "\n")
	// CreateTemp makes the file 0600 already; Chmod states it.
	if err := errors.Join(werr, tmp.Chmod(0o600), tmp.Sync(), tmp.Close()); err != nil {
		return fmt.Errorf("secretbox: writing key file %s: %w", path, err)
	}
	if err := os.Link(tmp.Name(), path); err != nil {
		return fmt.Errorf("secretbox: creating key file %s: %w", path, err)
	}
	return nil
}
