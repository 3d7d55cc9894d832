package config

import (
	"fmt"
	"net/url"
	"path/filepath"
	"slices"
	"strings"
	"time"

	"github.com/hashicorp/hcl/v2"

	"github.com/hookgate/hookgate/plugins/sdk/netguard"
	"github.com/hookgate/hookgate/secretbox"
)

// Signature formats of a webhook.
const (
	SignatureFN       = "fn"                // X-FN-Signature only (the spec's)
	SignatureStandard = "standard-webhooks" // X-FN-Signature and the Standard Webhooks headers
)

// SignatureFormats lists the valid signature formats.
var SignatureFormats = []string{SignatureFN, SignatureStandard}

// MaxSecretGracePeriod bounds how long a replaced secret may stay valid
// (issue 6: at most 7 days), so a leaked secret cannot be kept alive by a
// rotation.
const MaxSecretGracePeriod = 7 * 24 * time.Hour

// validateEncryption checks the storage keys and places the key file: by
// default beside the data folder (Path + ".key"), and never inside it,
// because a copy of the data folder must not carry the key that opens it.
// Key values are never echoed.
func (d *decoder) validateEncryption(cfg *Config) {
	s := &cfg.Storage
	file := hcl.Range{Filename: cfg.File}
	if s.EncryptionKey != "" {
		if _, err := secretbox.ParseKey(s.EncryptionKey); err != nil {
			d.errorf(d.rangeOf("storage.encryption_key", file), "invalid storage.encryption_key", "%s", err)
		}
	}
	keep := s.PreviousEncryptionKeys[:0]
	for i, k := range s.PreviousEncryptionKeys {
		if strings.TrimSpace(k) == "" {
			continue // env("OLD_KEY") that is unset: nothing to rotate from
		}
		if _, err := secretbox.ParseKey(k); err != nil {
			d.errorf(d.rangeOf("storage.previous_encryption_keys", file), fmt.Sprintf("invalid storage.previous_encryption_keys[%d]", i), "%s", err)
		}
		keep = append(keep, k)
	}
	s.PreviousEncryptionKeys = keep
	if s.EncryptionKey == "" && s.Path != "" && within(s.Path, s.KeyFile()) {
		d.errorf(d.rangeOf("storage.encryption_key_file", file), "storage.encryption_key_file is inside storage.path",
			"a copy of the data folder would carry the key that decrypts it; keep the key file outside %q", s.Path)
	}
	if s := cfg.Delivery.SecretGracePeriod; s > MaxSecretGracePeriod {
		d.errorf(d.rangeOf("delivery.secret_grace_period", file), fmt.Sprintf("delivery.secret_grace_period %s is too long", s),
			"at most %s (7 days)", MaxSecretGracePeriod)
	}
}

// KeyFile is where the storage encryption key is read from (and created on
// first start) when EncryptionKey is empty: EncryptionKeyFile, or by
// default the data folder's path plus ".key" ("./data" → "data.key").
func (s Storage) KeyFile() string {
	if s.EncryptionKeyFile != "" {
		return s.EncryptionKeyFile
	}
	return filepath.Clean(s.Path) + ".key"
}

// within reports whether path is dir or inside it.
func within(dir, path string) bool {
	a, err1 := filepath.Abs(dir)
	b, err2 := filepath.Abs(path)
	if err1 != nil || err2 != nil {
		return false
	}
	rel, err := filepath.Rel(a, b)
	return err == nil && rel != ".." && !strings.HasPrefix(rel, ".."+string(filepath.Separator))
}

// checkSigning validates signature_format and secret_grace_period.
func (d *decoder) checkSigning(w *Webhook, p string, at func(string) hcl.Range) {
	if w.SignatureFormat == "" {
		w.SignatureFormat = SignatureFN
	}
	if !slices.Contains(SignatureFormats, w.SignatureFormat) {
		d.errorf(at("signature_format"), fmt.Sprintf("invalid signature_format %q for %s", w.SignatureFormat, p),
			"valid formats: %s%s", quoteList(SignatureFormats), suggest(w.SignatureFormat, SignatureFormats))
	}
	if g := w.SecretGracePeriod; g != nil && *g > MaxSecretGracePeriod {
		d.errorf(at("secret_grace_period"), fmt.Sprintf("secret_grace_period %s of %s is too long", *g, p), "at most %s (7 days)", MaxSecretGracePeriod)
	}
}

// checkDestination refuses a URL whose host is a literal non-public address
// (or an ambiguous numeric spelling of one) unless
// delivery.allow_private_networks: the same netguard rules the sinks apply
// when they dial, told at load time instead of at the first delivery.
// Names are judged when dialled, after DNS.
func (d *decoder) checkDestination(cfg *Config, w *Webhook, p string, rng hcl.Range) {
	u, err := url.Parse(placeHold.ReplaceAllString(w.URL, "x"))
	if err != nil || u.Host == "" || (u.Scheme != "https" && u.Scheme != "http") {
		return // reported by checkWebhookURL
	}
	// A placeholder in the host became "x": a name, judged when dialled.
	policy := netguard.Policy{AllowHTTP: true, AllowPrivateNetworks: cfg.Delivery.AllowPrivateNetworks}
	if err := policy.CheckURL(u); err != nil {
		d.errorf(rng, "url of "+p+" is not an allowed destination",
			"%s; set allow_private_networks = true in the delivery block to deliver to private addresses", strings.TrimPrefix(err.Error(), "refused: "))
	}
}
