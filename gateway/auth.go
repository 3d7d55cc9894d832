package gateway

import (
	"crypto/rand"
	"crypto/sha256"
	"crypto/subtle"
	"encoding/hex"
	"log/slog"
	"math"
	"net"
	"net/netip"
	"strconv"
	"strings"
	"time"

	"github.com/gofiber/fiber/v2"
	"github.com/golang-jwt/jwt/v5"
	lru "github.com/hashicorp/golang-lru/v2"

	"github.com/hookgate/hookgate/config"
	"github.com/hookgate/hookgate/gateway/api"
)

// Scopes a client may hold.
const (
	ScopePublish       = "events:publish"
	ScopeWebhooksRead  = "webhooks:read"
	ScopeWebhooksWrite = "webhooks:write"
)

const tokenIssuer = "hookgate"

// Claims are what a bearer token says about its holder.
type Claims struct {
	ClientID  string `json:"client_id"`
	CompanyID int64  `json:"company_id"`
	UserID    int64  `json:"user_id"`
	Scope     string `json:"scope"` // space-separated, as in RFC 6749
	jwt.RegisteredClaims
}

// HasScope reports whether the token carries scope s.
func (c *Claims) HasScope(s string) bool {
	// FieldsSeq, not Fields: this runs on every request and need not
	// allocate a slice.
	for have := range strings.FieldsSeq(c.Scope) {
		if have == s {
			return true
		}
	}
	return false
}

// auth issues and checks HS256 tokens for the clients of the auth block.
type auth struct {
	key     []byte
	ttl     time.Duration
	clock   Clock
	clients map[string]config.Client
	// verified remembers tokens already checked: a producer sends the same
	// token thousands of times, and parsing and verifying one costs ~10 µs
	// of a ~100 µs publish. Expiry is still checked on every use.
	verified *lru.Cache[string, *Claims]
	throttle *api.AuthThrottle // failed authentications per client (auththrottle.go)
}

// verifiedTokens bounds the token cache; an evicted token is just verified again.
const verifiedTokens = 4096

func newSigningKey() ([]byte, error) {
	k := make([]byte, 32)
	_, err := rand.Read(k)
	return k, err
}

// authenticate checks a client's secret in constant time.
func (a *auth) authenticate(id, secret string) (config.Client, bool) {
	cl, ok := a.clients[id]
	if !ok || secret == "" {
		// Hash anyway so a wrong id and a wrong secret take the same time.
		sha256.Sum256([]byte(secret))
		return config.Client{}, false
	}
	if cl.SecretSHA256 != "" {
		sum := sha256.Sum256([]byte(secret))
		want, err := hex.DecodeString(cl.SecretSHA256)
		return cl, err == nil && subtle.ConstantTimeCompare(sum[:], want) == 1
	}
	a1, b1 := sha256.Sum256([]byte(secret)), sha256.Sum256([]byte(cl.Secret))
	return cl, subtle.ConstantTimeCompare(a1[:], b1[:]) == 1
}

func (a *auth) issue(cl config.Client) (string, error) {
	now := a.clock.Now()
	claims := Claims{
		ClientID:  cl.ID,
		CompanyID: cl.CompanyID,
		UserID:    cl.UserID,
		Scope:     strings.Join(cl.Scopes, " "),
		RegisteredClaims: jwt.RegisteredClaims{
			Issuer:    tokenIssuer,
			Subject:   cl.ID,
			IssuedAt:  jwt.NewNumericDate(now),
			ExpiresAt: jwt.NewNumericDate(now.Add(a.ttl)),
		},
	}
	return jwt.NewWithClaims(jwt.SigningMethodHS256, claims).SignedString(a.key)
}

// parse validates a token's signature, algorithm, issuer and expiry.
func (a *auth) parse(token string) (*Claims, error) {
	if c, ok := a.verified.Get(token); ok {
		if _, live := a.clients[c.ClientID]; live && a.clock.Now().Before(c.ExpiresAt.Time) {
			return c, nil
		}
		a.verified.Remove(token)
	}
	c, err := a.verify(token)
	if err == nil {
		// The token may be a view of fasthttp's reused request buffer: the
		// cache must own its key.
		a.verified.Add(strings.Clone(token), c)
	}
	return c, err
}

