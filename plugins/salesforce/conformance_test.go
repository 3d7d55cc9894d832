package salesforce

import (
	"os"
	"testing"

	"github.com/hookgate/hookgate/plugins/salesforce/sffake"
	"github.com/hookgate/hookgate/plugins/sdk"
	"github.com/hookgate/hookgate/plugins/sdk/sdktest"
)

// TestMain doubles as the sink process Conformance starts.
func TestMain(m *testing.M) {
	sdktest.ServeIfChild(map[string]sdk.Sink{"salesforce": New()})
	os.Exit(m.Run())
}

const clientSecret = "sf-secret-Qm81Lz0pXe"

func newFake(t *testing.T, opts sffake.Options) *sffake.Server {
	t.Helper()
	opts.ClientID, opts.ClientSecret = "3MVG9-consumer-key", clientSecret
	f := sffake.New(opts)
	t.Cleanup(f.Close)
	return f
}

func validSettings(f *sffake.Server) map[string]string {
	return map[string]string{
		"login_url": f.URL, "client_id": "3MVG9-consumer-key", "client_secret": clientSecret,
		"api_version": "v60.0", "object": "Case", "external_id_field": "FN_Work_Order_Id__c",
	}
}

func TestConformance(t *testing.T) {
	sdktest.Conformance(t, sdktest.Suite{Sink: "salesforce", Fake: func(t *testing.T) *sdktest.Fake {
		f := newFake(t, sffake.Options{})
		return &sdktest.Fake{
			Settings: validSettings(f),
			Secrets:  []string{clientSecret},
			Request: func() *sdk.Request {
				return &sdk.Request{Method: "POST", URL: f.URL, Body: []byte(`{"FN_Work_Order_Id__c":"12345","Subject":"Router Installation - Site 42"}`)}
			},
			Check: func(t *testing.T, res *sdk.Result) {
				rec := f.Records("Case")[res.ExternalRef]
				if rec["Subject"] != "Router Installation - Site 42" || rec["FN_Work_Order_Id__c"] != "12345" {
					t.Errorf("record %s = %v", res.ExternalRef, rec)
				}
			},
			FailRetryable: func() {
				f.Fail(sffake.Fault{Status: 400, ErrorCode: "UNABLE_TO_LOCK_ROW", Message: "unable to obtain exclusive access to this record"})
			},
			FailFinal: func() {
				f.Fail(sffake.Fault{Status: 400, ErrorCode: "MALFORMED_ID", Message: "Account ID: id value of incorrect type: 12", Fields: []string{"AccountId"}})
			},
			Stall: f.Stall,
			BadSettings: []sdktest.BadConfig{
				{Settings: sdktest.With(validSettings(f), "login_url", "login.salesforce.com"), Want: "login_url: must be an https URL"},
				{Settings: sdktest.With(validSettings(f), "client_secret", ""), Want: "client_secret: required"},
				{Settings: sdktest.With(validSettings(f), "api_version", "60"), Want: "api_version: must look like"},
				{Settings: sdktest.With(validSettings(f), "external_id_field", "FN Work Order"), Want: "external_id_field:"},
				{Settings: sdktest.With(validSettings(f), "secret", clientSecret), Want: "secret: unknown setting"},
			},
		}
	}})
}
