// The example's config and template, run against the fake org: what a new
// user copies must work.
package salesforce_test

import (
	"encoding/json"
	"os"
	"strings"
	"testing"

	"github.com/hookgate/hookgate/examples/internal/exampletest"
	"github.com/hookgate/hookgate/plugins/salesforce"
	"github.com/hookgate/hookgate/plugins/salesforce/sffake"
)

func TestExampleUpsertsTheCase(t *testing.T) {
	fake := sffake.New(sffake.Options{ClientID: "3MVG9-key", ClientSecret: "consumer-secret"})
	defer fake.Close()
	cfg := exampletest.Load(t, map[string]string{
		"HOOKGATE_ALLOW_HTTP": "true", "HOOKGATE_ALLOW_PRIVATE_NETWORKS": "true", "HOOKGATE_CLIENT_SECRET": "s",
		"SF_LOGIN_URL": fake.URL, "SF_CLIENT_ID": "3MVG9-key", "SF_CLIENT_SECRET": "consumer-secret",
	})
	if len(cfg.Sinks) != 1 || cfg.Sinks[0].Type != "salesforce" || cfg.Webhooks[0].Sink != "sfdc" {
		t.Fatalf("sinks %+v", cfg.Sinks)
	}
	sink := salesforce.New()
	exampletest.Configure(t, cfg, sink)
	seed, err := os.ReadFile("workorder-envelope.json")
	if err != nil {
		t.Fatal(err)
	}
	first := exampletest.Deliver(t, cfg, sink, "sfdc-cases", seed)
	if first.Status != 201 {
		t.Fatalf("first delivery %+v", first)
	}
	rec := fake.Records("Case")[first.ExternalRef]
	want := map[string]any{
		"FN_Work_Order_Id__c": "12345", "Subject": "FN 12345: Router Installation - Site 42",
		"Description": "Acme Corporation, San Francisco, CA 94105", "Status": "New", "Origin": "Web",
		"SuppliedCompany": "Acme Corporation", "FN_Status__c": "Published", "FN_Scheduled_Start__c": "2026-01-20T09:00:00Z",
	}
	for k, v := range want {
		if rec[k] != v {
			t.Errorf("%s = %v, want %v", k, rec[k], v)
		}
	}
	// What went over the wire: the external id in the URL, not the body.
	reqs := fake.Requests()
	up := reqs[len(reqs)-1]
	var body map[string]any
	_ = json.Unmarshal(up.Body, &body)
	if up.Path != "/services/data/v60.0/sobjects/Case/FN_Work_Order_Id__c/12345" || body["FN_Work_Order_Id__c"] != nil {
		t.Fatalf("upsert %s %s", up.Path, up.Body)
	}
	done := strings.Replace(string(seed), `"name": "Published"`, `"name": "Work Done"`, 1)
	second := exampletest.Deliver(t, cfg, sink, "sfdc-cases", []byte(done))
	if second.Status != 200 || second.ExternalRef != first.ExternalRef || fake.Records("Case")[first.ExternalRef]["Status"] != "Closed" {
		t.Fatalf("second delivery %+v; records %v", second, fake.Records("Case"))
	}
}
