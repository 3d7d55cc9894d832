package gateway

import (
	"context"
	"crypto/rand"
	"fmt"

	"github.com/hookgate/hookgate/gateway/api"
	"github.com/hookgate/hookgate/gateway/webhooks"
	"github.com/hookgate/hookgate/transforms"
)

// management is the state of the management API and the webhook
// lifecycle, kept apart from the delivery engine's.
type management struct {
	limiter   *api.RateLimiter
	presign   *api.Presigner
	mailer    webhooks.Mailer
	preview   *transforms.Transformer // compiles templates sent to /transforms/preview, never cached
	lifecycle *lifecycleLoop
	openapi   openapiCache
}

func (g *Gateway) newManagement(ctx context.Context) (*management, error) {
	key, err := g.store.Meta(ctx, "api.presign_key", func() ([]byte, error) {
		k := make([]byte, 32)
		_, err := rand.Read(k)
		return k, err
	})
	if err != nil {
		return nil, fmt.Errorf("delivery-log signing key: %w", err)
	}
	preview, err := transforms.New(transforms.Options{
		Engine: g.cfg.Transforms.Engine, Timeout: g.cfg.Transforms.Timeout, MaxDepth: g.cfg.Transforms.MaxDepth,
	})
	if err != nil {
		return nil, err
	}
	m := &management{
		limiter: api.NewRateLimiter(g.cfg.API.RateLimit, g.cfg.API.RateBurst, g.clock),
		presign: api.NewPresigner(key, g.cfg.DeliveryLog.PresignTTL, g.cfg.Server.PublicURL, g.clock),
		mailer:  webhooks.NewMailer(g.cfg.SMTP, g.clock),
		preview: preview,
	}
	m.lifecycle = &lifecycleLoop{g: g, every: g.cfg.Lifecycle.CheckInterval}
	return m, nil
}
