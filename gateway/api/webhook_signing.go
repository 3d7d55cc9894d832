package api

import (
	"strings"
	"time"

	"github.com/hookgate/hookgate/config"
	"github.com/hookgate/hookgate/gateway/webhooks"
	"github.com/hookgate/hookgate/store"
)

// validateWebhook checks a webhook as it would be stored after a create or
// update (webhooks.Validator).
func (s *Server) validateWebhook(w *store.Webhook) error {
	return webhooks.NewValidator(s.cfg, s.sinkAccess).Validate(w)
}

// checkSink: a sink the webhook's company may use (webhooks.Validator).
func (s *Server) checkSink(w *store.Webhook) error {
	return webhooks.NewValidator(s.cfg, s.sinkAccess).CheckSink(w)
}

// secretGrace is how long the replaced secret keeps signing after this
// request: secretGracePeriod when given, else delivery.secret_grace_period.
// It is only meaningful on an update that sets a new secret.
func (s *Server) secretGrace(in *webhookInput, rotating bool) (time.Duration, error) {
	if in.SecretGracePeriod == nil {
		return s.cfg.Delivery.SecretGracePeriod, nil
	}
	if !rotating {
		return 0, badRequest("'secretGracePeriod' applies only to an update that sets a new 'secret'")
	}
	d, err := time.ParseDuration(strings.TrimSpace(*in.SecretGracePeriod))
	switch {
	case err != nil:
		return 0, badRequest(`'secretGracePeriod' must be a duration such as "24h", "90m" or "0s", not ` + quote(*in.SecretGracePeriod))
	case d < 0 || d > config.MaxSecretGracePeriod:
		return 0, badRequest(`'secretGracePeriod' must be between "0s" and "168h" (7 days)`)
	}
	return d, nil
}
