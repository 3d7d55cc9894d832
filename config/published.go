package config

import (
	"crypto/sha256"
	"encoding/hex"
)

// PublishedSecrets are client secrets printed in hookgate's own files (the
// demo client of gateway.hcl, the README's curl example): anyone can read
// them, so a client that uses one is open to all. TestPublishedSecrets
// keeps the list in step with the files.
var PublishedSecrets = []string{"demo-secret-change-me"}

// UsesPublishedSecret reports whether the client's secret, or the secret
// its secret_sha256 is the hash of, is one of PublishedSecrets.
func (c Client) UsesPublishedSecret() bool {
	for _, s := range PublishedSecrets {
		sum := sha256.Sum256([]byte(s))
		if c.Secret == s || (c.SecretSHA256 != "" && c.SecretSHA256 == hex.EncodeToString(sum[:])) {
			return true
		}
	}
	return false
}
