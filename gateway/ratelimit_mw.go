package gateway

import (
	"strings"

	"github.com/gofiber/fiber/v2"

	"github.com/hookgate/hookgate/gateway/api"
)

// rateLimit guards the management API and the token endpoint
// (api.RateLimiter.Limit: the headers on every answer, the 429).
func (g *Gateway) rateLimit(c *fiber.Ctx) error {
	return g.mgmt.limiter.Limit(c, api.SharedBuckets(g.store), g.log, g.rateKey(c))
}

// rateKey is the client of a valid bearer token, so every token of one
// client shares a bucket; without one (the token endpoint, a bad token, a
// pre-signed log URL) it is the client's address (api.TrustedProxies.ClientAddr: the peer, or
// behind a trusted proxy the address it forwarded).
func (g *Gateway) rateKey(c *fiber.Ctx) string {
	if scheme, tok, ok := strings.Cut(c.Get(fiber.HeaderAuthorization), " "); ok && strings.EqualFold(scheme, "Bearer") {
		if cl, err := g.auth.Parse(strings.TrimSpace(tok)); err == nil {
			return "client:" + cl.ClientID
		}
	}
	return "ip:" + g.proxies.ClientAddr(c)
}
