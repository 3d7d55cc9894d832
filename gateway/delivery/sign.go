package delivery

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
	if w.SignatureFormat != config.SignatureStandard && !inGrace(w, now) {
		// One secret, X-FN-Signature only: the usual case, without the
		// lists below.
		h[HeaderSignature] = signature.Sign(w.Secret, body)
		return
	}
	secrets := SigningSecrets(w, now)
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

// SigningSecrets lists the secrets that sign a delivery sent at now: the
// current one, then the previous one while its grace period lasts.
func SigningSecrets(w *store.Webhook, now time.Time) []string {
	if inGrace(w, now) {
		return []string{w.Secret, w.PreviousSecret}
	}
	return []string{w.Secret}
}

// inGrace reports whether w's previous secret still signs at now.
func inGrace(w *store.Webhook, now time.Time) bool {
	return w.PreviousSecret != "" && w.PreviousSecret != w.Secret && now.Before(w.PreviousSecretExpiresAt)
}
