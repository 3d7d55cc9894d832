package signature

import (
	"crypto/hmac"
	"crypto/sha256"
	"encoding/base64"
	"errors"
	"strconv"
	"strings"
	"time"
)

// Standard Webhooks (https://www.standardwebhooks.com, spec v1) headers.
// A webhook whose signatureFormat is "standard-webhooks" gets these on top
// of the X-FN-* ones, so receivers can verify with that spec's libraries.
const (
	HeaderStandardID        = "webhook-id"
	HeaderStandardTimestamp = "webhook-timestamp"
	HeaderStandardSignature = "webhook-signature"

	// StandardSecretPrefix starts a Standard Webhooks secret: "whsec_" then
	// the base64 of the HMAC key.
	StandardSecretPrefix = "whsec_"
	standardVersion      = "v1"
)

// DefaultTolerance is how far a webhook-timestamp may be from the
// receiver's clock; the spec's libraries use five minutes.
const DefaultTolerance = 5 * time.Minute

// Errors of VerifyStandard.
var (
	ErrStandardHeaders   = errors.New("signature: missing or malformed webhook-id, webhook-timestamp or webhook-signature")
	ErrStandardTimestamp = errors.New("signature: webhook-timestamp is outside the tolerance")
	ErrStandardNoMatch   = errors.New("signature: no webhook-signature matches")
)

// StandardSecret maps a hookgate webhook secret (a UUID string) to the
// Standard Webhooks secret a receiver gives that spec's libraries:
// "whsec_" + base64(the secret's UTF-8 bytes). The HMAC key is therefore the
// same bytes X-FN-Signature is keyed with, so one stored secret serves both
// formats.
func StandardSecret(secret string) string {
	return StandardSecretPrefix + base64.StdEncoding.EncodeToString([]byte(secret))
}

// StandardKey is the inverse of StandardSecret: the HMAC key of a "whsec_..."
// secret. A secret without the prefix is taken as base64 too, as the spec's
// libraries do.
func StandardKey(whsec string) ([]byte, error) {
	return base64.StdEncoding.DecodeString(strings.TrimPrefix(whsec, StandardSecretPrefix))
}

// SignStandard returns one webhook-signature entry, "v1,<base64 HMAC-SHA256
// of id.timestamp.body>", keyed with the raw secret (not the whsec_ form).
func SignStandard(secret, id string, timestamp time.Time, body []byte) string {
	return signStandardKey([]byte(secret), id, timestamp.Unix(), body)
}

func signStandardKey(key []byte, id string, unix int64, body []byte) string {
	m := hmac.New(sha256.New, key)
	m.Write([]byte(id))
	m.Write([]byte{'.'})
	m.Write(strconv.AppendInt(nil, unix, 10))
	m.Write([]byte{'.'})
	m.Write(body)
	return standardVersion + "," + base64.StdEncoding.EncodeToString(m.Sum(nil))
}

// VerifyStandard checks a Standard Webhooks delivery with the raw secret:
// the timestamp must be within tolerance of now (0 skips that check) and any
// one of the space-separated "v1,..." signatures must match. Comparison is
// constant time.
func VerifyStandard(secret string, body []byte, id, timestamp, sigs string, now time.Time, tolerance time.Duration) error {
	if id == "" || timestamp == "" || sigs == "" {
		return ErrStandardHeaders
	}
	unix, err := strconv.ParseInt(timestamp, 10, 64)
	if err != nil {
		return ErrStandardHeaders
	}
	if tolerance > 0 {
		if d := now.Sub(time.Unix(unix, 0)); d > tolerance || d < -tolerance {
			return ErrStandardTimestamp
		}
	}
	want := []byte(signStandardKey([]byte(secret), id, unix, body))
	ok := false
	for _, s := range strings.Fields(sigs) {
		if hmac.Equal([]byte(s), want) {
			ok = true
		}
	}
	if !ok {
		return ErrStandardNoMatch
	}
	return nil
}
