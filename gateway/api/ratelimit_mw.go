package api

import (
	"strings"

	"github.com/gofiber/fiber/v2"
)

// rateLimit guards the management API and the token endpoint
// (RateLimiter.Limit: the headers on every answer, the 429).
func (s *Server) rateLimit(c *fiber.Ctx) error {
	return s.limiter.Limit(c, SharedBuckets(s.store), s.log, s.rateKey(c))
}

// rateKey is the client of a valid bearer token, so every token of one
// client shares a bucket; without one (the token endpoint, a bad token, a
// pre-signed log URL) it is the client's address (TrustedProxies.ClientAddr: the peer, or
// behind a trusted proxy the address it forwarded).
func (s *Server) rateKey(c *fiber.Ctx) string {
	if scheme, tok, ok := strings.Cut(c.Get(fiber.HeaderAuthorization), " "); ok && strings.EqualFold(scheme, "Bearer") {
		if cl, err := s.auth.Parse(strings.TrimSpace(tok)); err == nil {
			return "client:" + cl.ClientID
		}
	}
	return "ip:" + s.proxies.ClientAddr(c)
}
