package api

import (
	"crypto/rand"
	"crypto/sha256"
	"crypto/subtle"
	"encoding/hex"
	"strings"
	"time"

	"github.com/gofiber/fiber/v2"
	"github.com/golang-jwt/jwt/v5"
	lru "github.com/hashicorp/golang-lru/v2"

	"github.com/hookgate/hookgate/config"
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

// Tokens issues and checks HS256 tokens for the clients of the auth block.
type Tokens struct {
	key     []byte
	ttl     time.Duration
	clock   Clock
	clients map[string]config.Client
	// verified remembers tokens already checked: a producer sends the same
	// token thousands of times, and parsing and verifying one costs ~10 µs
	// of a ~100 µs publish. Expiry is still checked on every use.
	verified *lru.Cache[string, *Claims]
	Throttle *AuthThrottle // failed authentications per client (auththrottle.go)
}

// verifiedTokens bounds the token cache; an evicted token is just verified again.
const verifiedTokens = 4096

// NewTokens checks tokens signed with key for the clients given, and
// issues them for ttl; throttle counts failed authentications.
func NewTokens(key []byte, ttl time.Duration, clock Clock, clients []config.Client, throttle *AuthThrottle) (*Tokens, error) {
	byID := make(map[string]config.Client, len(clients))
	for _, c := range clients {
		byID[c.ID] = c
	}
	cache, err := lru.New[string, *Claims](verifiedTokens)
	if err != nil {
		return nil, err
	}
	return &Tokens{key: key, ttl: ttl, clock: clock, clients: byID, verified: cache, Throttle: throttle}, nil
}

// TTL is how long an issued token is valid (auth.token_ttl).
func (a *Tokens) TTL() time.Duration { return a.ttl }

// NewSigningKey is a random token signing key, for when auth.signing_key
// is not set (the gateway keeps it in storage).
func NewSigningKey() ([]byte, error) {
	k := make([]byte, 32)
	_, err := rand.Read(k)
	return k, err
}

// Authenticate checks a client's secret in constant time.
func (a *Tokens) Authenticate(id, secret string) (config.Client, bool) {
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

// Issue is a token for client cl.
func (a *Tokens) Issue(cl config.Client) (string, error) {
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

// Parse validates a token's signature, algorithm, issuer and expiry.
func (a *Tokens) Parse(token string) (*Claims, error) {
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
func (a *Tokens) verify(token string) (*Claims, error) {
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

// RequireScope answers 403 unless the token carries scope.
func RequireScope(scope string) fiber.Handler {
	return func(c *fiber.Ctx) error {
		if !ClaimsOf(c).HasScope(scope) {
			return Errorf(fiber.StatusForbidden, "this token lacks the "+scope+" scope")
		}
		return c.Next()
	}
}

type ctxKey int

const claimsKey ctxKey = 0

// SetClaims keeps the claims of the request's verified token for the
// handlers after it.
func SetClaims(c *fiber.Ctx, cl *Claims) { c.Locals(claimsKey, cl) }

// ClaimsOf is the claims of the request's token; empty (no scope, no
// company) when it has none.
func ClaimsOf(c *fiber.Ctx) *Claims {
	cl, _ := c.Locals(claimsKey).(*Claims)
	if cl == nil {
		return &Claims{}
	}
	return cl
}
