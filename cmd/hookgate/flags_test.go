package main

import (
	"bytes"
	"flag"
	"io"
	"os"
	"path/filepath"
	"slices"
	"strings"
	"testing"
)

func TestParseArgsFlagsAnywhere(t *testing.T) {
	cases := []struct {
		args    []string
		offline bool
		config  string
		pos     []string
	}{
		{[]string{"--offline", "a.hcl"}, true, "", []string{"a.hcl"}},
		{[]string{"a.hcl", "--offline"}, true, "", []string{"a.hcl"}},
		{[]string{"a.hcl", "--config", "c.hcl", "b", "-offline"}, true, "c.hcl", []string{"a.hcl", "b"}},
		{[]string{"--config=c.hcl", "a"}, false, "c.hcl", []string{"a"}},
		// "--" ends the flags: a file named like a flag is positional.
		{[]string{"a", "--", "--offline"}, false, "", []string{"a", "--offline"}},
		{nil, false, "", nil},
	}
	for _, c := range cases {
		fs := flag.NewFlagSet("t", flag.ContinueOnError)
		offline := fs.Bool("offline", false, "")
		config := fs.String("config", "", "")
		pos, err := parseArgs(fs, c.args)
		if err != nil || *offline != c.offline || *config != c.config || !slices.Equal(pos, c.pos) {
			t.Errorf("%q: offline %v config %q positional %q err %v; want %v %q %q", c.args, *offline, *config, pos, err, c.offline, c.config, c.pos)
		}
	}
	fs := flag.NewFlagSet("t", flag.ContinueOnError)
	fs.SetOutput(io.Discard)
	if _, err := parseArgs(fs, []string{"a.hcl", "--nope"}); err == nil {
		t.Error("an unknown flag after a positional argument is accepted")
	}
}

// TestSubcommandsTakeFlagsAfterArguments runs the commands themselves with
// their flags after the positional arguments.
func TestSubcommandsTakeFlagsAfterArguments(t *testing.T) {
	dir := t.TempDir()
	p := filepath.Join(dir, "gateway.hcl")
	src := "storage { path = \"data\" }\nauth {\n  client \"c\" {\n    secret = \"short\"\n    company_id = 1\n    scopes = [\"webhooks:read\"]\n  }\n}\n"
	if err := os.WriteFile(p, []byte(src), 0o600); err != nil {
		t.Fatal(err)
	}
	var out, errb bytes.Buffer
	// Valid, with a warning printed (the short client secret, item 7).
	if code := run([]string{"validate", p, "--offline"}, &out, &errb); code != 0 || out.String() != p+": ok\n" ||
		!strings.Contains(errb.String(), p+`:4:5: warning: client "c" has a short secret`) {
		t.Errorf("validate FILE --offline: exit %d: %s%s", code, out.String(), errb.String())
	}
	out.Reset()
	if code := run([]string{"sink", "list", "--config", p}, &out, &errb); code != 0 || !strings.Contains(out.String(), "sinks in "+p) {
		t.Errorf("sink list --config: exit %d: %s%s", code, out.String(), errb.String())
	}
	errb.Reset()
	if code := run([]string{"sink", "test", "--config", p, "http"}, &out, &errb); code != 2 {
		t.Errorf("sink test with the name after a flag and no --payload: exit %d: %s", code, errb.String())
	}
}
