package servicenow

import (
	"os"
	"strings"
	"testing"

	"github.com/hookgate/hookgate/plugins/sdk"
	"github.com/hookgate/hookgate/plugins/sdk/sdktest"
	"github.com/hookgate/hookgate/plugins/servicenow/snowfake"
)

// TestMain doubles as the sink process Conformance starts.
func TestMain(m *testing.M) {
	sdktest.ServeIfChild(map[string]sdk.Sink{"servicenow": New()})
	os.Exit(m.Run())
}

const (
	clientSecret = "cs-Zk93hQ7xLr"
	userPassword = "pw-Vb51nT2sWq"
)

func newFake(t *testing.T) *snowfake.Server {
	t.Helper()
	f := snowfake.New(snowfake.Options{Username: "hookgate", Password: userPassword, ClientID: "cid-1", ClientSecret: clientSecret})
	t.Cleanup(f.Close)
	return f
}

func oauthSettings(f *snowfake.Server) map[string]string {
	return map[string]string{
		"instance_url": f.URL, "table": "incident", "correlation_field": "correlation_id",
		"auth": "oauth", "client_id": "cid-1", "client_secret": clientSecret,
		"username": "hookgate", "password": userPassword,
	}
}

func TestConformance(t *testing.T) {
	sdktest.Conformance(t, sdktest.Suite{Sink: "servicenow", Fake: func(t *testing.T) *sdktest.Fake {
		f := newFake(t)
		return &sdktest.Fake{
			Settings: oauthSettings(f),
			Secrets:  []string{clientSecret, userPassword},
			Request: func() *sdk.Request {
				return &sdk.Request{Method: "POST", URL: f.URL, Body: []byte(`{"correlation_id":"12345","short_description":"Router Installation - Site 42"}`)}
			},
			Check: func(t *testing.T, res *sdk.Result) {
				rec := f.Records("incident")[res.ExternalRef]
				if rec["correlation_id"] != "12345" || rec["short_description"] != "Router Installation - Site 42" {
					t.Errorf("record %s = %v", res.ExternalRef, rec)
				}
				if n := len(f.Records("incident")); n != 1 {
					t.Errorf("%d records; the upsert must keep one per work order", n)
				}
			},
			FailRetryable: func() { f.Fail(snowfake.Fault{Status: 503, Message: "Service Unavailable"}) },
			FailFinal: func() {
				f.Fail(snowfake.Fault{Status: 403, Message: "Operation Failed", Detail: "ACL restricts the record"})
			},
			Stall: f.Stall,
			BadSettings: []sdktest.BadConfig{
				{Settings: sdktest.With(oauthSettings(f), "instance_url", "ftp://acme"), Want: "instance_url: must be an https URL"},
				{Settings: sdktest.With(oauthSettings(f), "auth", "token"), Want: "auth: must be basic or oauth"},
				{Settings: sdktest.With(oauthSettings(f), "client_secret", ""), Want: `client_secret: required when auth = "oauth"`},
				{Settings: sdktest.With(oauthSettings(f), "table", ""), Want: "table: required"},
				{Settings: sdktest.With(oauthSettings(f), "passwd", userPassword), Want: "passwd: unknown setting"},
			},
		}
	}})
}

// The https rule holds when the gateway does not allow plain http.
func TestInstanceURLNeedsHTTPSUnlessAllowed(t *testing.T) {
	f := newFake(t)
	err := New().Configure(t.Context(), sdk.Config{Settings: oauthSettings(f)})
	if err == nil || !strings.Contains(err.Error(), "instance_url: must be an https URL") {
		t.Fatalf("err = %v", err)
	}
}
