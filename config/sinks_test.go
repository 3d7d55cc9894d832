package config

import (
	"runtime"
	"slices"
	"testing"
)

// TestSinkCompanies: a sink with credentials (servicenow, salesforce, a
// custom command) must list the companies that may use it, the list must
// hold valid ids, and a webhook naming a sink its company may not use is
// reported at its sink attribute, naming who may.
func TestSinkCompanies(t *testing.T) {
	cases := []struct {
		name, src string
		want      []string
	}{
		{"servicenow without companies", "sink \"snow\" {\n  type = \"servicenow\"\n}",
			[]string{`t.hcl:1:1: sink "snow" has no companies list: a servicenow sink delivers with the credentials in its config, so it must name the companies`}},
		{"salesforce without companies", `sink "sf" { type = "salesforce" }`,
			[]string{`t.hcl:1:1: sink "sf" has no companies list: a salesforce sink delivers with the credentials`}},
		{"command without companies", `sink "mine" { command = "./x" }`,
			[]string{`t.hcl:1:1: sink "mine" has no companies list: a custom sink (command) may deliver with credentials of its own`}},
		{"empty list", "sink \"snow\" {\n  type = \"servicenow\"\n  companies = []\n}",
			[]string{`t.hcl:3:3: empty companies list for sink "snow": list the company ids whose webhooks may use it`}},
		{"empty list on http", "sink \"relay\" {\n  type = \"http\"\n  companies = []\n}",
			[]string{`t.hcl:3:3: empty companies list for sink "relay": list the company ids whose webhooks may use it, such as companies = [100], or leave companies out to let every company use this http sink`}},
		{"bad ids", "sink \"snow\" {\n  type = \"servicenow\"\n  companies = [0, -1, 5, 5]\n}", []string{
			`t.hcl:3:3: invalid company id 0 in companies of sink "snow": company ids are numbers greater than 0`,
			`t.hcl:3:3: invalid company id -1 in companies of sink "snow"`,
			`t.hcl:3:3: duplicate company id 5 in companies of sink "snow": list each company once`,
		}},
		{"not numbers", "sink \"snow\" {\n  type = \"servicenow\"\n  companies = [\"acme\"]\n}",
			[]string{`t.hcl:3:15: invalid value for companies of sink "snow"`}},
		{"fraction", "sink \"snow\" {\n  type = \"servicenow\"\n  companies = [1.5]\n}",
			[]string{`t.hcl:3:15: invalid value for companies of sink "snow"`}},
		{"webhook of another company", "sink \"snow\" {\n  type = \"servicenow\"\n  companies = [100, 101]\n}\n" +
			"webhook \"w\" {\n  company_id = 200\n  url = \"https://x.example.com/\"\n  events = [\"workorder.created\"]\n  sink = \"snow\"\n}",
			[]string{`t.hcl:9:3: sink "snow" is not available to company 200 of webhook "w": sink "snow" (t.hcl:1) may be used by companies 100, 101 only; add 200 to its companies list, or choose another sink`}},
		{"restricted http sink", "sink \"relay\" {\n  type = \"http\"\n  companies = [100]\n}\n" +
			"webhook \"w\" {\n  company_id = 200\n  url = \"https://x.example.com/\"\n  events = [\"workorder.created\"]\n  sink = \"relay\"\n}",
			[]string{`t.hcl:9:3: sink "relay" is not available to company 200 of webhook "w"`}},
	}
	for _, c := range cases {
		t.Run(c.name, func(t *testing.T) {
			_, got := parse(t, c.src, nil)
			expectDiags(t, got, c.want...)
		})
	}

	// Allowed: the listed company, and anyone on an http sink without a list.
	cfg := mustParse(t, "sink \"snow\" {\n  type = \"servicenow\"\n  companies = [1]\n}\nsink \"relay\" { type = \"http\" }\n"+
		hook+"  sink = \"snow\"\n}\nwebhook \"v\" {\n  company_id = 9\n  url = \"https://x.example.com/\"\n  events = [\"workorder.created\"]\n  sink = \"relay\"\n}", nil)
	if len(cfg.Webhooks) != 2 {
		t.Fatalf("webhooks %+v", cfg.Webhooks)
	}
}

// TestSinkAllows: the rule the gateway applies at create, reload and
// delivery time, failing closed for a sink that needs a list and has none.
func TestSinkAllows(t *testing.T) {
	blocks := []Sink{
		{Name: "snow-a", Type: "servicenow", Companies: []int64{100}},
		{Name: "unlisted", Type: "salesforce"}, // not valid config: must allow nobody
		{Name: "mine", Command: "./x", Companies: []int64{100, 200}},
		{Name: "relay", Type: "http"},
		{Name: "relay-a", Type: "http", Companies: []int64{100}},
	}
	names := func(ss []Sink) []string {
		var out []string
		for _, s := range ss {
			out = append(out, s.Name+":"+s.Kind())
		}
		return out
	}
	if got, want := names(UsableSinks(blocks, 100)), []string{"http:http", "snow-a:servicenow", "mine:custom", "relay:http", "relay-a:http"}; !slices.Equal(got, want) {
		t.Errorf("company 100: %v, want %v", got, want)
	}
	if got, want := names(UsableSinks(blocks, 200)), []string{"http:http", "mine:custom", "relay:http"}; !slices.Equal(got, want) {
		t.Errorf("company 200: %v, want %v", got, want)
	}
	if s, ok := FindSink(blocks, "unlisted"); !ok || s.Allows(100) {
		t.Errorf("a salesforce sink without companies allows company 100: %+v", s)
	}
	if s, ok := FindSink(blocks, "http"); !ok || !s.Allows(12345) {
		t.Errorf("built-in http sink: %+v", s)
	}
	if _, ok := FindSink(blocks, "ghost"); ok {
		t.Error("found an undeclared sink")
	}
}

// TestSinkCPUs: cpus sets the sink process's GOMAXPROCS, at least 1, and a
// sink block without it (the implicit http sink too) gets half the
// gateway's, at least 1.
func TestSinkCPUs(t *testing.T) {
	_, got := parse(t, "sink \"relay\" {\n  type = \"http\"\n  cpus = 0\n}", nil)
	expectDiags(t, got, `t.hcl:3:3: invalid cpus of sink "relay": 0: must be at least 1`)
	// A value that is not a number is one error, not also "0: must be at
	// least 1" about the default it left.
	_, got = parse(t, "sink \"relay\" {\n  type = \"http\"\n  cpus = \"two\"\n}", nil)
	expectDiags(t, got, `t.hcl:3:10: invalid value for cpus of sink "relay"`)

	cfg := mustParse(t, "sink \"relay\" {\n  type = \"http\"\n  cpus = 3\n}\nsink \"plain\" { type = \"http\" }\n", nil)
	if n := cfg.Sinks[0].ProcessCPUs(); n != 3 {
		t.Errorf("cpus = 3: ProcessCPUs %d", n)
	}
	defer runtime.GOMAXPROCS(runtime.GOMAXPROCS(0))
	for procs, want := range map[int]int{1: 1, 2: 1, 3: 1, 8: 4} {
		runtime.GOMAXPROCS(procs)
		if n := cfg.Sinks[1].ProcessCPUs(); n != want {
			t.Errorf("gateway GOMAXPROCS %d: sink without cpus gets %d, want %d", procs, n, want)
		}
		if b := BuiltinSinkBlock(); b.ProcessCPUs() != want {
			t.Errorf("gateway GOMAXPROCS %d: implicit http sink gets %d, want %d", procs, b.ProcessCPUs(), want)
		}
	}
}
