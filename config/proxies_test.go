package config

import (
	"net/netip"
	"reflect"
	"testing"
)

// TestTrustedProxies: server.trusted_proxies takes IPs and CIDRs, each bad
// entry reported at its own position; auth.max_failures_per_client must
// be at least 1.
func TestTrustedProxies(t *testing.T) {
	cfg := mustParse(t, "server {\n  trusted_proxies = [\"10.0.0.0/8\", \"192.168.1.7\", \"fd00::/8\"]\n}\nauth {\n  max_failures_per_client = 5\n}", nil)
	if want := []string{"10.0.0.0/8", "192.168.1.7", "fd00::/8"}; !reflect.DeepEqual(cfg.Server.TrustedProxies, want) || cfg.Auth.MaxFailuresPerClient != 5 {
		t.Errorf("trusted_proxies %v, max_failures_per_client %d", cfg.Server.TrustedProxies, cfg.Auth.MaxFailuresPerClient)
	}
	if Defaults().Server.TrustedProxies != nil || Defaults().Auth.MaxFailuresPerClient != 10 {
		t.Errorf("defaults: trusted_proxies %v, max_failures_per_client %d", Defaults().Server.TrustedProxies, Defaults().Auth.MaxFailuresPerClient)
	}
	_, got := parse(t, "server {\n  trusted_proxies = [\"10.0.0.0/8\", \"proxy.internal\", \"1.2.3.4/33\"]\n}\nauth {\n  max_failures_per_client = 0\n}", nil)
	expectDiags(t, got,
		`t.hcl:2:36: invalid server.trusted_proxies[1] "proxy.internal": expected an IP address ("10.0.0.1", "::1") or a CIDR`,
		`t.hcl:2:54: invalid server.trusted_proxies[2] "1.2.3.4/33": expected an IP address`,
		`t.hcl:5:3: invalid auth.max_failures_per_client: 0: must be at least 1`,
	)
	for in, want := range map[string]string{
		"10.0.0.1":                "10.0.0.1/32",
		"::ffff:10.0.0.1":         "10.0.0.1/32",
		"10.1.2.3/8":              "10.0.0.0/8",
		"::ffff:10.0.0.0/104":     "10.0.0.0/8",
		"2001:db8::1":             "2001:db8::1/128",
		"2001:db8:0:0:0:0:0:0/32": "2001:db8::/32",
	} {
		p, err := ParseTrustedProxy(in)
		if err != nil || p != netip.MustParsePrefix(want) {
			t.Errorf("ParseTrustedProxy(%q) = %v, %v, want %s", in, p, err, want)
		}
	}
}
