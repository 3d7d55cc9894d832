package gateway

import (
	"log/slog"
	"math"
	"net"
	"net/netip"
	"strconv"
	"strings"
	"time"

	"github.com/gofiber/fiber/v2"

	"github.com/hookgate/hookgate/config"
	"github.com/hookgate/hookgate/gateway/api"
)

// tokenParams are the OAuth parameters of a token request; a client may
// not send them in the query string.
var tokenParams = []string{"client_secret", "client_id", "grant_type", "scope"}

// handleToken is POST /authentication/api/oauth/token (client credentials).
func (g *Gateway) handleToken(c *fiber.Ctx) error {
	// RFC 6749 §3.2 and §2.3.1: parameters in the body, credentials in the
	// body or Basic auth. A URL ends up in proxy and access logs and browser
	// history, so a secret there is refused (the message names the
	// parameter, never its value) rather than quietly used.
	query := c.Request().URI().QueryArgs()
	for _, k := range tokenParams {
		if query.Has(k) {
			return api.Errorf(fiber.StatusBadRequest, k+" must not be sent in the query string (URLs are logged by proxies and servers): "+
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
			return api.Errorf(fiber.StatusBadRequest, "grant_type is required and must be client_credentials")
		}
		return api.Errorf(fiber.StatusBadRequest, "grant_type "+quote(gt)+" is not supported: use client_credentials")
	}
	if id == "" || secret == "" {
		return api.Errorf(fiber.StatusBadRequest, "client_id and client_secret are required")
	}
	addr := g.proxies.ClientAddr(c)
	if ok, wait := g.auth.Throttle.Admit(id, addr); !ok {
		secs := int64(math.Ceil(wait.Seconds()))
		c.Set(fiber.HeaderRetryAfter, strconv.FormatInt(secs, 10))
		return api.Errorf(fiber.StatusTooManyRequests, "too many failed authentications for client_id "+quote(id)+
			": the limit is auth.max_failures_per_client = "+strconv.Itoa(g.auth.Throttle.PerMinute())+
			" a minute, from any address; retry in "+strconv.FormatInt(secs, 10)+" s")
	}
	cl, ok := g.auth.Authenticate(id, secret)
	if !ok {
		if cl.ID != "" {
			// Unknown ids have no secret to guess: the per-address limit is theirs.
			g.auth.Throttle.Failed(c.UserContext(), api.SharedBuckets(g.store), cl.ID, addr)
		}
		return api.Errorf(fiber.StatusUnauthorized, "invalid client_id or client_secret")
	}
	g.auth.Throttle.Succeeded(cl.ID, addr)
	tok, err := g.auth.Issue(cl)
	if err != nil {
		return err
	}
	c.Set(fiber.HeaderCacheControl, "no-store")
	return c.JSON(fiber.Map{
		"access_token": tok,
		"token_type":   "Bearer",
		"expires_in":   int64(g.auth.TTL() / time.Second),
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
func (g *Gateway) requireToken(c *fiber.Ctx) error {
	tok, ok := bearerToken(c.Get(fiber.HeaderAuthorization))
	if !ok {
		c.Set(fiber.HeaderWWWAuthenticate, `Bearer realm="hookgate"`)
		return api.Errorf(fiber.StatusUnauthorized, "missing bearer token: send Authorization: Bearer <access_token> from /authentication/api/oauth/token")
	}
	claims, err := g.auth.Parse(tok)
	if err != nil {
		c.Set(fiber.HeaderWWWAuthenticate, `Bearer realm="hookgate", error="invalid_token"`)
		msg := "invalid token: get a new one from /authentication/api/oauth/token"
		if strings.Contains(err.Error(), "expired") {
			msg = "token expired: get a new one from /authentication/api/oauth/token"
		}
		return api.Errorf(fiber.StatusUnauthorized, msg)
	}
	api.SetClaims(c, claims)
	return c.Next()
}

// warnPublishedSecrets warns, once at start, about every client whose
// secret is printed in hookgate's own files (config.PublishedSecrets, the
// demo client's fallback): anyone can get its tokens. A warning, not a
// refusal, so `make run` keeps working on a laptop; it says whether the
// listen address reaches beyond this machine.
func warnPublishedSecrets(cfg *config.Config, log *slog.Logger) {
	for _, cl := range cfg.Auth.Clients {
		if !cl.UsesPublishedSecret() {
			continue
		}
		reach := "this machine only (server.listen is a loopback address)"
		if !loopbackListen(cfg.Server.Listen) {
			reach = "THE NETWORK (server.listen " + cfg.Server.Listen + " is not a loopback address)"
		}
		where := cfg.File
		if cl.Range.Filename != "" {
			where = cl.Range.Filename + ":" + strconv.Itoa(cl.Range.Start.Line)
		}
		log.Warn("SECURITY: client "+quote(cl.ID)+" uses the demo secret published in hookgate's gateway.hcl and README: "+
			"anyone who can reach this gateway can get its tokens (company "+strconv.FormatInt(cl.CompanyID, 10)+
			", scopes "+strings.Join(cl.Scopes, " ")+"). It is reachable from "+reach+". "+
			"Give client "+quote(cl.ID)+" its own secret in the auth block ("+where+"; for the shipped demo client set HOOKGATE_DEMO_SECRET) or remove it.",
			"client", cl.ID, "company_id", cl.CompanyID, "defined_at", where, "listen", cfg.Server.Listen)
	}
}

// loopbackListen reports whether a listen address accepts connections from
// this machine only.
func loopbackListen(listen string) bool {
	host, _, err := net.SplitHostPort(listen)
	if err != nil {
		return false
	}
	if host == "localhost" {
		return true
	}
	a, err := netip.ParseAddr(host)
	return err == nil && a.IsLoopback()
}
