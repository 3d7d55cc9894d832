package transforms

import (
	"context"
	"encoding/json"
	"math"
	"reflect"
	"sync/atomic"
	"testing"
	"time"
	"unicode/utf8"

	"github.com/recolabs/gnata"
)

// The fuzz targets assert that no template or envelope makes the package
// panic or hang: every outcome is a body or an error within the bounds.
// Plain `go test` runs only the seeds below.

// fuzzVersion numbers the programs the fuzzers build.
var fuzzVersion atomic.Int64

func FuzzPayloadTemplate(f *testing.F) {
	for _, c := range loadCorpus(f) {
		f.Add(c.Template)
	}
	for _, s := range []string{
		`($f := function($x){$f($x+1)}; $f(0))`, `(((((((1)))))))`, `[1..5].{"a": $}`, `$$`, `**`,
		`"\u00`, `/[a-z/`, `$sort([3,1], function($a,$b){$a>$b})`, `a.b.c.%.%.%`, `$string(1/0)`,
	} {
		f.Add(s)
	}
	seed := seedEnvelope(f)
	tr, err := New(Options{Timeout: 50 * time.Millisecond, MaxDepth: 50})
	if err != nil {
		f.Fatal(err)
	}
	f.Fuzz(func(t *testing.T, tpl string) {
		if err := CheckPayloadTemplate("", tpl); err != nil {
			return
		}
		// A new version each call: the cache keeps one program per
		// webhook and version, and would return the first template's.
		p, err := tr.Program("fuzz", fuzzVersion.Add(1), tpl, "")
		if err != nil {
			t.Fatalf("Check accepted %q but Program failed: %v", tpl, err)
		}
		body, _, err := p.Apply(context.Background(), seed)
		if err == nil && !json.Valid(body) && tpl != "" {
			t.Fatalf("%q produced invalid JSON %q", tpl, body)
		}
	})
}

func FuzzURLTemplate(f *testing.F) {
	for _, s := range []string{
		"https://api.company.com/{{$.workorder.location.country}}/workorders",
		"https://x/{{ workorder.id }}/y", "https://x/{{", "}}{{", "{{{{}}}}", "https://x/{{ $string(workorder) }}",
		"https://x/{{ workorder.title }}?q={{ workorder.id + 1 }}",
	} {
		f.Add(s)
	}
	seed := seedEnvelope(f)
	tr, err := New(Options{Timeout: 50 * time.Millisecond})
	if err != nil {
		f.Fatal(err)
	}
	f.Fuzz(func(t *testing.T, u string) {
		if err := CheckURLTemplate("", u); err != nil {
			return
		}
		p, err := tr.Program("fuzz", fuzzVersion.Add(1), "", u)
		if err != nil {
			t.Fatalf("Check accepted %q but Program failed: %v", u, err)
		}
		_, _, _ = p.Apply(context.Background(), seed)
	})
}

// FuzzDecodeJSON checks the envelope decoder against encoding/json: what it
// accepts, encoding/json accepts with the same value. (It is stricter:
// invalid UTF-8 and duplicate names are refused, as ingest refuses them.)
func FuzzDecodeJSON(f *testing.F) {
	f.Add(string(seedEnvelope(f)))
	for _, s := range []string{`{}`, `[]`, `"\ud83d\ude00"`, `"\ud800"`, `1e400`, `-0.0e-5`, `{"a":1,"a":2}`, `[1,]`, `"a\u0000b"`, "\"\xff\"", ` null `, `01`, `tru`} {
		f.Add(s)
	}
	f.Fuzz(func(t *testing.T, s string) {
		got, err := decodeJSON([]byte(s), inputForm{})
		if err != nil {
			return
		}
		// gnata's ordered form holds the same values.
		ordered, err := decodeJSON([]byte(s), gnataInput)
		if err != nil || !reflect.DeepEqual(gnata.NormalizeValue(ordered), got) && !hasNaN(got) {
			t.Fatalf("%q: ordered decode %#v (%v), plain %#v", s, gnata.NormalizeValue(ordered), err, got)
		}
		var want any
		if werr := json.Unmarshal([]byte(s), &want); werr != nil || !utf8.ValidString(s) {
			t.Fatalf("%q: decodeJSON accepted what encoding/json refuses (%v) or invalid UTF-8", s, werr)
		}
		if !reflect.DeepEqual(got, want) && !hasNaN(want) {
			t.Fatalf("%q: decodeJSON %#v, encoding/json %#v", s, got, want)
		}
	})
}

func hasNaN(v any) bool {
	f, ok := v.(float64)
	return ok && math.IsNaN(f)
}

// FuzzProjectedApply is the differential fuzz target of projections: for a
// template that projects, Apply on any envelope gives the same body, URL
// and error with the projection as without; and the projected decode alone
// (without decodeProjected's fallback to the full decode) accepts exactly
// the envelopes decodeJSON accepts. The fuzzer mutates both, so it also
// looks for templates jparse and gnata read differently.
func FuzzProjectedApply(f *testing.F) {
	envs := projectedEnvelopes(f)
	seed := envs["seed"]
	for _, tpl := range projectedTemplates(f) {
		f.Add(seed, tpl)
	}
	// Where two lexers could part: escapes, quotes, numbers, comments,
	// spacing, non-ASCII and backtick names, operators next to names.
	for _, tpl := range []string{
		`"a\\" & workorder.id & "\\"`, `'it\'s' & workorder.title`, "`work order`.id & `a.b`.c",
		`workorder.id*1.5e3`, `workorder . id`, `workorder.été & workorder.日本`, `workorder.id-1`, `workorder.id /2`,
		`workorder/* x */.id`, `workorder.id!=1`, `workorder.id>=event.name`, `workorder.status.name&"x"`,
		`(workorder.id; event.name)`, `-workorder.id`, `workorder.id?1:2`, `{"a":workorder.id}.a`, "workorder\u0000.id",
	} {
		f.Add(seed, tpl)
	}
	for _, env := range envs {
		f.Add(env, benchPayloadTemplate)
		f.Add(env, `{"a": workorder.id, "b": $string(event)}`)
	}
	tr, err := New(Options{Timeout: time.Second, MaxDepth: 50})
	if err != nil {
		f.Fatal(err)
	}
	f.Fuzz(func(t *testing.T, env []byte, tpl string) {
		if CheckPayloadTemplate("", tpl) != nil {
			return
		}
		p, err := tr.compile(1, tpl, "") // not Program: its cache keeps the first template of a key and version
		if err != nil || p.proj == nil {
			return
		}
		_, fullErr := decodeJSON(env, gnataInput)
		if _, err := decode(env, gnataInput, p.proj); (err == nil) != (fullErr == nil) {
			t.Fatalf("envelope %q, projection %q: projected decode error %v, full decode error %v", env, describeProjection(p.proj), err, fullErr)
		}
		if got, want := applyBoth(p, env); got != want {
			t.Fatalf("template %q, envelope %q:\nprojected: %s\nwhole:     %s", tpl, env, got, want)
		}
	})
}
