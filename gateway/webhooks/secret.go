package webhooks

import (
	"time"

	"github.com/hookgate/hookgate/config"
	"github.com/hookgate/hookgate/store"
)

// SignatureFormatOf reads a stored format; webhooks stored before formats
// existed have none and are signed as "fn".
func SignatureFormatOf(w *store.Webhook) string {
	if w.SignatureFormat == "" {
		return config.SignatureFN
	}
	return w.SignatureFormat
}

// RotateSecret records what a change of secret from old to next keeps: the
// old secret stays valid for grace (none when grace is 0). An unchanged
// secret keeps its current grace; an expired one is dropped, so the record
// holds no secret that no longer signs.
func RotateSecret(old, next *store.Webhook, grace time.Duration, now time.Time) {
	switch {
	case old != nil && old.Secret != next.Secret && grace > 0:
		next.PreviousSecret, next.PreviousSecretExpiresAt = old.Secret, now.Add(grace)
	case old != nil && old.Secret != next.Secret,
		!now.Before(next.PreviousSecretExpiresAt):
		next.PreviousSecret, next.PreviousSecretExpiresAt = "", time.Time{}
	}
}
