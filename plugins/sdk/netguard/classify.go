package netguard

import (
	"fmt"
	"net/netip"
	"strconv"
	"strings"
)

// blocked lists the non-public ranges, most specific reason first. IPv4
// ranges also match IPv4-mapped IPv6 addresses, because Check unmaps first.
var blocked = []struct {
	prefix netip.Prefix
	reason string
}{
	{mustPrefix("0.0.0.0/8"), `"this network" (0.0.0.0/8)`},
	{mustPrefix("10.0.0.0/8"), "private (RFC 1918)"},
	{mustPrefix("100.64.0.0/10"), "carrier-grade NAT (100.64.0.0/10)"},
	{mustPrefix("127.0.0.0/8"), "loopback"},
	{mustPrefix("169.254.0.0/16"), "link-local"},
	{mustPrefix("172.16.0.0/12"), "private (RFC 1918)"},
	{mustPrefix("192.0.0.0/24"), "IETF protocol assignments (192.0.0.0/24)"},
	{mustPrefix("192.0.2.0/24"), "documentation (TEST-NET-1)"},
	{mustPrefix("192.168.0.0/16"), "private (RFC 1918)"},
	{mustPrefix("198.18.0.0/15"), "benchmarking (198.18.0.0/15)"},
	{mustPrefix("198.51.100.0/24"), "documentation (TEST-NET-2)"},
	{mustPrefix("203.0.113.0/24"), "documentation (TEST-NET-3)"},
	{mustPrefix("224.0.0.0/4"), "multicast"},
	{mustPrefix("240.0.0.0/4"), "reserved (240.0.0.0/4, includes broadcast)"},

	{mustPrefix("::/128"), "unspecified"},
	{mustPrefix("::1/128"), "loopback"},
	{mustPrefix("::/96"), "IPv4-compatible IPv6 (deprecated)"},
	{mustPrefix("64:ff9b:1::/48"), "local-use NAT64"},
	{mustPrefix("100::/64"), "discard-only (100::/64)"},
	{mustPrefix("2001::/32"), "Teredo"},
	{mustPrefix("2001:db8::/32"), "documentation (2001:db8::/32)"},
	{mustPrefix("fc00::/7"), "unique local (fc00::/7)"},
	{mustPrefix("fe80::/10"), "link-local"},
	{mustPrefix("fec0::/10"), "site-local (deprecated)"},
	{mustPrefix("ff00::/8"), "multicast"},
}

var (
	nat64     = mustPrefix("64:ff9b::/96") // embeds an IPv4 address in the last 32 bits
	sixToFour = mustPrefix("2002::/16")    // embeds an IPv4 address in bits 16-47
)

func mustPrefix(s string) netip.Prefix { return netip.MustParsePrefix(s) }

// Check returns a *RefusedError when ip is not a public unicast address,
// nil otherwise. IPv4-mapped (::ffff:a.b.c.d), NAT64 and 6to4 addresses are
// judged by the IPv4 address they carry.
func Check(ip netip.Addr) error {
	if reason := nonPublic(ip); reason != "" {
		return &RefusedError{Reason: fmt.Sprintf("%s is a %s address and private networks are not allowed", ip.WithZone(""), reason)}
	}
	return nil
}

func nonPublic(ip netip.Addr) string {
	if !ip.IsValid() {
		return "invalid"
	}
	ip = ip.WithZone("").Unmap()
	if ip.Is6() {
		b := ip.As16()
		switch {
		case nat64.Contains(ip):
			if r := nonPublic(netip.AddrFrom4([4]byte(b[12:16]))); r != "" {
				return "NAT64-embedded " + r
			}
		case sixToFour.Contains(ip):
			if r := nonPublic(netip.AddrFrom4([4]byte(b[2:6]))); r != "" {
				return "6to4-embedded " + r
			}
		}
	}
	for _, b := range blocked {
		if b.prefix.Contains(ip) {
			return b.reason
		}
	}
	return ""
}

// legacyIPv4 reports whether host is an IPv4 address in one of the spellings
// inet_aton accepts besides canonical dotted decimal (a single 32-bit
// number, fewer than four parts, hex 0x.. or octal 0.. parts), and which
// address it means there.
func legacyIPv4(host string) (netip.Addr, bool) {
	host = strings.TrimSuffix(host, ".")
	if _, err := netip.ParseAddr(host); err == nil {
		return netip.Addr{}, false // canonical, judged as an address
	}
	parts := strings.Split(host, ".")
	if len(parts) > 4 {
		return netip.Addr{}, false
	}
	vals := make([]uint64, len(parts))
	for i, p := range parts {
		v, ok := parseInetPart(p)
		if !ok {
			return netip.Addr{}, false
		}
		vals[i] = v
	}
	// The last part fills the remaining bytes: a.b.c.d, a.b.cd, a.bcd, abcd.
	var n uint64
	for i, v := range vals[:len(vals)-1] {
		if v > 0xff {
			return netip.Addr{}, false
		}
		n |= v << (24 - 8*uint(i))
	}
	last := vals[len(vals)-1]
	if last >= 1<<(8*uint(5-len(vals))) {
		return netip.Addr{}, false
	}
	n |= last
	return netip.AddrFrom4([4]byte{byte(n >> 24), byte(n >> 16), byte(n >> 8), byte(n)}), true
}

func parseInetPart(p string) (uint64, bool) {
	if p == "" {
		return 0, false
	}
	base := 10
	switch {
	case len(p) > 1 && (p[:2] == "0x" || p[:2] == "0X"):
		base, p = 16, p[2:]
		if p == "" {
			return 0, true // "0x" alone is 0 to inet_aton
		}
	case len(p) > 1 && p[0] == '0':
		base, p = 8, p[1:]
	}
	v, err := strconv.ParseUint(p, base, 32)
	return v, err == nil
}
