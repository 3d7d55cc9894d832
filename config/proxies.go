package config

import (
	"fmt"
	"net/netip"

	"github.com/hashicorp/hcl/v2"
)

// decodeTrustedProxies reads server.trusted_proxies and checks each entry
// is an IP address or a CIDR, reporting a bad one at its own position.
func (d *decoder) decodeTrustedProxies(b *body, s *Server) {
	attr := b.strings("trusted_proxies", &s.TrustedProxies)
	if attr == nil {
		return
	}
	// Element ranges when the value is a literal list; the attribute's
	// otherwise (a list from a function call).
	elems, diags := hcl.ExprList(attr.Expr)
	for i, p := range s.TrustedProxies {
		if _, err := ParseTrustedProxy(p); err != nil {
			rng := attr.Range
			if !diags.HasErrors() && i < len(elems) {
				rng = elems[i].Range()
			}
			d.errorf(rng, fmt.Sprintf("invalid server.trusted_proxies[%d] %q", i, p),
				"expected an IP address (\"10.0.0.1\", \"::1\") or a CIDR (\"10.0.0.0/8\", \"fd00::/8\")")
		}
	}
}

// ParseTrustedProxy reads one server.trusted_proxies entry: an IP address
// is the one-address prefix.
func ParseTrustedProxy(s string) (netip.Prefix, error) {
	if a, err := netip.ParseAddr(s); err == nil {
		a = a.Unmap()
		return netip.PrefixFrom(a, a.BitLen()), nil
	}
	p, err := netip.ParsePrefix(s)
	if err != nil {
		return netip.Prefix{}, err
	}
	if p.Addr().Is4In6() {
		// ::ffff:10.0.0.0/104 means 10.0.0.0/8: peers are compared unmapped.
		if p.Bits() < 96 {
			return netip.Prefix{}, fmt.Errorf("an IPv4-mapped prefix needs at least 96 bits")
		}
		p = netip.PrefixFrom(p.Addr().Unmap(), p.Bits()-96)
	}
	return p.Masked(), nil
}
