package servicenow

import (
	"context"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/hookgate/hookgate/plugins/sdk"
	"github.com/hookgate/hookgate/plugins/servicenow/snowfake"
)

// clock is a settable clock for token expiry.
type clock struct {
	mu sync.Mutex
	t  time.Time
}

func (c *clock) now() time.Time { c.mu.Lock(); defer c.mu.Unlock(); return c.t }
func (c *clock) advance(d time.Duration) {
	c.mu.Lock()
	c.t = c.t.Add(d)
	c.mu.Unlock()
}

func configured(t *testing.T, settings map[string]string) (*Sink, *clock) {
	t.Helper()
	c := &clock{t: time.Now()}
	s := NewWithClock(c.now)
	if err := s.Configure(context.Background(), sdk.Config{Settings: settings, AllowHTTP: true, AllowPrivateNetworks: true}); err != nil {
		t.Fatal(err)
	}
	return s, c
}

func deliver(t *testing.T, s *Sink, body string) *sdk.Result {
	t.Helper()
	res, err := s.Deliver(context.Background(), &sdk.Request{ID: "d:1", Body: []byte(body), Timeout: 10 * time.Second})
	if err != nil {
		t.Fatal(err)
	}
	return res
}

func TestUpsertCreatesThenUpdates(t *testing.T) {
	f := newFake(t)
	s, _ := configured(t, oauthSettings(f))
	first := deliver(t, s, `{"correlation_id":"wo-1","short_description":"new","state":"2"}`)
	if !first.OK() || first.Status != 201 || first.ExternalRef == "" {
		t.Fatalf("create: %+v", first)
	}
	second := deliver(t, s, `{"correlation_id":"wo-1","short_description":"changed","state":"6"}`)
	if !second.OK() || second.Status != 200 || second.ExternalRef != first.ExternalRef {
		t.Fatalf("update: %+v (want sys_id %s)", second, first.ExternalRef)
	}
	rec := f.Records("incident")[first.ExternalRef]
	if rec["short_description"] != "changed" || rec["state"] != "6" || len(f.Records("incident")) != 1 {
		t.Fatalf("records: %v", f.Records("incident"))
	}
	var methods []string
	for _, r := range f.Requests() {
		methods = append(methods, r.Method+" "+r.Path)
		if r.Method == "GET" {
			if q := r.Query.Get("sysparm_query"); q != "correlation_id=wo-1" || r.Query.Get("sysparm_limit") != "1" {
				t.Errorf("lookup query %v", r.Query)
			}
		}
	}
	want := "POST /oauth_token.do|GET /api/now/table/incident|POST /api/now/table/incident|GET /api/now/table/incident|PATCH /api/now/table/incident/" + first.ExternalRef
	if got := strings.Join(methods, "|"); got != want {
		t.Fatalf("requests\n got %s\nwant %s", got, want)
	}
}

func TestBasicAuth(t *testing.T) {
	f := newFake(t)
	settings := map[string]string{"instance_url": f.URL, "table": "incident", "correlation_field": "correlation_id",
		"auth": "basic", "username": "hookgate", "password": userPassword}
	s, _ := configured(t, settings)
	if res := deliver(t, s, `{"correlation_id":7}`); !res.OK() {
		t.Fatalf("%+v", res)
	}
	settings["password"] = "wrong"
	s, _ = configured(t, settings)
	res := deliver(t, s, `{"correlation_id":7}`)
	if res.Retryable || res.Status != 401 || !strings.Contains(res.Error, "User Not Authenticated: Required to provide Auth information") {
		t.Fatalf("%+v", res)
	}
	for _, r := range f.Requests() {
		if r.Path == "/oauth_token.do" || r.Auth != "Basic" {
			t.Fatalf("basic auth sent %+v", r)
		}
	}
}

func TestTokenIsCachedUntilItExpires(t *testing.T) {
	f := newFake(t)
	s, c := configured(t, oauthSettings(f))
	for i := 0; i < 3; i++ {
		if res := deliver(t, s, `{"correlation_id":"a"}`); !res.OK() {
			t.Fatalf("%+v", res)
		}
	}
	if n := f.TokensIssued(); n != 1 {
		t.Fatalf("%d token requests for 3 deliveries; want 1", n)
	}
	// Past the token's lifetime on both clocks: the sink renews before
	// use instead of collecting a 401 first.
	c.advance(31 * time.Minute)
	f.Advance(31 * time.Minute)
	if res := deliver(t, s, `{"correlation_id":"a"}`); !res.OK() {
		t.Fatalf("%+v", res)
	}
	if n := f.TokensIssued(); n != 2 {
		t.Fatalf("%d token requests; want 2", n)
	}
	for _, r := range f.Requests() {
		if r.Path != "/oauth_token.do" && r.Auth != "Bearer" {
			t.Fatalf("table request without a bearer token: %+v", r)
		}
	}
}

