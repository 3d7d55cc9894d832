package api

import (
	"crypto/hmac"
	"crypto/sha256"
	"encoding/hex"
	"net/url"
	"strconv"
	"strings"
	"time"

	"github.com/gofiber/fiber/v2"
)

// Presigner makes and checks the pre-signed URLs of delivery-log records:
// HMAC-SHA256 over the path and the expiry with a key kept in storage, so a
// URL works without a bearer token until it expires, across restarts, and
// cannot be altered to reach another record.
type Presigner struct {
	key    []byte
	ttl    time.Duration
	public string // server.public_url, without a trailing slash
	clock  Clock
}

// NewPresigner signs with key for ttl; public is server.public_url, the
// base of the URLs it makes (a trailing slash is dropped).
func NewPresigner(key []byte, ttl time.Duration, public string, clock Clock) *Presigner {
	return &Presigner{key: key, ttl: ttl, public: strings.TrimRight(public, "/"), clock: clock}
}

// LogFilePath is the path of one attempt's full record.
func LogFilePath(logID string) string {
	return "/api/v1/webhooks/delivery-logs/" + url.PathEscape(logID) + "/log"
}

func (p *Presigner) mac(path string, expires int64) string {
	m := hmac.New(sha256.New, p.key)
	m.Write([]byte("GET\n" + path + "\n" + strconv.FormatInt(expires, 10)))
	return hex.EncodeToString(m.Sum(nil))
}

// Sign returns the absolute URL of logID's record, valid for the TTL.
func (p *Presigner) Sign(logID string) string {
	path := LogFilePath(logID)
	expires := p.clock.Now().Add(p.ttl).Unix()
	return p.public + path + "?expires=" + strconv.FormatInt(expires, 10) + "&signature=" + p.mac(path, expires)
}

// Verify checks the expiry and signature of a request for path.
func (p *Presigner) Verify(path, expiresArg, sig string) error {
	expires, err := strconv.ParseInt(expiresArg, 10, 64)
	if err != nil || sig == "" {
		return Errorf(fiber.StatusForbidden, "this delivery-log link is not signed: get one from GET /api/v1/webhooks/delivery-logs/{deliveryId}")
	}
	if !hmac.Equal([]byte(sig), []byte(p.mac(path, expires))) {
		return Errorf(fiber.StatusForbidden, "this delivery-log link's signature does not match: use the delivery_log URL exactly as given")
	}
	if p.clock.Now().Unix() > expires {
		return Errorf(fiber.StatusForbidden, "this delivery-log link expired at "+time.Unix(expires, 0).UTC().Format(time.RFC3339)+
			": get a new one from GET /api/v1/webhooks/delivery-logs/{deliveryId}")
	}
	return nil
}
