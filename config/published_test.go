package config

import (
	"os"
	"path/filepath"
	"regexp"
	"slices"
	"strings"
	"testing"
)

// TestPublishedSecrets: every client secret written in the repository's
// own config, docs and examples (an env() fallback, a curl
// client_secret=...) is in PublishedSecrets, so `hookgate serve` warns
// about it; and UsesPublishedSecret sees one given as secret_sha256 too.
func TestPublishedSecrets(t *testing.T) {
	patterns := []*regexp.Regexp{
		regexp.MustCompile(`(?m)^\s*secret\s*=\s*env\("[^"]+",\s*"([^"]+)"\)`),
		regexp.MustCompile(`client_secret=([^\s&'"$\\]+)`),
		regexp.MustCompile(`"client_secret"\s*:\s*"([^"$]+)"`),
	}
	var files []string
	for _, glob := range []string{"../gateway.hcl", "../README.md", "../docs/*.md", "../examples/*/*", "../examples/*/*/*"} {
		m, _ := filepath.Glob(glob)
		files = append(files, m...)
	}
	found := 0
	for _, f := range files {
		if !strings.HasSuffix(f, ".hcl") && !strings.HasSuffix(f, ".md") {
			continue
		}
		src, err := os.ReadFile(f)
		if err != nil {
			t.Fatal(err)
		}
		for _, re := range patterns {
			for _, m := range re.FindAllSubmatch(src, -1) {
				found++
				if s := string(m[1]); !slices.Contains(PublishedSecrets, s) {
					t.Errorf("%s publishes the client secret %q: add it to config.PublishedSecrets", f, s)
				}
			}
		}
	}
	if found < 2 {
		t.Errorf("found %d published secrets; gateway.hcl and the README have one each", found)
	}
	for _, c := range []struct {
		client Client
		want   bool
	}{
		{Client{Secret: "demo-secret-change-me"}, true},
		{Client{SecretSHA256: "0fefc1b27100e636d38ff6bc989040691f4a48220d8bc2183b6bbcfd001524c7"}, true},
		{Client{Secret: "a-real-secret"}, false},
		{Client{SecretSHA256: strings.Repeat("0", 64)}, false},
	} {
		if got := c.client.UsesPublishedSecret(); got != c.want {
			t.Errorf("%+v: UsesPublishedSecret = %v", c.client, got)
		}
	}
}
