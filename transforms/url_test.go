package transforms

import (
	"context"
	"net/url"
	"strconv"
	"strings"
	"testing"
)

func TestURLTemplate(t *testing.T) {
	seed := seedEnvelope(t)
	cases := []struct{ name, url, want string }{
		{"dollar-path", "https://api.company.com/{{$.workorder.location.country}}/workorders", "https://api.company.com/US/workorders"},
		{"query", "https://api.company.com?wo={{ workorder.id }}", "https://api.company.com?wo=12345"},
		{"userinfo-and-port", "https://u:p@api.company.com:8443/{{ workorder.id }}", "https://u:p@api.company.com:8443/12345"},
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

// TestURLTemplateOrigin (issue 12, finding 8): a placeholder may not stand
// where it could change the scheme, userinfo, host or port; the refusal
// points at the first "{{". Accepted templates keep their origin whatever
// the event holds: values that look like an authority are escaped into the
// path.
func TestURLTemplateOrigin(t *testing.T) {
	refused := []string{
		"https://example.com{{ x }}/",
		"https://{{ x }}.example.com/",
		"https://example.com:{{ x }}/",
		"https://{{ x }}@example.com/",
		"https://user:{{ x }}@example.com/",
		"{{ x }}://example.com/",
		"http{{ x }}://example.com/",
		"https://example.com{{ x }}",
		"{{ x }}",
		"//example.com/{{ x }}",
		"https:///{{ x }}",
	}
	for _, eng := range bothEngines {
		for _, u := range refused {
			te := asError(t, CheckURLTemplate(eng, u))
			if te.Template != TemplateURL || te.Position != strings.Index(u, "{{") || !strings.Contains(te.Message, "path, query or fragment") {
				t.Errorf("%s %q: %v (position %d)", eng, u, te, te.Position)
			}
			if CheckURLOrigin(u) == nil {
				t.Errorf("CheckURLOrigin(%q) passed", u)
			}
			if _, err := newTransformer(t, Options{Engine: eng}).Program("k", 1, "", u); err == nil {
				t.Errorf("%s %q: Program compiled it (a stored webhook must not render it)", eng, u)
			}
		}
	}
	for _, u := range []string{"https://example.com/", "https://example.com/a/{{ x }}", "https://example.com?{{ x }}", "https://example.com#{{ x }}"} {
		if err := CheckURLOrigin(u); err != nil {
			t.Errorf("CheckURLOrigin(%q): %v", u, err)
		}
	}
	hostile := []string{"@evil.test:8080", "//evil.test/", "/../@evil.test", `\\evil.test`, "evil.test#", "x?y=@evil.test", "%2F%2Fevil.test", "a b"}
	for _, eng := range bothEngines {
		tr := newTransformer(t, Options{Engine: eng})
		p, err := tr.Program("hostile", 1, "", "https://example.com/{{ workorder.title }}?q={{ workorder.title }}#{{ workorder.title }}")
		if err != nil {
			t.Fatal(err)
		}
		for _, v := range hostile {
			env := []byte(`{"workorder":{"title":` + strconv.Quote(v) + `}}`)
			_, rendered, err := p.Apply(context.Background(), env)
			if err != nil {
				t.Fatalf("%s %q: %v", eng, v, err)
			}
			u, err := url.Parse(rendered)
			if err != nil || u.Scheme != "https" || u.Host != "example.com" || u.User != nil {
				t.Errorf("%s %q rendered %q: host %q", eng, v, rendered, u.Host)
			}
		}
	}
}

// TestRenderedOriginChecked: the check after every render refuses a URL
// whose origin differs from the template's, whatever produced it.
func TestRenderedOriginChecked(t *testing.T) {
	p, err := newTransformer(t, Options{}).Program("k", 1, "", "https://example.com/{{ workorder.id }}")
	if err != nil {
		t.Fatal(err)
	}
	for _, r := range []string{"https://example.com@evil.test/1", "https://evil.test/1", "http://example.com/1", "https://example.com:444/1", "https://u@example.com/1", "https://exa mple.com/"} {
		if e := p.url.checkRendered(r); e == nil || e.Template != TemplateURL {
			t.Errorf("%q passed the check", r)
		}
	}
	if e := p.url.checkRendered("https://example.com/x/@evil.test?y#z"); e != nil {
		t.Errorf("same origin refused: %v", e)
	}
}
