package netguard

import (
	"net/netip"
	"net/url"
	"strings"
	"testing"
)

func TestCheck(t *testing.T) {
	cases := []struct {
		ip      string
		blocked bool
	}{
		{"8.8.8.8", false},
		{"1.1.1.1", false},
		{"2606:4700:4700::1111", false},
		{"127.0.0.1", true},
		{"127.255.255.254", true},
		{"10.1.2.3", true},
		{"172.16.0.1", true},
		{"172.31.255.255", true},
		{"172.32.0.1", false},
		{"192.168.1.1", true},
		{"169.254.169.254", true},
		{"100.64.0.1", true},
		{"100.127.255.255", true},
		{"100.128.0.1", false},
		{"0.0.0.0", true},
		{"255.255.255.255", true},
		{"224.0.0.251", true},
		{"::", true},
		{"::1", true},
		{"fc00::1", true},
		{"fd12:3456::1", true},
		{"fe80::1", true},
		{"fe80::1%eth0", true},
		{"ff02::1", true},
		{"::ffff:127.0.0.1", true}, // IPv4-mapped
		{"::ffff:10.0.0.1", true},
		{"::ffff:169.254.169.254", true},
		{"::ffff:8.8.8.8", false},
		{"::127.0.0.1", true},         // IPv4-compatible (deprecated)
		{"64:ff9b::7f00:1", true},     // NAT64 of 127.0.0.1
		{"64:ff9b::808:808", false},   // NAT64 of 8.8.8.8
		{"2002:7f00:1::1", true},      // 6to4 of 127.0.0.1
		{"2002:808:808::1", false},    // 6to4 of 8.8.8.8
		{"2001:db8::1", true},         // documentation
		{"2001:0:4136:e378::1", true}, // Teredo
	}
	for _, c := range cases {
		err := Check(netip.MustParseAddr(c.ip))
		if (err != nil) != c.blocked {
			t.Errorf("Check(%s) = %v, want blocked=%v", c.ip, err, c.blocked)
		}
		if err != nil && !IsRefused(err) {
			t.Errorf("Check(%s) error is not a RefusedError", c.ip)
		}
	}
}

func TestLegacyIPv4(t *testing.T) {
	cases := map[string]string{
		"2130706433":          "127.0.0.1",
		"0x7f000001":          "127.0.0.1",
		"0x7f.0.0.1":          "127.0.0.1",
		"0177.0.0.1":          "127.0.0.1",
		"0177.0.0.01":         "127.0.0.1",
		"127.1":               "127.0.0.1",
		"127.0.1":             "127.0.0.1",
		"0":                   "0.0.0.0",
		"017700000001":        "127.0.0.1",
		"3232235777":          "192.168.1.1",
		"0xA9.0xFE.0xA9.0xFE": "169.254.169.254",
	}
	for host, want := range cases {
		got, ok := legacyIPv4(host)
		if !ok || got.String() != want {
			t.Errorf("legacyIPv4(%q) = %v, %v; want %s", host, got, ok, want)
		}
	}
	for _, host := range []string{"127.0.0.1", "8.8.8.8", "example.com", "0x7g.0.0.1", "1.2.3.4.5", "256.1.1.1", "4294967296", "09.0.0.1", "::1", "a.b"} {
		if got, ok := legacyIPv4(host); ok {
			t.Errorf("legacyIPv4(%q) = %v, want not a legacy spelling", host, got)
		}
	}
}

func TestCheckURL(t *testing.T) {
	strict := Policy{}
	open := Policy{AllowHTTP: true, AllowPrivateNetworks: true}
	cases := []struct {
		p   Policy
		url string
		ok  bool
	}{
		{strict, "https://example.com/hook", true},
		{strict, "http://example.com/hook", false},
		{strict, "ftp://example.com/", false},
		{strict, "https:///nohost", false},
		{strict, "https://127.0.0.1/", false},
		{strict, "https://[::ffff:7f00:1]/", false},
		{strict, "https://2130706433/", false},
		{strict, "https://8.8.8.8/", true},
		{open, "http://127.0.0.1:8080/", true},
		{open, "http://0x7f.0.0.1/", false}, // ambiguous spellings are refused whatever the policy
	}
	for _, c := range cases {
		u, err := url.Parse(c.url)
		if err != nil {
			t.Fatal(err)
		}
		err = c.p.CheckURL(u)
		if (err == nil) != c.ok {
			t.Errorf("CheckURL(%s, %+v) = %v, want ok=%v", c.url, c.p, err, c.ok)
		}
		if err != nil && !strings.HasPrefix(err.Error(), "refused: ") {
			t.Errorf("error %q should start with refused:", err)
		}
	}
}

func TestControl(t *testing.T) {
	if err := Control("tcp4", "127.0.0.1:80", nil); !IsRefused(err) {
		t.Errorf("loopback dial allowed: %v", err)
	}
	if err := Control("tcp6", "[::ffff:192.168.0.1]:443", nil); !IsRefused(err) {
		t.Errorf("mapped private dial allowed: %v", err)
	}
	if err := Control("tcp4", "93.184.216.34:443", nil); err != nil {
		t.Errorf("public dial refused: %v", err)
	}
}
