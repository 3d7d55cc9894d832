package gateway

import (
	"net/url"
	"slices"
	"strings"
	"time"

	"github.com/hookgate/hookgate/config"
	"github.com/hookgate/hookgate/plugins/sdk/netguard"
	"github.com/hookgate/hookgate/store"
)

// checkDestination refuses, unless delivery.allow_private_networks, a URL
// whose host is a literal loopback, private, link-local, CGNAT, multicast
// or otherwise non-public address, or an ambiguous numeric spelling
// (0x7f.1, 2130706433). It is netguard's rule, the one the sinks apply to
// the address they dial: told here at once instead of as a failed delivery.
// A host name is judged when dialled, after DNS, so rebinding cannot pass.
func (g *Gateway) checkDestination(w *store.Webhook) error {
	u, err := url.Parse(placeholderRE.ReplaceAllString(w.URL, "x"))
	if err != nil || u.Host == "" {
		return nil // checkURL has said why
	}
	policy := netguard.Policy{AllowHTTP: true, AllowPrivateNetworks: g.cfg.Delivery.AllowPrivateNetworks}
	if err := policy.CheckURL(u); err != nil {
		return invalid("url", "'url' is not an allowed destination: "+strings.TrimPrefix(err.Error(), "refused: ")+
			" (the gateway's delivery.allow_private_networks is false)")
	}
	return nil
}

func checkSignatureFormat(w *store.Webhook) error {
	if w.SignatureFormat != "" && !slices.Contains(config.SignatureFormats, w.SignatureFormat) {
		return invalid("signatureFormat", "'signatureFormat' must be \"fn\" or \"standard-webhooks\", not "+quote(w.SignatureFormat))
	}
	return nil
}

// secretGrace is how long the replaced secret keeps signing after this
// request: secretGracePeriod when given, else delivery.secret_grace_period.
// It is only meaningful on an update that sets a new secret.
func (g *Gateway) secretGrace(in *webhookInput, rotating bool) (time.Duration, error) {
	if in.SecretGracePeriod == nil {
		return g.cfg.Delivery.SecretGracePeriod, nil
	}
	if !rotating {
		return 0, badRequest("'secretGracePeriod' applies only to an update that sets a new 'secret'")
	}
	d, err := time.ParseDuration(strings.TrimSpace(*in.SecretGracePeriod))
	switch {
	case err != nil:
		return 0, badRequest(`'secretGracePeriod' must be a duration such as "24h", "90m" or "0s", not ` + quote(*in.SecretGracePeriod))
	case d < 0 || d > config.MaxSecretGracePeriod:
		return 0, badRequest(`'secretGracePeriod' must be between "0s" and "168h" (7 days)`)
	}
	return d, nil
}
