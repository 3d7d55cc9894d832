package api_test

import (
	"encoding/json"
	"github.com/hookgate/hookgate/gateway/gatewaytest"
	"regexp"
	"slices"
	"strings"
	"testing"
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
			documented = append(documented, strings.ToUpper(m)+" "+p)
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
	if len(served) != 20 {
		t.Errorf("%d API routes served, expected 20: %v", len(served), served)
	}
	if !slices.Equal(documented, served) {
		t.Errorf("OpenAPI paths and served routes differ:\n documented %v\n served     %v", documented, served)
	}
	// Every operation documents the spec's error envelope.
	for p, ops := range doc.Paths {
		for m, op := range ops {
			resp := op.(map[string]any)["responses"].(map[string]any)
			if len(resp) < 2 {
				t.Errorf("%s %s documents no error answer", m, p)
			}
		}
	}
}
