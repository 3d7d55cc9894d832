package api_test

import (
	"encoding/json"
	"github.com/hookgate/hookgate/gateway/gatewaytest"
	"io"
	"net/http"
	"os"
	"strings"
	"testing"
)

// curlCommand is one curl example: method, URL, headers and body.
type curlCommand struct {
	text    string
	method  string
	url     string
	headers [][2]string
	data    []string
}

// parseCurlExamples reads testdata/spec-curl.txt: the curl examples of the
// spec pages verbatim, one per block.
func parseCurlExamples(t *testing.T) []curlCommand {
	raw, err := os.ReadFile("testdata/spec-curl.txt")
	if err != nil {
		t.Fatal(err)
	}
	var out []curlCommand
	for _, block := range strings.Split(string(raw), "\n\n") {
		var lines []string
		for _, l := range strings.Split(block, "\n") {
			if !strings.HasPrefix(l, "#") {
				lines = append(lines, l)
			}
		}
		text := strings.TrimSpace(strings.Join(lines, "\n"))
		if text == "" {
			continue
		}
		args := shellWords(t, strings.ReplaceAll(text, "\\\n", " "))
		c := curlCommand{text: text, method: "GET"}
		for i := 1; i < len(args); i++ {
			switch args[i] {
			case "-X":
				i++
				c.method = args[i]
			case "-H":
				i++
				k, v, _ := strings.Cut(args[i], ":")
				c.headers = append(c.headers, [2]string{k, strings.TrimSpace(v)})
			case "-d":
				i++
				c.data = append(c.data, args[i])
			default:
				c.url = args[i]
			}
		}
		out = append(out, c)
	}
	return out
}

// shellWords splits a command line as sh does for the quoting the examples
// use: single quotes, double quotes, blanks.
func shellWords(t *testing.T, s string) []string {
	var words []string
	var cur strings.Builder
	in, quote := false, byte(0)
	for i := 0; i < len(s); i++ {
		c := s[i]
		switch {
		case quote != 0 && c == quote:
			quote = 0
		case quote != 0:
			cur.WriteByte(c)
		case c == '\'' || c == '"':
			quote, in = c, true
		case c == ' ' || c == '\n' || c == '\t':
			if in {
				words = append(words, cur.String())
				cur.Reset()
				in = false
			}
		default:
			cur.WriteByte(c)
			in = true
		}
	}
	if quote != 0 {
		t.Fatalf("unbalanced quote in %q", s)
	}
	if in {
		words = append(words, cur.String())
	}
	return words
}

// TestSpecCurlExamples runs every curl example of the spec pages as written,
// with only the base URL and the placeholders (credentials, token, webhook
// ids) replaced, and requires each to succeed.
func TestSpecCurlExamples(t *testing.T) {
	tg := startAPIGateway(t, gatewaytest.APIConfig(t))
	cmds := parseCurlExamples(t)
	if len(cmds) < 20 {
		t.Fatalf("only %d curl examples parsed", len(cmds))
	}
	token := ""
	for i, c := range cmds {
		// A webhook for the example's placeholder id, as the page assumes one exists.
		id := ""
		if strings.Contains(c.url, "wh_") || strings.Contains(c.url, "{webhookId}") || strings.Contains(strings.Join(c.data, ""), "wh_") {
			admin := tg.Token("acme", "acme-secret")
			id = tg.Create(admin, gatewaytest.NewHook("https://your-endpoint.com/webhooks", "workorder.status.published"))["webhookId"].(string)
		}
		repl := strings.NewReplacer("https://api-sandbox.fndev.net", tg.Base, "YOUR_CLIENT_ID", "acme",
			"YOUR_CLIENT_SECRET", "acme-secret", "YOUR_ACCESS_TOKEN", token, "wh_abc123", id, "wh_old123", id, "{webhookId}", id)
		body := strings.Join(c.data, "&")
		req, err := http.NewRequest(c.method, repl.Replace(c.url), strings.NewReader(repl.Replace(body)))
		if err != nil {
			t.Fatalf("example %d: %v", i, err)
		}
		for _, h := range c.headers {
			req.Header.Set(h[0], repl.Replace(h[1]))
		}
		if body != "" && req.Header.Get("Content-Type") == "" {
			req.Header.Set("Content-Type", "application/x-www-form-urlencoded") // curl's default for -d
		}
		resp, err := http.DefaultClient.Do(req)
		if err != nil {
			t.Fatal(err)
		}
		raw, _ := io.ReadAll(resp.Body)
		resp.Body.Close()
		if resp.StatusCode != 200 {
			t.Errorf("example %d answered %d %s:\n%s", i, resp.StatusCode, raw, c.text)
			continue
		}
		var m map[string]any
		if err := json.Unmarshal(raw, &m); err != nil {
			t.Errorf("example %d: not JSON: %s", i, raw)
			continue
		}
		if tok, ok := m["access_token"].(string); ok {
			token = tok // the token example comes first, as on the page
			continue
		}
		if _, ok := m["result"]; !ok || m["metadata"] == nil {
			t.Errorf("example %d: not the envelope: %s", i, raw)
		}
	}
	if token == "" {
		t.Error("the token example did not give a token")
	}
}