// verify checks a token the slow way.
func (a *auth) verify(token string) (*Claims, error) {
	var c Claims
	_, err := jwt.ParseWithClaims(token, &c, func(*jwt.Token) (any, error) { return a.key, nil },
		jwt.WithValidMethods([]string{jwt.SigningMethodHS256.Alg()}),
		jwt.WithIssuer(tokenIssuer),
		jwt.WithExpirationRequired(),
		jwt.WithTimeFunc(a.clock.Now),
	)
	if err != nil {
		return nil, err
	}
	// A client removed from the config loses access at once.
	if _, ok := a.clients[c.ClientID]; !ok {
		return nil, jwt.ErrTokenInvalidClaims
	}
	return &c, nil
}

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
	addr := g.clientAddr(c)
	if ok, wait := g.auth.throttle.Admit(id, addr); !ok {
		secs := int64(math.Ceil(wait.Seconds()))
		c.Set(fiber.HeaderRetryAfter, strconv.FormatInt(secs, 10))
		return api.Errorf(fiber.StatusTooManyRequests, "too many failed authentications for client_id "+quote(id)+
			": the limit is auth.max_failures_per_client = "+strconv.Itoa(g.auth.throttle.PerMinute())+
			" a minute, from any address; retry in "+strconv.FormatInt(secs, 10)+" s")
	}
	cl, ok := g.auth.authenticate(id, secret)
	if !ok {
		if cl.ID != "" {
			// Unknown ids have no secret to guess: the per-address limit is theirs.
			g.auth.throttle.Failed(c.UserContext(), api.SharedBuckets(g.store), cl.ID, addr)
		}
		return api.Errorf(fiber.StatusUnauthorized, "invalid client_id or client_secret")
	}
	g.auth.throttle.Succeeded(cl.ID, addr)
	tok, err := g.auth.issue(cl)
	if err != nil {
		return err
	}
	c.Set(fiber.HeaderCacheControl, "no-store")
	return c.JSON(fiber.Map{
		"access_token": tok,
		"token_type":   "Bearer",
		"expires_in":   int64(g.auth.ttl / time.Second),
		"scope":        strings.Join(cl.Scopes, " "),
	})
}

// requireToken guards every /api route: a valid bearer token or 401.
func (g *Gateway) requireToken(c *fiber.Ctx) error {
	h := c.Get(fiber.HeaderAuthorization)
	scheme, tok, _ := strings.Cut(h, " ")
	if !strings.EqualFold(scheme, "Bearer") || strings.TrimSpace(tok) == "" {
		c.Set(fiber.HeaderWWWAuthenticate, `Bearer realm="hookgate"`)
		return api.Errorf(fiber.StatusUnauthorized, "missing bearer token: send Authorization: Bearer <access_token> from /authentication/api/oauth/token")
	}
	claims, err := g.auth.parse(strings.TrimSpace(tok))
	if err != nil {
		c.Set(fiber.HeaderWWWAuthenticate, `Bearer realm="hookgate", error="invalid_token"`)
		msg := "invalid token: get a new one from /authentication/api/oauth/token"
		if strings.Contains(err.Error(), "expired") {
			msg = "token expired: get a new one from /authentication/api/oauth/token"
		}
		return api.Errorf(fiber.StatusUnauthorized, msg)
	}
	c.Locals(claimsKey, claims)
	return c.Next()
}

// requireScope answers 403 unless the token carries scope.
func requireScope(scope string) fiber.Handler {
	return func(c *fiber.Ctx) error {
		if !claimsOf(c).HasScope(scope) {
			return api.Errorf(fiber.StatusForbidden, "this token lacks the "+scope+" scope")
		}
		return c.Next()
	}
}

type ctxKey int

const claimsKey ctxKey = 0

func claimsOf(c *fiber.Ctx) *Claims {
	cl, _ := c.Locals(claimsKey).(*Claims)
	if cl == nil {
		return &Claims{}
	}
	return cl
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
