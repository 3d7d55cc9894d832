// Package netguard is the SSRF guard every sink that makes outbound
// connections should use: it refuses plain http:// URLs unless allowed, and
// refuses to connect to loopback, private, link-local, CGNAT, multicast and
// other non-public addresses unless private networks are allowed.
//
// The address check runs in net.Dialer.Control, on the address actually
// being dialled after DNS resolution, so a name that resolves (or later
// re-resolves, "DNS rebinding") to a private address is still refused. The
// URL check only adds early, clearer refusals for literal addresses and
// ambiguous numeric host spellings.
package netguard

import (
	"errors"
	"fmt"
	"net"
	"net/netip"
	"net/url"
	"strings"
	"syscall"
)

// Policy is the gateway's outbound network policy (sdk.Config carries it).
type Policy struct {
	AllowHTTP            bool // plain http:// allowed
	AllowPrivateNetworks bool // non-public destinations allowed (guard off)
}

// RefusedError is a destination the policy forbids. It is final: retrying
// cannot succeed.
type RefusedError struct {
	Reason string
}

func (e *RefusedError) Error() string { return "refused: " + e.Reason }

// IsRefused reports whether err (or an error it wraps) is a RefusedError.
func IsRefused(err error) bool {
	var r *RefusedError
	return errors.As(err, &r)
}

// CheckURL checks the scheme and, when the host is written as an address,
// the address. Names are checked later, when dialled (see Dialer).
func (p Policy) CheckURL(u *url.URL) error {
	switch strings.ToLower(u.Scheme) {
	case "https":
	case "http":
		if !p.AllowHTTP {
			return &RefusedError{Reason: "plain http:// URLs are not allowed (use https, or allow http in the gateway config)"}
		}
	default:
		return &RefusedError{Reason: fmt.Sprintf("unsupported URL scheme %q (want https)", u.Scheme)}
	}
	host := u.Hostname()
	if host == "" {
		return &RefusedError{Reason: "URL has no host"}
	}
	if ip, ok := legacyIPv4(host); ok {
		// inet_aton accepts 2130706433, 0x7f.0.0.1, 0177.0.0.1 and 127.1,
		// and resolvers disagree on whether to: refuse outright rather
		// than guess which address a library below us will dial.
		return &RefusedError{Reason: fmt.Sprintf("host %q is a non-standard spelling of the IPv4 address %s; write it in dotted decimal", host, ip)}
	}
	if p.AllowPrivateNetworks {
		return nil
	}
	if ip, err := netip.ParseAddr(host); err == nil {
		return Check(ip)
	}
	return nil
}

// Dialer returns a net.Dialer that enforces the policy on every address it
// connects to. Use it as an http.Transport's DialContext, and never set a
// proxy on that transport: a proxy would connect on our behalf.
func (p Policy) Dialer() *net.Dialer {
	d := &net.Dialer{}
	if !p.AllowPrivateNetworks {
		d.Control = Control
	}
	return d
}

// Control is a net.Dialer.Control function that refuses to connect to an
// address Check rejects.
func Control(network, address string, _ syscall.RawConn) error {
	host, _, err := net.SplitHostPort(address)
	if err != nil {
		return &RefusedError{Reason: fmt.Sprintf("unexpected address %q", address)}
	}
	ip, err := netip.ParseAddr(host)
	if err != nil {
		return &RefusedError{Reason: fmt.Sprintf("unexpected address %q", address)}
	}
	return Check(ip)
}
