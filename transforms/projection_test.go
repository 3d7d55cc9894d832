package transforms

import (
	"context"
	"errors"
	"maps"
	"os"
	"path/filepath"
	"reflect"
	"slices"
	"strings"
	"testing"
	"time"

	"github.com/recolabs/gnata"
)

// describeProjection renders p as sorted dotted paths, "*" for the whole
// envelope (nil), "" for nothing read.
func describeProjection(p *projection) string {
	if p == nil {
		return "*"
	}
	var out []string
	var walk func(prefix string, p *projection)
	walk = func(prefix string, p *projection) {
		if p.whole {
			out = append(out, prefix)
			return
		}
		for name, c := range p.members {
			walk(strings.TrimPrefix(prefix+"."+name, "."), c)
		}
	}
	walk("", p)
	slices.Sort(out)
	return strings.Join(out, " ")
}

func TestProjectionOf(t *testing.T) {
	for _, c := range []struct {
		srcs []string
		want string // describeProjection; "*" is no projection
	}{
		{[]string{benchPayloadTemplate}, "event.name timestamp workorder.company.name workorder.description workorder.id workorder.status.name workorder.title"},
		{[]string{serviceNowTemplate}, "timestamp workorder.assignee.first_name workorder.assignee.last_name workorder.company.name workorder.id workorder.status.name workorder.title"},
		{[]string{`{"a": workorder.location, "b": workorder.location.city}`}, "workorder.location"},
		{[]string{`workorder.id`, `$$.event.name`, "`triggered_by_user`.id"}, "event.name triggered_by_user.id workorder.id"},
		{[]string{`{"n": 1, "s": "x", "t": true, "z": null}`}, ""},
		{[]string{`-a.b * 2 > 3 and (c or d = "x") ? [e, $string(f, true)] : g & "!"`}, "a.b c d e f g"},
		{[]string{`$substring(a, 0, 3) & $substringAfter(b, "-") & $join(c, ",") & $round(d, 2)`}, "a b c d"},
		{[]string{`workorder.id`, `$`}, "*"},
		{[]string{`workorder.id`, `workorder.tags[0]`}, "*"},
		// Outside the subset: no projection.
		{[]string{`$$`}, "*"},
		{[]string{`$x`}, "*"},
		{[]string{`workorder.tags[0].name`}, "*"},
		{[]string{`workorder.tags.results[].name`}, "*"},
		{[]string{`workorder.custom_fields.results[name = "PO Number"].value`}, "*"},
		{[]string{`workorder.*`}, "*"},
		{[]string{`**.id`}, "*"},
		{[]string{`workorder.location.city.%.zip`}, "*"},
		{[]string{`workorder.assignee.first_name ?? "x"`}, "*"},
		{[]string{`workorder.nope ?: "x"`}, "*"},
		{[]string{`/* c */ workorder.id /* d */`}, "workorder.id"},
		{[]string{`"/* not a comment */" & workorder.id & '*/'`}, "workorder.id"},
		{[]string{"`a/*b`.c & workorder.id"}, "a/*b.c workorder.id"},
		{[]string{`workorder.id / 2`}, "workorder.id"},
		{[]string{`workorder.id / 2 /* half */`}, "*"},
		{[]string{`$contains(workorder.title, /a/) /* c */`}, "*"},
		{[]string{`workorder.id /* unterminated`}, "*"},
		{[]string{`"unterminated`}, "*"},
		// Blocks binding variables.
		{[]string{`($wo := workorder; $name := $wo.company.name; $name & "#" & $wo.id)`}, "workorder.company.name workorder.id"},
		{[]string{`($w := workorder; $s := $w.status; $t := $w.title & "x"; [$s.name, $t])`}, "workorder.status.name workorder.title"},
		{[]string{`($x := {"a": workorder}; $x.a.id)`}, "workorder"},
		{[]string{`($x := ["a", "b"]; event.name in $x)`}, "event.name"},
		{[]string{`($x := workorder; $x)`}, "workorder"},
		{[]string{`($x := workorder)`}, "workorder"},
		{[]string{`($x := workorder.status; $y := $x.name)`}, "workorder.status.name"},
		{[]string{`{"a": ($x := workorder.id), "b": ($y := event; 1)}`}, "workorder.id"},
		{[]string{`($x := $; $x.event.name)`}, "event.name"},
		{[]string{`($x := $$; $x)`}, "*"},
		{[]string{`($x := workorder; ($y := $x.status; $y.name))`}, "workorder.status.name"},
		{[]string{`($x := workorder; ($x := event; $x.name))`}, "*"},
		{[]string{`($x := workorder; $x := event; $x.name)`}, "*"},
		{[]string{`(($x := workorder); $x.id)`}, "*"},
		{[]string{`($x.id; $x := workorder)`}, "*"},
		{[]string{`($string := workorder; $string(event))`}, "*"},
		{[]string{`$x := workorder`}, "*"},
		{[]string{`($f := function($v) { $v }; $f(workorder.id))`}, "*"},
		{[]string{`($x := workorder; $x[0].id)`}, "*"},
		{[]string{`$keys(workorder)`}, "*"},
		{[]string{`$string()`}, "*"},
		{[]string{`$contains("x")`}, "*"},
		{[]string{`$substring(workorder.title, 2)`}, "*"},
		{[]string{`$substringAfter(" - ")`}, "*"},
		{[]string{`$string(workorder.id, true, 1)`}, "*"},
		{[]string{`$map(workorder.tags.results, function($t) { $t.name })`}, "*"},

		{[]string{`workorder.title ~> $uppercase()`}, "*"},
		{[]string{`workorder.contacts^(>name).name`}, "*"},
		{[]string{`workorder.contacts{role: name}`}, "*"},
		{[]string{`workorder.contacts#$i.name`}, "*"},
		{[]string{`workorder.contacts@$c.name`}, "*"},
		{[]string{`workorder.(id)`}, "*"},
		{[]string{`workorder.$string(id)`}, "*"},
		{[]string{`[1..3]`}, "*"},
		{[]string{`$match(workorder.title, /a/)`}, "*"},
		{[]string{`workorder ~> |location|{"geo": true}|`}, "*"},
		{[]string{`workorder.in`}, "*"},
		{[]string{`$string`}, "*"},
		{[]string{`workorder.id +`}, "*"}, // jparse cannot parse it
	} {
		if got := describeProjection(projectionOf(c.srcs, true)); got != c.want {
			t.Errorf("projectionOf(%q) = %q, want %q", c.srcs, got, c.want)
		}
	}
	// jsonata-go has no comments: its parser is jparse, which reads this one
	// as a regular expression, so its templates are analysed as written.
	if p := projectionOf([]string{`/* c */ workorder.id`}, false); p != nil {
		t.Errorf("a comment projects for jsonata-go: %q", describeProjection(p))
	}
}

