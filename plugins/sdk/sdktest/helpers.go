package sdktest

import (
	"context"
	"maps"
	"testing"
	"time"

	"github.com/hookgate/hookgate/plugins/sdk"
)

// With returns a copy of settings with k set to v, or without k when v is
// empty: a variant of a good configuration, such as a BadConfig's, in one
// expression.
func With(settings map[string]string, k, v string) map[string]string {
	c := maps.Clone(settings)
	if c == nil {
		c = map[string]string{}
	}
	if v == "" {
		delete(c, k)
	} else {
		c[k] = v
	}
	return c
}

// Configure configures s in-process with settings and a network policy
// that lets it reach a fake on loopback (plain http, private addresses),
// failing the test when s refuses them.
func Configure(t testing.TB, s sdk.Sink, settings map[string]string) {
	t.Helper()
	if err := s.Configure(context.Background(), sdk.Config{Settings: settings, AllowHTTP: true, AllowPrivateNetworks: true}); err != nil {
		t.Fatal(err)
	}
}

// Deliver hands s one delivery of body in-process (ID "d:1", a 10 s
// Timeout) and returns its Result, failing the test when Deliver returns
// an error.
func Deliver(t testing.TB, s sdk.Sink, body string) *sdk.Result {
	t.Helper()
	res, err := s.Deliver(context.Background(), &sdk.Request{ID: "d:1", Body: []byte(body), Timeout: 10 * time.Second})
	if err != nil {
		t.Fatal(err)
	}
	return res
}
