package salesforce

import (
	"context"
	"encoding/json"
	"strings"
	"testing"
	"time"

	"github.com/hookgate/hookgate/plugins/salesforce/sffake"
	"github.com/hookgate/hookgate/plugins/sdk"
	"github.com/hookgate/hookgate/plugins/sdk/sdktest"
)

// configured is a sink configured for the fake f. It tells time by the
// fake's clock, so one Advance expires tokens for both.
func configured(t *testing.T, f *sffake.Server, settings map[string]string) *Sink {
	t.Helper()
	s := NewWithClock(f.Now)
	sdktest.Configure(t, s, settings)
	return s
}

func TestUpsertCreatesThenUpdates(t *testing.T) {
	f := newFake(t, sffake.Options{})
	s := configured(t, f, validSettings(f))
	first := sdktest.Deliver(t, s, `{"FN_Work_Order_Id__c":"wo/1","Subject":"new","Priority":"High"}`)
	if !first.OK() || first.Status != 201 || !strings.HasPrefix(first.ExternalRef, "500") {
		t.Fatalf("create: %+v", first)
	}
	second := sdktest.Deliver(t, s, `{"FN_Work_Order_Id__c":"wo/1","Subject":"changed"}`)
	if !second.OK() || second.Status != 200 || second.ExternalRef != first.ExternalRef {
		t.Fatalf("update: %+v", second)
	}
	if recs := f.Records("Case"); len(recs) != 1 || recs[first.ExternalRef]["Subject"] != "changed" {
		t.Fatalf("records %v", recs)
	}
	reqs := f.Requests()
	if len(reqs) != 3 || reqs[0].Path != "/services/oauth2/token" || reqs[0].Form.Get("grant_type") != "client_credentials" {
		t.Fatalf("requests %+v", reqs)
	}
	up := reqs[1]
	if up.Method != "PATCH" || up.Path != "/services/data/v60.0/sobjects/Case/FN_Work_Order_Id__c/wo/1" || !up.Bearer {
		t.Fatalf("upsert request %+v", up)
	}
	var sent map[string]any
	if err := json.Unmarshal(up.Body, &sent); err != nil || sent["Subject"] != "new" || sent["Priority"] != "High" {
		t.Fatalf("body %s", up.Body)
	}
	if _, ok := sent["FN_Work_Order_Id__c"]; ok {
		t.Fatalf("the external id field was sent in the body: %s", up.Body)
	}
}

// Before API v46.0 an update answers 204 with no body; the id is read back.
func TestOldAPIVersionReadsIDBack(t *testing.T) {
	f := newFake(t, sffake.Options{})
	s := configured(t, f, sdktest.With(validSettings(f), "api_version", "v45.0"))
	first := sdktest.Deliver(t, s, `{"FN_Work_Order_Id__c":42,"Subject":"a"}`)
	second := sdktest.Deliver(t, s, `{"FN_Work_Order_Id__c":42,"Subject":"b"}`)
	if !second.OK() || second.Status != 204 || second.ExternalRef != first.ExternalRef || first.ExternalRef == "" {
		t.Fatalf("first %+v\nsecond %+v", first, second)
	}
	last := f.Requests()[len(f.Requests())-1]
	if last.Method != "GET" || last.Query.Get("fields") != "Id" {
		t.Fatalf("last request %+v", last)
	}
}

func TestSessionIsReusedAndRefreshedOnceOnInvalidSession(t *testing.T) {
	f := newFake(t, sffake.Options{})
	s := configured(t, f, validSettings(f))
	for i := 0; i < 3; i++ {
		sdktest.Deliver(t, s, `{"FN_Work_Order_Id__c":"1","Subject":"a"}`)
	}
	if n := f.TokensIssued(); n != 1 {
		t.Fatalf("%d tokens for 3 deliveries", n)
	}
	f.ExpireSessions()
	if res := sdktest.Deliver(t, s, `{"FN_Work_Order_Id__c":"1","Subject":"a"}`); !res.OK() {
		t.Fatalf("after INVALID_SESSION_ID: %+v", res)
	}
	if n := f.TokensIssued(); n != 2 {
		t.Fatalf("%d tokens; want 2", n)
	}
	// No expires_in in the answer: token_ttl (1h) decides when to renew.
	f.Advance(59*time.Minute + 45*time.Second) // the fake's sessions last 2h
	sdktest.Deliver(t, s, `{"FN_Work_Order_Id__c":"1","Subject":"a"}`)
	if n := f.TokensIssued(); n != 3 {
		t.Fatalf("%d tokens after the ttl; want 3", n)
	}
	// Refused twice: one refresh per delivery, then final.
	f.Fail(sffake.Fault{Status: 401, ErrorCode: "INVALID_SESSION_ID", Message: "Session expired or invalid"},
		sffake.Fault{Status: 401, ErrorCode: "INVALID_SESSION_ID", Message: "Session expired or invalid"})
	res := sdktest.Deliver(t, s, `{"FN_Work_Order_Id__c":"1","Subject":"a"}`)
	if res.Retryable || res.Status != 401 || res.Error != "HTTP 401 Unauthorized: INVALID_SESSION_ID: Session expired or invalid" {
		t.Fatalf("%+v", res)
	}
}

