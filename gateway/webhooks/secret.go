package webhooks

import (
	"context"
	"errors"
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

// Secrets are what verifies a webhook's deliveries: its secret and, during
// a rotation's grace period, the previous one, which signs beside it until
// PreviousUntil.
type Secrets struct {
	WebhookID     string     `json:"webhookId"`
	Secret        string     `json:"secret"`
	Previous      string     `json:"previousSecret,omitempty"`
	PreviousUntil *time.Time `json:"previousSecretExpiresAt,omitempty"`
}

// SecretsOf reads w's secrets as of now (an expired previous secret no
// longer signs, so it is left out). The API reads a webhook through Find,
// for the caller's company, then this.
func SecretsOf(w *store.Webhook, now time.Time) Secrets {
	out := Secrets{WebhookID: w.WebhookID, Secret: w.Secret}
	if w.PreviousSecret != "" && now.Before(w.PreviousSecretExpiresAt) {
		until := w.PreviousSecretExpiresAt.UTC()
		out.Previous, out.PreviousUntil = w.PreviousSecret, &until
	}
	return out
}

// Secrets reads the secrets of any company's webhook: for the operator of
// the gateway (`hookgate secret`, over the local control socket), who can
// read the data folder and its key anyway. ErrNotFound when there is none.
func (s *Service) Secrets(ctx context.Context, webhookID string) (Secrets, error) {
	w, err := s.store.GetWebhook(ctx, webhookID)
	if errors.Is(err, store.ErrNotFound) {
		return Secrets{}, ErrNotFound
	}
	if err != nil {
		return Secrets{}, err
	}
	return SecretsOf(w, s.clock.Now()), nil
}
