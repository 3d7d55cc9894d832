package api

import (
	"bytes"
	"net/netip"

	"github.com/gofiber/fiber/v2"

	"github.com/hookgate/hookgate/config"
)

// TrustedProxies are the reverse proxies of server.trusted_proxies: only
// their X-Forwarded-For is believed.
type TrustedProxies []netip.Prefix

// NewTrustedProxies parses server.trusted_proxies, which config validated.
func NewTrustedProxies(entries []string) (TrustedProxies, error) {
	out := make(TrustedProxies, 0, len(entries))
	for _, e := range entries {
		p, err := config.ParseTrustedProxy(e)
		if err != nil {
			return nil, err
		}
		out = append(out, p)
	}
	return out, nil
}

func (t TrustedProxies) contains(a netip.Addr) bool {
	for _, p := range t {
		if p.Contains(a) {
			return true
		}
	}
	return false
}

// ClientAddr is the address a request is counted by (per-address limits,
// failed sign-ins): the peer's, unless the peer is a trusted proxy. Then it
// is the right-most X-Forwarded-For hop that is not a trusted proxy: every
// hop right of it was appended by a proxy we trust, while anything left of
// it came from the client and may be forged. Fiber's own ProxyHeader takes
// the left-most entry, which the client chooses, so it is not used.
func (t TrustedProxies) ClientAddr(c *fiber.Ctx) string {
	peer, _ := netip.AddrFromSlice(c.Context().RemoteIP())
	addr := peer.Unmap()
	if len(t) == 0 || !t.contains(addr) {
		return addr.String()
	}
	// Several header lines are one list, in order (RFC 9110 §5.3).
	lines := c.Request().Header.PeekAll(fiber.HeaderXForwardedFor)
	for i := len(lines) - 1; i >= 0; i-- {
		hops := bytes.Split(lines[i], []byte{','})
		for j := len(hops) - 1; j >= 0; j-- {
			hop, ok := parseHop(bytes.TrimSpace(hops[j]))
			if !ok {
				// Not an address: no proxy of ours wrote it. The last
				// trusted hop is the best we know.
				return addr.String()
			}
			addr = hop
			if !t.contains(hop) {
				return addr.String()
			}
		}
	}
	return addr.String() // every hop is a trusted proxy
}

// parseHop reads one X-Forwarded-For entry: an address, or an address with
// a port as some proxies write it ("203.0.113.7:4711", "[2001:db8::1]:443").
func parseHop(b []byte) (netip.Addr, bool) {
	if a, err := netip.ParseAddr(string(b)); err == nil {
		return a.Unmap(), true
	}
	if ap, err := netip.ParseAddrPort(string(b)); err == nil {
		return ap.Addr().Unmap(), true
	}
	return netip.Addr{}, false
}