// exampleTemplates are the payload templates shipped with hookgate, by
// path from this package; they bind variables and have comments.
var exampleTemplates = map[string]string{
	"../examples/servicenow/templates/incident.jsonata":    "event.name timestamp workorder.assignee workorder.company.name workorder.id workorder.status.name workorder.title",
	"../examples/salesforce/templates/case.jsonata":        "workorder.company.name workorder.id workorder.location.city workorder.location.state workorder.location.zip workorder.schedule.start.utc workorder.status.name workorder.title",
	"../examples/custom-sink/templates/teams-card.jsonata": "event.name workorder.company.name workorder.id workorder.location.city workorder.location.state workorder.schedule.start.utc workorder.status.name workorder.title",
	"../templates/example.jsonata":                         "event.name timestamp workorder.company.name workorder.id workorder.status.name workorder.title",
}

func readExampleTemplate(t testing.TB, path string) string {
	t.Helper()
	b, err := os.ReadFile(path)
	if err != nil {
		t.Fatal(err)
	}
	return string(b)
}

// TestProjectionOfExamples: the templates hookgate ships project.
func TestProjectionOfExamples(t *testing.T) {
	for path, want := range exampleTemplates {
		if got := describeProjection(projectionOf([]string{readExampleTemplate(t, path)}, true)); got != want {
			t.Errorf("%s: projection %q, want %q", path, got, want)
		}
	}
}

// TestProjectedProgram checks that Program derives the projection from the
// payload template and the URL placeholders together.
func TestProjectedProgram(t *testing.T) {
	tr := newTransformer(t, Options{Timeout: 5 * time.Second})
	p, err := tr.Program("p", 1, `{"id": workorder.id}`, "https://x.example/{{ event.name }}/{{ workorder.status.id }}")
	if err != nil {
		t.Fatal(err)
	}
	if got, want := describeProjection(p.proj), "event.name workorder.id workorder.status.id"; got != want {
		t.Fatalf("projection %q, want %q", got, want)
	}
	p, err = tr.Program("q", 1, `{"id": workorder.id}`, "https://x.example/{{ $string($) }}")
	if err != nil {
		t.Fatal(err)
	}
	if p.proj != nil {
		t.Fatalf("a placeholder reading $ still projects: %q", describeProjection(p.proj))
	}
}

