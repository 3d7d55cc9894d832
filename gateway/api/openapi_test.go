package api_test

import (
	"bytes"
	"encoding/json"
	"os"
	"regexp"
	"slices"
	"strings"
	"testing"

	"sigs.k8s.io/yaml"

	"github.com/hookgate/hookgate/gateway/api/openapi"
	"github.com/hookgate/hookgate/gateway/gatewaytest"
)

// TestOpenAPIMatchesRoutes: the document served at /api/v1/openapi.json
// lists exactly the API routes the app serves, method by method.
func TestOpenAPIMatchesRoutes(t *testing.T) {
	tg := startAPIGateway(t, gatewaytest.APIConfig(t))
	r := tg.Must(200, "GET", "/api/v1/openapi.json", "", nil) // no token needed
	var doc struct {
		OpenAPI string                    `json:"openapi"`
		Servers []struct{ URL string }    `json:"servers"`
		Paths   map[string]map[string]any `json:"paths"`
	}
	if err := json.Unmarshal(r.Raw, &doc); err != nil {
		t.Fatal(err)
	}
	if !strings.HasPrefix(doc.OpenAPI, "3.") || len(doc.Servers) != 1 || doc.Servers[0].URL != tg.Base {
		t.Errorf("openapi %q servers %v", doc.OpenAPI, doc.Servers)
	}
	var documented []string
	for p, ops := range doc.Paths {
		for m := range ops {
			if m != "parameters" { // a path item's shared parameters, not an operation
				documented = append(documented, strings.ToUpper(m)+" "+p)
			}
		}
	}
	param := regexp.MustCompile(`:(\w+)`)
	var served []string
	for _, rt := range tg.G.API().App().GetRoutes(true) {
		if rt.Method == "USE" || rt.Method == "HEAD" || !(strings.HasPrefix(rt.Path, "/api/") || strings.HasPrefix(rt.Path, "/authentication/")) {
			continue
		}
		served = append(served, rt.Method+" "+param.ReplaceAllString(rt.Path, "{$1}"))
	}
	slices.Sort(documented)
	slices.Sort(served)
	served = slices.Compact(served)
	if len(served) != 23 {
		t.Errorf("%d API routes served, expected 23: %v", len(served), served)
	}
	if !slices.Equal(documented, served) {
		t.Errorf("OpenAPI paths and served routes differ:\n documented %v\n served     %v", documented, served)
	}
	// Every operation documents the spec's error envelope.
	for p, ops := range doc.Paths {
		for m, op := range ops {
			if m == "parameters" {
				continue
			}
			resp := op.(map[string]any)["responses"].(map[string]any)
			if len(resp) < 2 {
				t.Errorf("%s %s documents no error answer", m, p)
			}
		}
	}
}

// TestOpenAPIIsGenerated: openapi.json is what `go generate ./gateway/api`
// makes of openapi/fieldnation-v3.yaml and openapi/hookgate.yaml.
func TestOpenAPIIsGenerated(t *testing.T) {
	want, err := openapi.Build()
	if err != nil {
		t.Fatal(err)
	}
	got, err := os.ReadFile("openapi.json")
	if err != nil {
		t.Fatal(err)
	}
	if !bytes.Equal(got, want) {
		t.Error("gateway/api/openapi.json is stale: run go generate ./gateway/api")
	}
}

// TestOpenAPIKeepsFieldNations: the served document keeps every operation,
// response and required list of Field Nation's document; the only required
// field it drops is WebhookInfo's secret, which the pages show once.
func TestOpenAPIKeepsFieldNations(t *testing.T) {
	raw, err := os.ReadFile("openapi/fieldnation-v3.yaml")
	if err != nil {
		t.Fatal(err)
	}
	var fn, served map[string]any
	if err := yaml.Unmarshal(raw, &fn); err != nil {
		t.Fatal(err)
	}
	if raw, err = os.ReadFile("openapi.json"); err != nil {
		t.Fatal(err)
	}
	if err := json.Unmarshal(raw, &served); err != nil {
		t.Fatal(err)
	}
	at := func(doc map[string]any, keys ...string) map[string]any {
		for _, k := range keys {
			doc, _ = doc[k].(map[string]any)
		}
		return doc
	}
	for p, ops := range at(fn, "paths") {
		for m, op := range ops.(map[string]any) {
			for code := range at(op.(map[string]any), "responses") {
				if at(served, "paths", p, m, "responses", code) == nil {
					t.Errorf("%s %s: Field Nation's %s answer is not documented", m, p, code)
				}
			}
		}
	}
	dropped := map[string][]string{"WebhookInfo": {"secret"}}
	for name, s := range at(fn, "components", "schemas") {
		for _, r := range gatewaytest.Strs(s.(map[string]any)["required"]) {
			if !slices.Contains(gatewaytest.Strs(at(served, "components", "schemas", name)["required"]), r) && !slices.Contains(dropped[name], r) {
				t.Errorf("schema %s no longer requires %s", name, r)
			}
		}
	}
	for _, c := range []struct{ path, param, typ string }{
		{"/api/v1/webhooks/{webhookId}/history", "userId", "string"},
		{"/api/v1/webhooks/{webhookId}/history", "fields", "array"},
		{"/api/v1/webhooks/delivery-logs", "fields", "array"},
		{"/api/v1/webhooks", "fields", "string"},
	} {
		found := false
		for _, p := range at(served, "paths", c.path, "get")["parameters"].([]any) {
			if p := p.(map[string]any); p["name"] == c.param {
				found = p["schema"].(map[string]any)["type"] == c.typ
			}
		}
		if !found {
			t.Errorf("GET %s: parameter %s is not typed %s as in Field Nation's document", c.path, c.param, c.typ)
		}
	}
}
