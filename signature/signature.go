// Package signature computes and verifies the X-FN-Signature header:
// "sha256=" followed by the lowercase hex HMAC-SHA256 of the exact body bytes,
// keyed with the webhook secret's UTF-8 bytes (spec notes §8.2).
//
// It is public and dependency-free so receivers written in Go can verify
// deliveries with the same code the gateway signs them with.
package signature

import (
	"crypto/hmac"
	"crypto/sha256"
	"encoding/hex"
	"strings"
)

// Prefix is the algorithm tag in front of the digest.
const Prefix = "sha256="

// Sign returns the X-FN-Signature value for body under secret.
func Sign(secret string, body []byte) string {
	m := hmac.New(sha256.New, []byte(secret))
	m.Write(body)
	var sum [sha256.Size]byte
	return Prefix + hex.EncodeToString(m.Sum(sum[:0]))
}

// Verify reports whether header carries a valid signature of body under
// secret. header may hold several comma-separated signatures (secret
// rotation); any one valid signature is enough. Comparison is constant time.
func Verify(secret string, body []byte, header string) bool {
	want := Sign(secret, body)
	ok := false
	for _, sig := range strings.Split(header, ",") {
		if hmac.Equal([]byte(strings.TrimSpace(sig)), []byte(want)) {
			ok = true
		}
	}
	return ok
}
