package transforms

import (
	"context"
	"strings"
	"testing"
)

func TestURLTemplate(t *testing.T) {
	seed := seedEnvelope(t)
	cases := []struct{ name, url, want string }{
		{"dollar-path", "https://{{$.workorder.location.country}}.api.company.com/workorders", "https://US.api.company.com/workorders"},
		{"spaces-and-number", "https://x/{{ workorder.id }}/y", "https://x/12345/y"},
		{"two-placeholders", "https://x/{{ event.name }}/{{triggered_by_user.id}}", "https://x/workorder.status.published/1068"},
		{"escaping", `https://x/{{ workorder.title & "/" & workorder.location.city }}`, "https://x/Router%20Installation%20-%20Site%2042%2FSan%20Francisco"},
		{"boolean", "https://x/{{ event.params.skip_integration }}", "https://x/false"},
		{"float", "https://x/{{ workorder.pay.base.amount / 100 }}", "https://x/2.5"},
		{"expression", `https://x/{{ $lowercase(workorder.location.state) }}?v=1`, "https://x/ca?v=1"},
		{"static", "https://api.company.com/workorders", "https://api.company.com/workorders"},
	}
	for _, eng := range bothEngines {
		tr := newTransformer(t, Options{Engine: eng})
		for _, c := range cases {
			p, err := tr.Program(c.name, 1, "", c.url)
			if err != nil {
				t.Fatalf("%s %s: %v", eng, c.name, err)
			}
			body, url, err := p.Apply(context.Background(), seed)
			if err != nil || url != c.want || string(body) != string(seed) {
				t.Errorf("%s %s: url %q err %v, want %q", eng, c.name, url, err, c.want)
			}
			// Same result when a payload template forces a full decode.
			p, err = tr.Program(c.name+"+body", 1, `"x"`, c.url)
			if err != nil {
				t.Fatal(err)
			}
			if _, url, err := p.Apply(context.Background(), seed); err != nil || url != c.want {
				t.Errorf("%s %s with body: url %q err %v", eng, c.name, url, err)
			}
		}
	}
}

func TestURLTemplateStaticFastPath(t *testing.T) {
	p, err := newTransformer(t, Options{}).Program("k", 1, "", "https://example.com/a%20b")
	if err != nil {
		t.Fatal(err)
	}
	if p.url.dynamic() {
		t.Fatal("static URL compiled into placeholders")
	}
	// Not even valid JSON is looked at: nothing needs evaluating.
	body, url, err := p.Apply(context.Background(), []byte("not json"))
	if err != nil || url != "https://example.com/a%20b" || string(body) != "not json" {
		t.Fatalf("%q %q %v", body, url, err)
	}
}

func TestURLTemplateEvalErrors(t *testing.T) {
	seed := seedEnvelope(t)
	cases := []struct{ name, url, want string }{
		{"undefined", "https://x/{{ workorder.nope }}", "no value"},
		{"object", "https://x/{{ workorder.location }}", "string, number or boolean"},
		{"array", "https://x/{{ [1, 2] }}", "string, number or boolean"},
		{"null", "https://x/{{ workorder.assignee }}", "string, number or boolean"},
	}
	for _, eng := range bothEngines {
		tr := newTransformer(t, Options{Engine: eng})
		for _, c := range cases {
			p, err := tr.Program(c.name, 1, "", c.url)
			if err != nil {
				t.Fatal(err)
			}
			_, _, err = p.Apply(context.Background(), seed)
			te := asError(t, err)
			if te.Template != TemplateURL || !strings.Contains(te.Message, c.want) {
				t.Errorf("%s %s: %v", eng, c.name, err)
			}
		}
	}
}

func TestURLTemplateCompileErrors(t *testing.T) {
	cases := []struct {
		name, url string
		pos       int
	}{
		{"bad-expression", "https://x/{{ workorder.id + }}/y", 27},
		{"bad-token", "https://x/{{ a ) }}", 15},
		{"unclosed", "https://x/{{ workorder.id", 10},
		{"stray-close", "https://x/}}", 10},
		{"empty", "https://x/{{  }}", 10},
	}
	for _, eng := range bothEngines {
		for _, c := range cases {
			err := CheckURLTemplate(eng, c.url)
			te := asError(t, err)
			if te.Template != TemplateURL || te.Position != c.pos {
				t.Errorf("%s %s: %v (position %d, want %d)", eng, c.name, err, te.Position, c.pos)
			}
			if _, err := newTransformer(t, Options{Engine: eng}).Program("k", 1, "", c.url); err == nil {
				t.Errorf("%s %s: Program accepted it", eng, c.name)
			}
		}
		if err := CheckURLTemplate(eng, "https://x/{{ workorder.id }}"); err != nil {
			t.Errorf("%s: %v", eng, err)
		}
	}
}
