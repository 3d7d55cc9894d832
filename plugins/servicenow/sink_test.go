package servicenow

import (
	"strings"
	"testing"
	"time"

	"github.com/hookgate/hookgate/plugins/sdk/sdktest"
	"github.com/hookgate/hookgate/plugins/servicenow/snowfake"
)

// configured is a sink configured for the fake f. It tells time by the
// fake's clock, so one Advance expires tokens for both.
func configured(t *testing.T, f *snowfake.Server, settings map[string]string) *Sink {
	t.Helper()
	s := NewWithClock(f.Now)
	sdktest.Configure(t, s, settings)
	return s
}

func TestUpsertCreatesThenUpdates(t *testing.T) {
	f := newFake(t)
	s := configured(t, f, oauthSettings(f))
	first := sdktest.Deliver(t, s, `{"correlation_id":"wo-1","short_description":"new","state":"2"}`)
	if !first.OK() || first.Status != 201 || first.ExternalRef == "" {
		t.Fatalf("create: %+v", first)
	}
	second := sdktest.Deliver(t, s, `{"correlation_id":"wo-1","short_description":"changed","state":"6"}`)
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
	s := configured(t, f, settings)
	if res := sdktest.Deliver(t, s, `{"correlation_id":7}`); !res.OK() {
		t.Fatalf("%+v", res)
	}
	settings["password"] = "wrong"
	s = configured(t, f, settings)
	res := sdktest.Deliver(t, s, `{"correlation_id":7}`)
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
	s := configured(t, f, oauthSettings(f))
	for i := 0; i < 3; i++ {
		if res := sdktest.Deliver(t, s, `{"correlation_id":"a"}`); !res.OK() {
			t.Fatalf("%+v", res)
		}
	}
	if n := f.TokensIssued(); n != 1 {
		t.Fatalf("%d token requests for 3 deliveries; want 1", n)
	}
	// Past the token's lifetime: the sink renews before use instead of
	// collecting a 401 first.
	f.Advance(31 * time.Minute)
	if res := sdktest.Deliver(t, s, `{"correlation_id":"a"}`); !res.OK() {
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
	s := configured(t, f, oauthSettings(f))
	sdktest.Deliver(t, s, `{"correlation_id":"a"}`)
	f.RevokeTokens() // the instance forgot the token before its expiry
	if res := sdktest.Deliver(t, s, `{"correlation_id":"a"}`); !res.OK() {
		t.Fatalf("after revocation: %+v", res)
	}
	if n := f.TokensIssued(); n != 2 {
		t.Fatalf("%d token requests; want 2", n)
	}
	// A token refused twice in a row is not retried forever.
	f.Fail(snowfake.Fault{Status: 401, Message: "User Not Authenticated"}, snowfake.Fault{Status: 401, Message: "User Not Authenticated"})
	res := sdktest.Deliver(t, s, `{"correlation_id":"a"}`)
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
	s := configured(t, f, settings)
	if res := sdktest.Deliver(t, s, `{"correlation_id":"a"}`); !res.OK() {
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
	s := configured(t, f, settings)
	res := sdktest.Deliver(t, s, `{"correlation_id":"a"}`)
	if res.Retryable || res.Status != 401 || !strings.Contains(res.Error, "oauth token request") || strings.Contains(res.Error, "XYZ") {
		t.Fatalf("%+v", res)
	}
}

func TestRetryAfterIsHonoured(t *testing.T) {
	f := newFake(t)
	s := configured(t, f, oauthSettings(f))
	f.Fail(snowfake.Fault{Status: 429, Message: "Rate limit exceeded", Detail: "Rate limit of 10 requests per hour for Table API exceeded", RetryAfter: "120"})
	res := sdktest.Deliver(t, s, `{"correlation_id":"a"}`)
	if !res.Retryable || res.RetryAfter != 2*time.Minute || res.Status != 429 ||
		res.Error != "HTTP 429 Too Many Requests: Rate limit exceeded: Rate limit of 10 requests per hour for Table API exceeded" {
		t.Fatalf("%+v", res)
	}
	f.Fail(snowfake.Fault{Status: 500, Message: "boom"})
	if res := sdktest.Deliver(t, s, `{"correlation_id":"a"}`); !res.Retryable || res.Status != 500 {
		t.Fatalf("%+v", res)
	}
}

func TestBadRequestCarriesMessageAndDetail(t *testing.T) {
	f := newFake(t)
	s := configured(t, f, oauthSettings(f))
	// The lookup passes (a zero Fault), the insert is refused.
	f.Fail(snowfake.Fault{}, snowfake.Fault{Status: 400, Message: "Invalid input", Detail: "Field 'state' has an invalid value"})
	res := sdktest.Deliver(t, s, `{"correlation_id":"a","state":"x"}`)
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
	s := configured(t, f, settings)
	res := sdktest.Deliver(t, s, `{"u_wo_id":"a","short_description":"mine"}`)
	if res.OK() || res.Retryable || !strings.Contains(res.Error, `is "u_wo_id" a column of table "incident"`) {
		t.Fatalf("%+v", res)
	}
	if f.Records("incident")[stranger]["short_description"] != "someone else's" {
		t.Fatal("the stranger's record was changed")
	}
}

func TestPayloadProblemsAreFinal(t *testing.T) {
	f := newFake(t)
	s := configured(t, f, oauthSettings(f))
	for body, want := range map[string]string{
		`[1,2]`:                                "not a JSON object",
		`{"short_description":"x"}`:            `no "correlation_id"`,
		`{"correlation_id":""}`:                "is empty",
		`{"correlation_id":{}}`:                "string or a number",
		`{"correlation_id":"a^ORactive=true"}`: "contains ^",
	} {
		res := sdktest.Deliver(t, s, body)
		if res.OK() || res.Retryable || !strings.Contains(res.Error, want) {
			t.Errorf("%s: %+v", body, res)
		}
	}
	if len(f.Requests()) != 0 {
		t.Fatalf("a bad payload reached the instance: %d requests", len(f.Requests()))
	}
}
