package secretbox

import (
	"bytes"
	"errors"
	"io/fs"
	"os"
	"path/filepath"
	"strings"
	"testing"
)

func mustKey(t *testing.T) []byte {
	t.Helper()
	k, err := GenerateKey()
	if err != nil {
		t.Fatal(err)
	}
	return k
}

func TestSealOpenAndRotation(t *testing.T) {
	oldKey, newKey := mustKey(t), mustKey(t)
	oldRing, err := New(oldKey)
	if err != nil {
		t.Fatal(err)
	}
	plain, aad := []byte("01999f51-5c66-4449-b441-6b4a053fee6a"), []byte("webhook A")
	sealed, err := oldRing.Seal(plain, aad)
	if err != nil {
		t.Fatal(err)
	}
	if bytes.Contains(sealed, plain) {
		t.Fatal("plaintext visible in the sealed value")
	}
	// Rotation: the new key is primary, the old one still opens.
	ring, err := New(newKey, oldKey)
	if err != nil {
		t.Fatal(err)
	}
	got, id, err := ring.Open(sealed, aad)
	if err != nil || !bytes.Equal(got, plain) || id != KeyID(oldKey) {
		t.Fatalf("Open = %q, %s, %v", got, id, err)
	}
	resealed, _ := ring.Seal(plain, aad)
	if id, _, _ := SealedKeyID(resealed); id != ring.PrimaryID() || id != KeyID(newKey) {
		t.Fatalf("sealed with %s, want the primary %s", id, ring.PrimaryID())
	}
	// Other associated data, altered bytes, a missing key.
	if _, _, err := ring.Open(sealed, []byte("webhook B")); !errors.Is(err, ErrDecrypt) {
		t.Errorf("other aad: %v", err)
	}
	bad := bytes.Clone(sealed)
	bad[len(bad)-1] ^= 1
	if _, _, err := ring.Open(bad, aad); !errors.Is(err, ErrDecrypt) {
		t.Errorf("altered: %v", err)
	}
	newOnly, _ := New(newKey)
	var unknown *UnknownKeyError
	if _, _, err := newOnly.Open(sealed, aad); !errors.As(err, &unknown) || unknown.ID != KeyID(oldKey) {
		t.Errorf("unknown key: %v", err)
	}
	if _, _, err := ring.Open([]byte{9, 9}, aad); !errors.Is(err, ErrCorrupt) {
		t.Errorf("corrupt: %v", err)
	}
	if !strings.Contains(ring.Describe(), ring.PrimaryID()+" (primary)") {
		t.Errorf("Describe = %s", ring.Describe())
	}
}

func TestParseKey(t *testing.T) {
	k := mustKey(t)
	for _, s := range []string{EncodeKey(k), " " + EncodeKey(k) + "\n", strings.TrimRight(EncodeKey(k), "="), hexOf(k)} {
		got, err := ParseKey(s)
		if err != nil || !bytes.Equal(got, k) {
			t.Errorf("ParseKey(%q) = %x, %v", s, got, err)
		}
	}
	for _, s := range []string{"", "short", EncodeKey(k[:16]), strings.Repeat("z", 64)} {
		if _, err := ParseKey(s); err == nil {
			t.Errorf("ParseKey(%q) accepted", s)
		} else if s != "" && strings.Contains(err.Error(), s) {
			t.Errorf("the error echoes the key: %v", err)
		}
	}
	if _, err := New(k[:10]); err == nil {
		t.Error("a 10-byte key was accepted")
	}
}

func hexOf(b []byte) string {
	const digits = "0123456789abcdef"
	out := make([]byte, 0, 2*len(b))
	for _, c := range b {
		out = append(out, digits[c>>4], digits[c&15])
	}
	return string(out)
}

func TestKeyFile(t *testing.T) {
	path := filepath.Join(t.TempDir(), "conf", "hookgate.key")
	if _, err := ReadKeyFile(path); !errors.Is(err, fs.ErrNotExist) {
		t.Fatalf("missing file: %v", err)
	}
	key := mustKey(t)
	if err := CreateKeyFile(path, key); err != nil {
		t.Fatal(err)
	}
	st, err := os.Stat(path)
	if err != nil || st.Mode().Perm() != 0o600 {
		t.Fatalf("mode %v, %v", st.Mode(), err)
	}
	if got, err := ReadKeyFile(path); err != nil || !bytes.Equal(got, key) {
		t.Fatalf("ReadKeyFile = %v", err)
	}
	if err := CreateKeyFile(path, mustKey(t)); !errors.Is(err, fs.ErrExist) {
		t.Fatalf("an existing key file was replaced: %v", err)
	}
	if got, _ := ReadKeyFile(path); !bytes.Equal(got, key) {
		t.Fatal("the key changed")
	}
	if err := os.WriteFile(path, []byte("garbage"), 0o600); err != nil {
		t.Fatal(err)
	}
	if _, err := ReadKeyFile(path); err == nil || !strings.Contains(err.Error(), path) {
		t.Fatalf("a broken key file: %v", err)
	}
}