// projectedEnvelopes are envelopes for the differential tests: the corpus
// payloads and shapes a projection has to walk through or skip.
func projectedEnvelopes(t testing.TB) map[string][]byte {
	t.Helper()
	envs := map[string][]byte{"seed": seedEnvelope(t)}
	for _, name := range []string{"detail", "minimal"} {
		b, err := os.ReadFile(filepath.Join("testdata/corpus/payloads", name+".json"))
		if err != nil {
			t.Fatal(err)
		}
		envs[name] = b
	}
	for name, s := range map[string]string{
		"arrays":         `{"workorder": [{"id": 1, "title": "a", "x": {"y": [1, 2]}}, [{"id": 2, "status": {"name": "n"}}, 3, "s", null], {"id": {"deep": [true]}}], "event": [{"name": "e1"}, {"name": ["e2", "e3"]}], "timestamp": [1, 2]}`,
		"root-array":     `[{"workorder": {"id": 7, "title": "t"}, "event": {"name": "x"}}, {"workorder": {"id": 8}}, 5]`,
		"scalars":        `{"workorder": "text", "event": 5, "timestamp": null}`,
		"root-scalar":    `"just a string"`,
		"empty":          `{}`,
		"escapes":        `{"skip": "a \"quoted\" \\ string with 1e999 inside", "workorder": {"id": "\u00e9\ud83d\ude00", "title": "x\"y"}, "n": -0.5e-3}`,
		"big-numbers":    `{"skip": [1.7976931348623157e308, -1e-400, 123456789012345678901234567890], "workorder": {"id": 1e300}}`,
		"dup-skipped":    `{"workorder": {"id": 1}, "skip": {"a": 1, "a": 2}}`,
		"dup-kept":       `{"workorder": {"id": 1, "id": 2}}`,
		"dup-top":        `{"workorder": {"id": 1}, "skip": 1, "skip": 2}`,
		"dup-top-kept":   `{"skip": 1, "workorder": {"id": 1}, "workorder": 2}`,
		"range-skipped":  `{"workorder": {"id": 1}, "skip": {"n": [1e400]}}`,
		"range-long":     `{"workorder": {"id": 1}, "skip": 1` + strings.Repeat("0", 400) + `}`,
		"utf8-skipped":   "{\"workorder\": {\"id\": 1}, \"skip\": \"\xff\"}",
		"utf8-name":      "{\"workorder\": {\"id\": 1}, \"\xfe\": 1}",
		"syntax-skipped": `{"workorder": {"id": 1}, "skip": [1, 2,]}`,
		"trailing":       `{"workorder": {"id": 1}} {}`,
		"truncated":      `{"workorder": {"id": 1}, "skip": [1, 2`,
		"deep-skipped":   `{"workorder": {"id": 1}, "skip": ` + strings.Repeat("[", 10001) + strings.Repeat("]", 10001) + `}`,
		"deep-ok":        `{"workorder": {"id": 1}, "skip": ` + strings.Repeat("[", 1000) + strings.Repeat("]", 1000) + `}`,
	} {
		envs[name] = []byte(s)
	}
	return envs
}

// projectedTemplates are payload templates for the differential tests:
// every corpus template and a few more that project.
func projectedTemplates(t testing.TB) []string {
	tpls := []string{benchPayloadTemplate, serviceNowTemplate,
		`{"id": workorder.id, "t": workorder.title, "n": event.name, "ts": timestamp}`,
		`workorder.id`, `workorder`, `workorder.x.y`, `workorder.status.name & "/" & event.name`,
		`{"c": $count(workorder), "e": $exists(workorder.nope), "s": $string(workorder.status)}`,
		`[$sum(workorder.id), $boolean(event), $not(workorder.title)]`,
		`{"skip": skip, "n": n}`, `$string(skip)`, `$uppercase(workorder.title)`,
		`($x := workorder)`, `($x := workorder.status; $y := $x.name)`, `{"a": ($x := workorder.id), "b": ($y := event; 1)}`,
		`($w := workorder; $s := $w.status; $t := $w.title & "x"; [$s.name, $t, $w.location])`,
		`($x := {"a": workorder, "e": event.name}; [$x.a.id, $x.e])`, `($x := $; $x.event.name & $x.workorder.title)`,
		`/* c */ workorder.id /* d */`, `"/* s */" & workorder.title`, `workorder.id / 2`,
	}
	for _, c := range loadCorpus(t) {
		tpls = append(tpls, c.Template)
	}
	for _, path := range slices.Sorted(maps.Keys(exampleTemplates)) {
		tpls = append(tpls, readExampleTemplate(t, path))
	}
	return tpls
}

