package gateway

import (
	"strconv"
	"strings"
	"time"

	"github.com/hookgate/hookgate/config"
	"github.com/hookgate/hookgate/signature"
	"github.com/hookgate/hookgate/store"
)

// sign sets the signature headers of one attempt on h: X-FN-Signature
// always and, for a "standard-webhooks" webhook, webhook-id,
// webhook-timestamp and webhook-signature. During a secret's grace period
// both secrets sign, newest first, so a receiver verifies with whichever
// it holds (docs/security.md).
func sign(h map[string]string, w *store.Webhook, deliveryID string, now time.Time, body []byte) {
	secrets := signingSecrets(w, now)
	fn := make([]string, len(secrets))
	for i, s := range secrets {
		fn[i] = signature.Sign(s, body)
	}
	h[HeaderSignature] = strings.Join(fn, ",")
	if w.SignatureFormat != config.SignatureStandard {
		return
	}
	std := make([]string, len(secrets))
	for i, s := range secrets {
		std[i] = signature.SignStandard(s, deliveryID, now, body)
	}
	// webhook-id is the delivery uuid: the same on every retry, which is
	// what the spec's receivers de-duplicate on.
	h[signature.HeaderStandardID] = deliveryID
	h[signature.HeaderStandardTimestamp] = strconv.FormatInt(now.Unix(), 10)
	h[signature.HeaderStandardSignature] = strings.Join(std, " ")
}

// signingSecrets lists the secrets that sign a delivery sent at now: the
// current one, then the previous one while its grace period lasts.
func signingSecrets(w *store.Webhook, now time.Time) []string {
	if w.PreviousSecret != "" && w.PreviousSecret != w.Secret && now.Before(w.PreviousSecretExpiresAt) {
		return []string{w.Secret, w.PreviousSecret}
	}
	return []string{w.Secret}
}

// rotateSecret records what a change of secret from old to next keeps: the
// old secret stays valid for grace (none when grace is 0). An unchanged
// secret keeps its current grace; an expired one is dropped, so the record
// holds no secret that no longer signs.
func rotateSecret(old, next *store.Webhook, grace time.Duration, now time.Time) {
	switch {
	case old != nil && old.Secret != next.Secret && grace > 0:
		next.PreviousSecret, next.PreviousSecretExpiresAt = old.Secret, now.Add(grace)
	case old != nil && old.Secret != next.Secret,
		!now.Before(next.PreviousSecretExpiresAt):
		next.PreviousSecret, next.PreviousSecretExpiresAt = "", time.Time{}
	}
}
