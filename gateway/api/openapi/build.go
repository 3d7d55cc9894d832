// Package openapi builds the OpenAPI document hookgate serves: Field
// Nation's document (fieldnation-v3.yaml, a verbatim copy) with hookgate's
// additions and corrections (hookgate.yaml) applied as an RFC 7386 JSON
// merge patch. `go generate ./gateway/api` writes the result to
// gateway/api/openapi.json, which the gateway embeds; only the generator
// and the tests import this package, so the binary carries no YAML parser.
package openapi

import (
	"bytes"
	"embed"
	"encoding/json"
	"fmt"

	jsonpatch "github.com/evanphx/json-patch/v5"
	"sigs.k8s.io/yaml"
)

//go:embed fieldnation-v3.yaml hookgate.yaml
var sources embed.FS

// Build returns the served document as indented JSON, keys sorted.
func Build() ([]byte, error) {
	fn, err := jsonOf("fieldnation-v3.yaml")
	if err != nil {
		return nil, err
	}
	ours, err := jsonOf("hookgate.yaml")
	if err != nil {
		return nil, err
	}
	merged, err := jsonpatch.MergePatch(fn, ours)
	if err != nil {
		return nil, fmt.Errorf("openapi: applying hookgate.yaml: %w", err)
	}
	var doc any
	if err := json.Unmarshal(merged, &doc); err != nil {
		return nil, err
	}
	var out bytes.Buffer
	enc := json.NewEncoder(&out)
	enc.SetEscapeHTML(false) // the descriptions are Markdown, not HTML
	enc.SetIndent("", "  ")
	if err := enc.Encode(doc); err != nil {
		return nil, err
	}
	return out.Bytes(), nil
}

func jsonOf(name string) ([]byte, error) {
	raw, err := sources.ReadFile(name)
	if err != nil {
		return nil, err
	}
	j, err := yaml.YAMLToJSON(raw)
	if err != nil {
		return nil, fmt.Errorf("openapi: %s: %w", name, err)
	}
	return j, nil
}
