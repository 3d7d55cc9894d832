package gateway

import (
	"context"

	"github.com/hookgate/hookgate/gateway/webhooks"
)

// WebhookSecrets reads the signing secrets of any company's webhook, for
// the operator (`hookgate secret`, over the local control socket): a
// webhook declared in HCL without a secret has a generated one, which is
// otherwise unreadable. Not for the API, which reads through the caller's
// company (webhooks.Service.Find, then webhooks.SecretsOf).
func (g *Gateway) WebhookSecrets(ctx context.Context, webhookID string) (webhooks.Secrets, error) {
	return g.hooks.Secrets(ctx, webhookID)
}