func TestRefreshOnceOn401(t *testing.T) {
	f := newFake(t)
	s, _ := configured(t, oauthSettings(f))
	deliver(t, s, `{"correlation_id":"a"}`)
	f.RevokeTokens() // the instance forgot the token before its expiry
	if res := deliver(t, s, `{"correlation_id":"a"}`); !res.OK() {
		t.Fatalf("after revocation: %+v", res)
	}
	if n := f.TokensIssued(); n != 2 {
		t.Fatalf("%d token requests; want 2", n)
	}
	// A token refused twice in a row is not retried forever.
	f.Fail(snowfake.Fault{Status: 401, Message: "User Not Authenticated"}, snowfake.Fault{Status: 401, Message: "User Not Authenticated"})
	res := deliver(t, s, `{"correlation_id":"a"}`)
	if res.OK() || res.Retryable || res.Status != 401 {
		t.Fatalf("%+v", res)
	}
	if n := f.TokensIssued(); n != 3 {
		t.Fatalf("%d token requests; want 3 (one refresh per delivery)", n)
	}
}

func TestClientCredentialsGrant(t *testing.T) {
	f := newFake(t)
	settings := oauthSettings(f)
	delete(settings, "username")
	delete(settings, "password")
	s, _ := configured(t, settings)
	if res := deliver(t, s, `{"correlation_id":"a"}`); !res.OK() {
		t.Fatalf("%+v", res)
	}
	form := f.Requests()[0].Form
	if form.Get("grant_type") != "client_credentials" || form.Has("username") {
		t.Fatalf("token form %v", form.Get("grant_type"))
	}
}

func TestWrongClientSecretIsFinal(t *testing.T) {
	f := newFake(t)
	settings := oauthSettings(f)
	settings["client_secret"] = "not-the-secret-XYZ"
	s, _ := configured(t, settings)
	res := deliver(t, s, `{"correlation_id":"a"}`)
	if res.Retryable || res.Status != 401 || !strings.Contains(res.Error, "oauth token request") || strings.Contains(res.Error, "XYZ") {
		t.Fatalf("%+v", res)
	}
}

func TestRetryAfterIsHonoured(t *testing.T) {
	f := newFake(t)
	s, _ := configured(t, oauthSettings(f))
	f.Fail(snowfake.Fault{Status: 429, Message: "Rate limit exceeded", Detail: "Rate limit of 10 requests per hour for Table API exceeded", RetryAfter: "120"})
	res := deliver(t, s, `{"correlation_id":"a"}`)
	if !res.Retryable || res.RetryAfter != 2*time.Minute || res.Status != 429 ||
		res.Error != "HTTP 429 Too Many Requests: Rate limit exceeded: Rate limit of 10 requests per hour for Table API exceeded" {
		t.Fatalf("%+v", res)
	}
	f.Fail(snowfake.Fault{Status: 500, Message: "boom"})
	if res := deliver(t, s, `{"correlation_id":"a"}`); !res.Retryable || res.Status != 500 {
		t.Fatalf("%+v", res)
	}
}

func TestBadRequestCarriesMessageAndDetail(t *testing.T) {
	f := newFake(t)
	s, _ := configured(t, oauthSettings(f))
	// The lookup passes (a zero Fault), the insert is refused.
	f.Fail(snowfake.Fault{}, snowfake.Fault{Status: 400, Message: "Invalid input", Detail: "Field 'state' has an invalid value"})
	res := deliver(t, s, `{"correlation_id":"a","state":"x"}`)
	if res.OK() || res.Retryable || res.Status != 400 || res.Error != "HTTP 400 Bad Request: Invalid input: Field 'state' has an invalid value" {
		t.Fatalf("%+v", res)
	}
	if reqs := f.Requests(); reqs[len(reqs)-1].Method != "POST" {
		t.Fatalf("the fault did not hit the insert: %+v", reqs[len(reqs)-1])
	}
}

func TestUnknownCorrelationColumnDoesNotUpdateAStranger(t *testing.T) {
	f := newFake(t)
	stranger := f.Seed("incident", map[string]string{"short_description": "someone else's"})
	settings := oauthSettings(f)
	settings["correlation_field"] = "u_wo_id" // not a column: ServiceNow ignores the condition
	s, _ := configured(t, settings)
	res := deliver(t, s, `{"u_wo_id":"a","short_description":"mine"}`)
	if res.OK() || res.Retryable || !strings.Contains(res.Error, `is "u_wo_id" a column of table "incident"`) {
		t.Fatalf("%+v", res)
	}
	if f.Records("incident")[stranger]["short_description"] != "someone else's" {
		t.Fatal("the stranger's record was changed")
	}
}

func TestPayloadProblemsAreFinal(t *testing.T) {
	f := newFake(t)
	s, _ := configured(t, oauthSettings(f))
	for body, want := range map[string]string{
		`[1,2]`:                                "not a JSON object",
		`{"short_description":"x"}`:            `no "correlation_id"`,
		`{"correlation_id":""}`:                "is empty",
		`{"correlation_id":{}}`:                "string or a number",
		`{"correlation_id":"a^ORactive=true"}`: "contains ^",
	} {
		res := deliver(t, s, body)
		if res.OK() || res.Retryable || !strings.Contains(res.Error, want) {
			t.Errorf("%s: %+v", body, res)
		}
	}
	if len(f.Requests()) != 0 {
		t.Fatalf("a bad payload reached the instance: %d requests", len(f.Requests()))
	}
}
