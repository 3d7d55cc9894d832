package netguard

import (
	"net/netip"
	"net/url"
	"testing"
)

// FuzzCheckURL: whatever the host spelling, a URL the strict policy accepts
// never names a non-public address literally or in a legacy numeric form.
func FuzzCheckURL(f *testing.F) {
	for _, s := range []string{"127.0.0.1", "2130706433", "0x7f.0.0.1", "0177.0.0.1", "127.1", "[::ffff:127.0.0.1]", "example.com", "8.8.8.8", "0", "0x", "1.2.3.4.5"} {
		f.Add(s)
	}
	f.Fuzz(func(t *testing.T, host string) {
		u, err := url.Parse("https://" + host + "/")
		if err != nil || (Policy{}).CheckURL(u) != nil {
			return
		}
		h := u.Hostname()
		if ip, err := netip.ParseAddr(h); err == nil && Check(ip) != nil {
			t.Fatalf("accepted non-public literal %q", h)
		}
		if ip, ok := legacyIPv4(h); ok {
			t.Fatalf("accepted legacy spelling %q of %s", h, ip)
		}
	})
}
