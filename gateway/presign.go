package gateway

import (
	"crypto/hmac"
	"crypto/sha256"
	"encoding/hex"
	"net/url"
	"strconv"
	"time"

	"github.com/gofiber/fiber/v2"

	"github.com/hookgate/hookgate/gateway/api"
)

// presigner makes and checks the pre-signed URLs of delivery-log records:
// HMAC-SHA256 over the path and the expiry with a key kept in storage, so a
// URL works without a bearer token until it expires, across restarts, and
// cannot be altered to reach another record.
type presigner struct {
	key    []byte
	ttl    time.Duration
	public string // server.public_url, without a trailing slash
	clock  Clock
}

// logFilePath is the path of one attempt's full record.
func logFilePath(logID string) string {
	return "/api/v1/webhooks/delivery-logs/" + url.PathEscape(logID) + "/log"
}

func (p *presigner) mac(path string, expires int64) string {
	m := hmac.New(sha256.New, p.key)
	m.Write([]byte("GET\n" + path + "\n" + strconv.FormatInt(expires, 10)))
	return hex.EncodeToString(m.Sum(nil))
}

// sign returns the absolute URL of logID's record, valid for the TTL.
func (p *presigner) sign(logID string) string {
	path := logFilePath(logID)
	expires := p.clock.Now().Add(p.ttl).Unix()
	return p.public + path + "?expires=" + strconv.FormatInt(expires, 10) + "&signature=" + p.mac(path, expires)
}

// verify checks the expiry and signature of a request for path.
func (p *presigner) verify(path, expiresArg, sig string) error {
	expires, err := strconv.ParseInt(expiresArg, 10, 64)
	if err != nil || sig == "" {
		return api.Errorf(fiber.StatusForbidden, "this delivery-log link is not signed: get one from GET /api/v1/webhooks/delivery-logs/{deliveryId}")
	}
	if !hmac.Equal([]byte(sig), []byte(p.mac(path, expires))) {
		return api.Errorf(fiber.StatusForbidden, "this delivery-log link's signature does not match: use the delivery_log URL exactly as given")
	}
	if p.clock.Now().Unix() > expires {
		return api.Errorf(fiber.StatusForbidden, "this delivery-log link expired at "+time.Unix(expires, 0).UTC().Format(time.RFC3339)+
			": get a new one from GET /api/v1/webhooks/delivery-logs/{deliveryId}")
	}
	return nil
}