func TestClassification(t *testing.T) {
	f := newFake(t, sffake.Options{})
	s := configured(t, f, validSettings(f))
	cases := []struct {
		fault     sffake.Fault
		retryable bool
		after     time.Duration
		want      string
	}{
		{sffake.Fault{Status: 403, ErrorCode: "REQUEST_LIMIT_EXCEEDED", Message: "TotalRequests Limit exceeded."}, true, 0, "REQUEST_LIMIT_EXCEEDED: TotalRequests Limit exceeded."},
		{sffake.Fault{Status: 400, ErrorCode: "UNABLE_TO_LOCK_ROW", Message: "unable to obtain exclusive access to this record"}, true, 0, "UNABLE_TO_LOCK_ROW"},
		{sffake.Fault{Status: 503, ErrorCode: "SERVER_UNAVAILABLE", Message: "down", RetryAfter: "30"}, true, 30 * time.Second, "HTTP 503 Service Unavailable"},
		{sffake.Fault{Status: 400, ErrorCode: "MALFORMED_ID", Message: "bad id", Fields: []string{"AccountId"}}, false, 0, "MALFORMED_ID: bad id (fields: AccountId)"},
		{sffake.Fault{Status: 403, ErrorCode: "INSUFFICIENT_ACCESS", Message: "no"}, false, 0, "HTTP 403 Forbidden: INSUFFICIENT_ACCESS: no"},
	}
	for _, c := range cases {
		f.Fail(c.fault)
		res := sdktest.Deliver(t, s, `{"FN_Work_Order_Id__c":"1","Subject":"a"}`)
		if res.OK() || res.Retryable != c.retryable || res.RetryAfter != c.after || !strings.Contains(res.Error, c.want) {
			t.Errorf("%s: %+v", c.fault.ErrorCode, res)
		}
	}
}

func TestFieldErrorsFromTheOrgAreFinal(t *testing.T) {
	f := newFake(t, sffake.Options{})
	s := configured(t, f, validSettings(f))
	for body, want := range map[string]string{
		`{"FN_Work_Order_Id__c":"9","Priority":"High"}`:          "REQUIRED_FIELD_MISSING: Required fields are missing: [Subject] (fields: Subject)",
		`{"FN_Work_Order_Id__c":"9","Subject":"a","Bogus__c":1}`: "INVALID_FIELD: No such column 'Bogus__c' on sobject of type Case",
	} {
		res := sdktest.Deliver(t, s, body)
		if res.Retryable || res.Status != 400 || !strings.Contains(res.Error, want) {
			t.Errorf("%s: %+v", body, res)
		}
	}
	res := sdktest.Deliver(t, s, `{"Subject":"a"}`)
	if res.Retryable || !strings.Contains(res.Error, `no "FN_Work_Order_Id__c"`) {
		t.Errorf("%+v", res)
	}
}

func TestWrongExternalIDFieldAndDuplicates(t *testing.T) {
	f := newFake(t, sffake.Options{})
	s := configured(t, f, sdktest.With(validSettings(f), "external_id_field", "Subject"))
	res := sdktest.Deliver(t, s, `{"Subject":"a"}`)
	if res.Retryable || res.Status != 404 || !strings.Contains(res.Error, "Provided external ID field does not exist or is not accessible: Subject") {
		t.Fatalf("%+v", res)
	}
}

func TestBadClientSecretIsFinalAndNotEchoed(t *testing.T) {
	f := newFake(t, sffake.Options{})
	s := configured(t, f, sdktest.With(validSettings(f), "client_secret", "wrong-secret-VALUE"))
	res := sdktest.Deliver(t, s, `{"FN_Work_Order_Id__c":"1","Subject":"a"}`)
	if res.Retryable || !strings.Contains(res.Error, "invalid_client: invalid client credentials") || strings.Contains(res.Error, "VALUE") {
		t.Fatalf("%+v", res)
	}
}

func TestInstanceURLFromTheTokenAnswerIsChecked(t *testing.T) {
	f := newFake(t, sffake.Options{InstanceURL: "https://na1.example.com/evil?x=1"})
	s := configured(t, f, validSettings(f))
	res := sdktest.Deliver(t, s, `{"FN_Work_Order_Id__c":"1","Subject":"a"}`)
	if res.OK() || res.Retryable || !strings.Contains(res.Error, "instance_url: must be just the address") {
		t.Fatalf("%+v", res)
	}
	// With the guard on (private networks not allowed), a login_url whose
	// name resolves to loopback is refused when dialled.
	f2 := newFake(t, sffake.Options{InstanceURL: "http://10.1.2.3"})
	s2 := New()
	login := strings.Replace(f2.URL, "127.0.0.1", "localhost", 1)
	_ = s2.Configure(context.Background(), sdk.Config{Settings: sdktest.With(validSettings(f2), "login_url", login), AllowHTTP: true})
	if res := sdktest.Deliver(t, s2, `{"FN_Work_Order_Id__c":"1","Subject":"a"}`); res.Retryable || !strings.Contains(res.Error, "refused") {
		t.Fatalf("%+v", res)
	}
}
