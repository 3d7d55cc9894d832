package api

import (
	"testing"
	"time"
	"unsafe"

	lru "github.com/hashicorp/golang-lru/v2"

	"github.com/hookgate/hookgate/config"
	"github.com/hookgate/hookgate/store/storetest"
)

// TestTokenCacheOwnsItsKeys: fasthttp hands out strings that alias a reused
// buffer; a cached token must survive that buffer being overwritten.
func TestTokenCacheOwnsItsKeys(t *testing.T) {
	cache, _ := lru.New[string, *Claims](2)
	clock := storetest.ClockFor(t)
	a := &Tokens{key: []byte("0123456789abcdef0123456789abcdef"), ttl: time.Hour, clock: clock, verified: cache,
		clients: map[string]config.Client{"a": {ID: "a", CompanyID: 1}, "b": {ID: "b", CompanyID: 2}}}
	tokA, _ := a.Issue(config.Client{ID: "a", CompanyID: 1})
	tokB, _ := a.Issue(config.Client{ID: "b", CompanyID: 2})
	if len(tokA) != len(tokB) {
		t.Fatal("tokens of different length: the test needs equal lengths")
	}
	buf := []byte(tokA)
	view := unsafe.String(&buf[0], len(buf)) // what c.Get returns
	if c, err := a.Parse(view); err != nil || c.ClientID != "a" {
		t.Fatalf("parse A: %v %v", c, err)
	}
	copy(buf, tokB) // the request buffer is reused for the next request
	for i := range 3 {
		for _, want := range []struct{ tok, id string }{{tokA, "a"}, {tokB, "b"}} {
			c, err := a.Parse(want.tok)
			if err != nil || c.ClientID != want.id {
				t.Fatalf("round %d: parse %s = %v, %v", i, want.id, c, err)
			}
		}
	}
}
