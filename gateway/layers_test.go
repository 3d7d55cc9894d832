package gateway

import (
	"encoding/json"
	"go/ast"
	"go/parser"
	"go/token"
	"os/exec"
	"path/filepath"
	"slices"
	"strings"
	"testing"
)

const module = "github.com/hookgate/hookgate/"

// mayImport is the "may import" column of docs/architecture.md's layout
// table for the gateway and store packages: the packages of ours each may
// import directly. Keep the two equal.
var mayImport = map[string][]string{
	// the tests' harness: a client of the API and loopback receivers
	"gateway/gatewaytest": {"config", "gateway/api", "plugins/http", "plugins/sdk", "plugins/sdk/sdktest", "plugins/servicenow", "store", "store/storetest"},
	"gateway/api":         {"config", "dashboard", "events", "gateway/delivery", "gateway/ingest", "gateway/webhooks", "store", "telemetry", "transforms"},
	"gateway/ingest":      {"events", "store", "telemetry"},
	// the served OpenAPI document's sources and its generator
	"gateway/api/openapi":     {},
	"gateway/api/openapi/gen": {"gateway/api/openapi"},
	"gateway/webhooks":        {"config", "events", "plugins/sdk/netguard", "store", "transforms"},
	"gateway/delivery":        {"config", "events", "plugins/sdk", "signature", "store", "telemetry", "transforms"},
	"gateway/rollup":          {"store"},
	"store":                   {},
	"store/badger":            {"secretbox", "store"},
	"store/postgres":          {"secretbox", "store"},
	"store/storetest":         {"store"},
	// a throwaway PostgreSQL cluster for tests (initdb from /usr/lib/postgresql)
	"store/postgres/pgtest": {"store/postgres"},
}

// listed is one package of `go list -json`.
type listed struct {
	ImportPath string
	Dir        string
	GoFiles    []string
	Imports    []string
	Deps       []string
}

// goList lists the module's gateway and store packages, each with its
// direct imports and every package it depends on.
func goList(t *testing.T) []listed {
	t.Helper()
	cmd := exec.Command("go", "list", "-json", "./gateway/...", "./store/...")
	cmd.Dir = ".."
	out, err := cmd.Output()
	if err != nil {
		t.Fatalf("go list: %v", err)
	}
	var pkgs []listed
	dec := json.NewDecoder(strings.NewReader(string(out)))
	for dec.More() {
		var p listed
		if err := dec.Decode(&p); err != nil {
			t.Fatal(err)
		}
		pkgs = append(pkgs, p)
	}
	return pkgs
}

// TestLayering: every gateway and store package imports only what the
// layout table of docs/architecture.md says it may (the gateway itself
// may import everything), and nothing below gateway/api reaches Fiber,
// fasthttp or net/http's server side, even through a dependency.
func TestLayering(t *testing.T) {
	pkgs := goList(t)
	if len(pkgs) < len(mayImport) {
		t.Fatalf("go list found %d packages", len(pkgs))
	}
	for _, p := range pkgs {
		rel := strings.TrimPrefix(p.ImportPath, module)
		if rel == "gateway" {
			continue
		}
		allowed, ok := mayImport[rel]
		if !ok {
			t.Errorf("%s is not in the layout table (docs/architecture.md and mayImport here)", rel)
			continue
		}
		for _, imp := range p.Imports {
			if own, ok := strings.CutPrefix(imp, module); ok && !slices.Contains(allowed, own) {
				t.Errorf("%s imports %s; the layout table allows %v", rel, own, allowed)
			}
		}
		if rel == "gateway/api" || rel == "gateway/gatewaytest" { // the API, and the tests' receivers
			continue
		}
		for _, d := range p.Deps {
			if strings.HasPrefix(d, "github.com/gofiber/") || strings.HasPrefix(d, "github.com/valyala/fasthttp") {
				t.Errorf("%s depends on %s: HTTP serving belongs to gateway/api", rel, d)
			}
		}
		noHTTPServer(t, rel, p)
	}
}

// httpServerNames are net/http's server side; a package below gateway/api
// may be an HTTP client (sinks, mail), never a server.
var httpServerNames = []string{"Server", "Handler", "HandlerFunc", "ResponseWriter", "ServeMux", "NewServeMux",
	"Handle", "HandleFunc", "ListenAndServe", "ListenAndServeTLS", "Serve", "ServeTLS"}

// noHTTPServer fails if a source file (tests aside) of p names net/http's
// server side or imports httptest.
func noHTTPServer(t *testing.T, rel string, p listed) {
	t.Helper()
	fset := token.NewFileSet()
	for _, name := range p.GoFiles {
		f, err := parser.ParseFile(fset, filepath.Join(p.Dir, name), nil, parser.SkipObjectResolution)
		if err != nil {
			t.Fatal(err)
		}
		local := ""
		for _, imp := range f.Imports {
			path := strings.Trim(imp.Path.Value, `"`)
			if path == "net/http/httptest" {
				t.Errorf("%s/%s imports net/http/httptest", rel, name)
			}
			if path == "net/http" {
				local = "http"
				if imp.Name != nil {
					local = imp.Name.Name
				}
			}
		}
		if local == "" {
			continue
		}
		ast.Inspect(f, func(n ast.Node) bool {
			sel, ok := n.(*ast.SelectorExpr)
			if !ok {
				return true
			}
			if id, ok := sel.X.(*ast.Ident); ok && id.Name == local && slices.Contains(httpServerNames, sel.Sel.Name) {
				t.Errorf("%s: %s.%s is net/http's server side, which belongs to gateway/api", fset.Position(sel.Pos()), local, sel.Sel.Name)
			}
			return true
		})
	}
}
