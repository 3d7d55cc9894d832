package api

import (
	"net"
	"testing"

	"github.com/gofiber/fiber/v2"
	"github.com/valyala/fasthttp"
)

// TestClientAddr: how X-Forwarded-For is read behind trusted proxies.
func TestClientAddr(t *testing.T) {
	proxies, err := NewTrustedProxies([]string{"10.0.0.0/8", "::1", "192.0.2.1"})
	if err != nil {
		t.Fatal(err)
	}
	app := fiber.New()
	for _, c := range []struct {
		name string
		peer string
		xff  []string
		want string
	}{
		{"untrusted peer", "203.0.113.5", []string{"198.51.100.1"}, "203.0.113.5"},
		{"trusted, no header", "10.0.0.2", nil, "10.0.0.2"},
		{"one hop", "10.0.0.2", []string{"198.51.100.1"}, "198.51.100.1"},
		{"right-most untrusted", "10.0.0.2", []string{"1.1.1.1, 198.51.100.1, 10.9.9.9"}, "198.51.100.1"},
		{"several lines", "10.0.0.2", []string{"1.1.1.1", "198.51.100.1, 10.9.9.9"}, "198.51.100.1"},
		{"with ports", "10.0.0.2", []string{"[2001:db8::7]:443, 198.51.100.1:4711"}, "198.51.100.1"},
		{"IPv6 proxy", "::1", []string{"2001:db8::7"}, "2001:db8::7"},
		{"mapped IPv4", "::ffff:10.0.0.2", []string{"::ffff:198.51.100.1"}, "198.51.100.1"},
		{"garbage past the trusted hops", "10.0.0.2", []string{"evil, 10.3.3.3"}, "10.3.3.3"},
		{"all trusted", "10.0.0.2", []string{"10.1.1.1, 192.0.2.1"}, "10.1.1.1"},
	} {
		var req fasthttp.Request
		for _, v := range c.xff {
			req.Header.Add("X-Forwarded-For", v)
		}
		var fctx fasthttp.RequestCtx
		fctx.Init(&req, &net.TCPAddr{IP: net.ParseIP(c.peer), Port: 1234}, nil)
		fc := app.AcquireCtx(&fctx)
		if got := proxies.ClientAddr(fc); got != c.want {
			t.Errorf("%s: %s, want %s", c.name, got, c.want)
		}
		app.ReleaseCtx(fc)
	}
}
