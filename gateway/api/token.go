package api

import (
	"math"
	"strconv"
	"strings"
	"time"

	"github.com/gofiber/fiber/v2"
)

// tokenParams are the OAuth parameters of a token request; a client may
// not send them in the query string.
var tokenParams = []string{"client_secret", "client_id", "grant_type", "scope"}

// handleToken is POST /authentication/api/oauth/token (client credentials).
func (s *Server) handleToken(c *fiber.Ctx) error {
	// RFC 6749 §3.2 and §2.3.1: parameters in the body, credentials in the
	// body or Basic auth. A URL ends up in proxy and access logs and browser
	// history, so a secret there is refused (the message names the
	// parameter, never its value) rather than quietly used.
	query := c.Request().URI().QueryArgs()
	for _, k := range tokenParams {
		if query.Has(k) {
			return Errorf(fiber.StatusBadRequest, k+" must not be sent in the query string (URLs are logged by proxies and servers): "+
				"send the parameters in an application/x-www-form-urlencoded body, the client credentials there or in HTTP Basic auth")
		}
	}
	// PostArgs holds only an application/x-www-form-urlencoded body.
	form := c.Request().PostArgs()
	id, secret := string(form.Peek("client_id")), string(form.Peek("client_secret"))
	// RFC 6749 §2.3.1 also allows HTTP Basic client authentication.
	if u, p, ok := basicAuth(c.Get(fiber.HeaderAuthorization)); ok && id == "" {
		id, secret = u, p
	}
	if gt := string(form.Peek("grant_type")); gt != "client_credentials" {
		if gt == "" {
			return Errorf(fiber.StatusBadRequest, "grant_type is required and must be client_credentials")
		}
		return Errorf(fiber.StatusBadRequest, "grant_type "+quote(gt)+" is not supported: use client_credentials")
	}
	if id == "" || secret == "" {
		return Errorf(fiber.StatusBadRequest, "client_id and client_secret are required")
	}
	addr := s.proxies.ClientAddr(c)
	if ok, wait := s.auth.Throttle.Admit(id, addr); !ok {
		secs := int64(math.Ceil(wait.Seconds()))
		c.Set(fiber.HeaderRetryAfter, strconv.FormatInt(secs, 10))
		return Errorf(fiber.StatusTooManyRequests, "too many failed authentications for client_id "+quote(id)+
			": the limit is auth.max_failures_per_client = "+strconv.Itoa(s.auth.Throttle.PerMinute())+
			" a minute, from any address; retry in "+strconv.FormatInt(secs, 10)+" s")
	}
	cl, ok := s.auth.Authenticate(id, secret)
	if !ok {
		if cl.ID != "" {
			// Unknown ids have no secret to guess: the per-address limit is theirs.
			s.auth.Throttle.Failed(c.UserContext(), SharedBuckets(s.store), cl.ID, addr)
		}
		return Errorf(fiber.StatusUnauthorized, "invalid client_id or client_secret")
	}
	s.auth.Throttle.Succeeded(cl.ID, addr)
	tok, err := s.auth.Issue(cl)
	if err != nil {
		return err
	}
	c.Set(fiber.HeaderCacheControl, "no-store")
	return c.JSON(fiber.Map{
		"access_token": tok,
		"token_type":   "Bearer",
		"expires_in":   int64(s.auth.TTL() / time.Second),
		"scope":        strings.Join(cl.Scopes, " "),
	})
}

// bearerToken is the token of an "Authorization: Bearer <token>" header
// (the scheme in any case); false when there is none. requireToken and the
// header check of bodies.go read it the same way.
func bearerToken(authz string) (string, bool) {
	scheme, tok, _ := strings.Cut(authz, " ")
	tok = strings.TrimSpace(tok)
	return tok, strings.EqualFold(scheme, "Bearer") && tok != ""
}

// requireToken guards every /api route: a valid bearer token or 401.
func (s *Server) requireToken(c *fiber.Ctx) error {
	tok, ok := bearerToken(c.Get(fiber.HeaderAuthorization))
	if !ok {
		c.Set(fiber.HeaderWWWAuthenticate, `Bearer realm="hookgate"`)
		return Errorf(fiber.StatusUnauthorized, "missing bearer token: send Authorization: Bearer <access_token> from /authentication/api/oauth/token")
	}
	claims, err := s.auth.Parse(tok)
	if err != nil {
		c.Set(fiber.HeaderWWWAuthenticate, `Bearer realm="hookgate", error="invalid_token"`)
		msg := "invalid token: get a new one from /authentication/api/oauth/token"
		if strings.Contains(err.Error(), "expired") {
			msg = "token expired: get a new one from /authentication/api/oauth/token"
		}
		return Errorf(fiber.StatusUnauthorized, msg)
	}
	SetClaims(c, claims)
	return c.Next()
}