// applyBoth applies p with and without its projection.
func applyBoth(p *Program, env []byte) (proj, full string) {
	whole := *p
	whole.proj = nil
	outcome := func(q *Program) string {
		body, url, err := q.Apply(context.Background(), env)
		if err != nil {
			return "error: " + err.Error()
		}
		return url + " " + string(body)
	}
	return outcome(p), outcome(&whole)
}

// TestProjectedApply is the differential test: every template, every
// envelope, both engines; Apply with the projection gives the same body,
// URL and error as Apply decoding the whole envelope.
func TestProjectedApply(t *testing.T) {
	envs := projectedEnvelopes(t)
	tpls := projectedTemplates(t)
	urls := []string{"", "https://x.example/{{ workorder.id }}", "https://x.example/{{ $string(event.name) }}/t"}
	for _, eng := range bothEngines {
		tr := newTransformer(t, Options{Engine: eng, Timeout: 5 * time.Second})
		projected := 0
		for i, tpl := range tpls {
			u := urls[i%len(urls)]
			p, err := tr.Program("d", int64(i+1), tpl, u)
			if err != nil {
				continue // a corpus case that does not compile
			}
			if p.proj == nil {
				continue
			}
			projected++
			for name, env := range envs {
				got, want := applyBoth(p, env)
				if got != want {
					t.Errorf("%s: template %q, url %q, envelope %s:\nprojected: %s\nwhole:     %s", eng, tpl, u, name, got, want)
				}
			}
		}
		if eng == EngineJSONataGo {
			waitJSONataGoIdle(t)
		}
		if projected < 100 {
			t.Errorf("%s: only %d of %d templates project", eng, projected, len(tpls))
		}
		t.Logf("%s: %d of %d templates project", eng, projected, len(tpls))
	}
}

// TestDecodeProjectedRefuses checks the projected decode itself, without
// decodeProjected's fallback: it refuses what decodeJSON refuses, also
// inside values it skips (jsontext's ReadValue checks duplicate names,
// UTF-8 and depth there; checkNumbers the number range), and otherwise
// gives the projected part of decodeJSON's value.
func TestDecodeProjectedRefuses(t *testing.T) {
	p := projectionOf([]string{`workorder.id`}, true)
	envs := projectedEnvelopes(t)
	for name, env := range envs {
		_, fullErr := decodeJSON(env, gnataInput)
		got, err := decode(env, gnataInput, p)
		if (err == nil) != (fullErr == nil) {
			t.Errorf("%s: projected decode error %v, full decode error %v", name, err, fullErr)
			continue
		}
		if err != nil {
			continue
		}
		full, _ := decodeJSON(env, inputForm{})
		if g, w := gnata.NormalizeValue(got), projectValue(full, p); !reflect.DeepEqual(g, w) {
			t.Errorf("%s: projected decode %#v, want %#v", name, g, w)
		}
	}
	for _, name := range []string{"dup-skipped", "range-skipped", "range-long", "utf8-skipped", "syntax-skipped", "deep-skipped", "dup-top", "utf8-name", "trailing", "truncated"} {
		if _, err := decodeProjected(envs[name], gnataInput, p); err == nil {
			t.Errorf("%s: decodeProjected accepted it", name)
		} else if de := (*DecodeError)(nil); !errors.As(err, &de) {
			t.Errorf("%s: error %T %v, want a *DecodeError", name, err, err)
		}
	}
}

// projectValue applies p to a plain decoded value: what decodeProjected
// should build.
func projectValue(v any, p *projection) any {
	if p.whole {
		return v
	}
	switch x := v.(type) {
	case map[string]any:
		out := map[string]any{}
		for k, c := range p.members {
			if m, ok := x[k]; ok {
				out[k] = projectValue(m, c)
			}
		}
		return out
	case []any:
		out := make([]any, len(x))
		for i, e := range x {
			out[i] = projectValue(e, p)
		}
		return out
	}
	return v
}

func TestCheckNumbers(t *testing.T) {
	for _, c := range []struct {
		raw string
		ok  bool
	}{
		{`[1, -2.5, 0.1e5, 1E+308, -1.7976931348623157e308]`, true},
		{`"1e999"`, true},
		{`"\"" 1`, true},
		{`["\\", 1e999]`, false},
		{`{"a\"1e999": 2}`, true},
		{`[1e309]`, false},
		{`-1e400`, false},
		{`1e-400`, true},
		{strings.Repeat("9", 308), true},
		{strings.Repeat("9", 309), false},
		{`[true, false, null, 1e2]`, true},
	} {
		if err := checkNumbers([]byte(c.raw)); (err == nil) != c.ok {
			t.Errorf("checkNumbers(%.40q) = %v, want ok %v", c.raw, err, c.ok)
		}
	}
}
