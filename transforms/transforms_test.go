package transforms

import (
	"context"
	"errors"
	"fmt"
	"strings"
	"sync"
	"testing"
	"time"
)

var bothEngines = []string{EngineGnata, EngineJSONataGo}

func newTransformer(t testing.TB, opts Options) *Transformer {
	t.Helper()
	if opts.Engine == EngineJSONataGo {
		waitJSONataGoIdle(t)
	}
	tr, err := New(opts)
	if err != nil {
		t.Fatal(err)
	}
	return tr
}

func asError(t *testing.T, err error) *Error {
	t.Helper()
	var te *Error
	if !errors.As(err, &te) {
		t.Fatalf("want *Error, got %T: %v", err, err)
	}
	return te
}

func TestNewUnknownEngine(t *testing.T) {
	if _, err := New(Options{Engine: "jq"}); err == nil {
		t.Fatal("unknown engine accepted")
	}
	if err := CheckPayloadTemplate("jq", "a"); err == nil {
		t.Fatal("CheckPayloadTemplate accepted an unknown engine")
	}
	if err := CheckURLTemplate("jq", "https://x/"); err == nil {
		t.Fatal("CheckURLTemplate accepted an unknown engine")
	}
	tr := newTransformer(t, Options{})
	if tr.Engine() != EngineGnata {
		t.Fatalf("default engine = %q", tr.Engine())
	}
}

func TestEmptyTemplateReturnsEnvelope(t *testing.T) {
	seed := seedEnvelope(t)
	for _, eng := range bothEngines {
		p, err := newTransformer(t, Options{Engine: eng}).Program("k", 1, "", "https://example.com/hook")
		if err != nil {
			t.Fatal(err)
		}
		body, url, err := p.Apply(context.Background(), seed)
		if err != nil || string(body) != string(seed) || url != "https://example.com/hook" {
			t.Fatalf("%s: body changed or err %v, url %q", eng, err, url)
		}
	}
}

func TestNoValueIsError(t *testing.T) {
	for _, eng := range bothEngines {
		p, err := newTransformer(t, Options{Engine: eng}).Program("k", 1, "workorder.nope", "")
		if err != nil {
			t.Fatal(err)
		}
		_, _, err = p.Apply(context.Background(), seedEnvelope(t))
		te := asError(t, err)
		if te.Template != TemplatePayload || !strings.Contains(te.Message, "no value") {
			t.Fatalf("%s: %v", eng, err)
		}
	}
}

func TestSyntaxErrorPosition(t *testing.T) {
	cases := []struct {
		expr string
		pos  int
	}{
		{`workorder.id + )`, 15},
		{`{"a": workorder.id,, "b": 1}`, 19},
		{`é + )`, 4}, // positions count characters, not bytes
		{`workorder.id +`, 14},
	}
	for _, eng := range bothEngines {
		for _, c := range cases {
			err := CheckPayloadTemplate(eng, c.expr)
			te := asError(t, err)
			if te.Template != TemplatePayload || te.Position != c.pos {
				t.Errorf("%s %q: position %d (%v), want %d", eng, c.expr, te.Position, err, c.pos)
			}
			if want := fmt.Sprintf("payload template: position %d: ", c.pos); !strings.HasPrefix(err.Error(), want) {
				t.Errorf("%s: Error() = %q, want prefix %q", eng, err, want)
			}
		}
	}
}

func TestErrorString(t *testing.T) {
	e := &Error{Template: "url", Position: -1, Message: "boom"}
	if e.Error() != "url template: boom" {
		t.Fatal(e.Error())
	}
}

func TestNestingDepthLimit(t *testing.T) {
	deep := strings.Repeat("(", 30) + "1" + strings.Repeat(")", 30)
	for _, eng := range bothEngines {
		tr := newTransformer(t, Options{Engine: eng, MaxDepth: 20})
		_, err := tr.Program("k", 1, deep, "")
		if te := asError(t, err); !strings.Contains(te.Message, "depth") || te.Position != 20 {
			t.Fatalf("%s: %v", eng, err)
		}
		shallow := strings.Repeat("(", 10) + "1" + strings.Repeat(")", 10)
		if _, err := tr.Program("k", 2, shallow, ""); err != nil {
			t.Fatalf("%s: %v", eng, err)
		}
	}
	// Brackets inside strings and comments do not count.
	if d, _ := nestingDepth(`"((((" & '[[[' & /* {{{{ */ `+"`((`"+` & (x)`, 10); d != 1 {
		t.Fatalf("nestingDepth = %d", d)
	}
	if err := CheckPayloadTemplate("", strings.Repeat(" ", MaxTemplateBytes+1)+"1"); err == nil {
		t.Fatal("oversized template accepted")
	}
}

func TestOutputDepthLimit(t *testing.T) {
	// A template that builds a value nested 60 deep fails with MaxDepth 50:
	// the depth bound, not the time limit, which is generous here so that
	// a stalled render on a loaded machine cannot answer first.
	tpl := `$reduce([1..60], function($acc, $v) { {"a": $acc} }, 0)`
	for _, eng := range bothEngines {
		p, err := newTransformer(t, Options{Engine: eng, MaxDepth: 50, Timeout: 10 * time.Second}).Program("k", 1, tpl, "")
		if err != nil {
			t.Fatal(err)
		}
		_, _, err = p.Apply(context.Background(), seedEnvelope(t))
		if te := asError(t, err); !strings.Contains(te.Message, "depth") {
			t.Fatalf("%s: %v", eng, err)
		}
	}
}

func TestRunawayStopped(t *testing.T) {
	// Depth cases get a generous time bound, which they never reach (the
	// depth bound fires first, also under -race); loop cases a short one.
	const short, long = 50 * time.Millisecond, 10 * time.Second
	cases := []struct {
		name, tpl, want string
		timeout         time.Duration
	}{
		{"tail-recursion", `($f := function($x){$f($x+1)}; $f(0))`, "", short},
		{"deep-recursion", `($f := function($x){1 + $f($x+1)}; $f(0))`, "depth", long},
		{"mutual-recursion", `($a := function($x){1 + $b($x)}; $b := function($x){1 + $a($x)}; $a(0))`, "depth", long},
		{"self-application", `(function($g){ 1 + $g($g) })(function($g){ 1 + $g($g) })`, "depth", long},
		{"huge-loop", `$count([1..10000].([1..10000]))`, "time limit", short},
		{"huge-hof-loop", `$sum($map([1..10000000], function($v){ $v * 2 }))`, "time limit", short},
	}
	seed := seedEnvelope(t)
	for _, eng := range bothEngines {
		for _, c := range cases {
			t.Run(eng+"/"+c.name, func(t *testing.T) {
				waitJSONataGoIdle(t)
				tr := newTransformer(t, Options{Engine: eng, Timeout: c.timeout})
				p, err := tr.Program(c.name, 1, c.tpl, "")
				if err != nil {
					t.Fatal(err)
				}
				start := time.Now()
				_, _, err = p.Apply(context.Background(), seed)
				took := time.Since(start)
				te := asError(t, err)
				if !strings.Contains(te.Message, c.want) || (!strings.Contains(te.Message, "depth") && !strings.Contains(te.Message, "time limit")) {
					t.Fatalf("got %v, want a %q error", err, c.want)
				}
				// gnata checks its context between steps, so an
				// uninterruptible step (allocating a 10M-item range) can
				// overshoot; slack covers that under -race on a busy host.
				if took > c.timeout+5*time.Second {
					t.Fatalf("took %v", took)
				}
			})
		}
	}
}

// TestLegitimateRecursionWithinBounds: recursion well inside the depth
// bound renders. The depth bound is what this checks, not the time limit:
// with the default 100 ms a loaded CI machine under -race could stall the
// render past it (it failed so once), so the limit here is generous.
func TestLegitimateRecursionWithinBounds(t *testing.T) {
	tpl := `($f := function($n){ $n <= 1 ? 1 : $n * $f($n - 1) }; $f(20))`
	waitJSONataGoIdle(t)
	for _, eng := range bothEngines {
		p, err := newTransformer(t, Options{Engine: eng, Timeout: 10 * time.Second}).Program("k", 1, tpl, "")
		if err != nil {
			t.Fatal(err)
		}
		body, _, err := p.Apply(context.Background(), seedEnvelope(t))
		if err != nil || string(body) != "2432902008176640000" {
			t.Fatalf("%s: %s %v", eng, body, err)
		}
	}
}

func TestJSONataGoDepthBound(t *testing.T) {
	// jsonata-go gets no built-in limit; MaxDepth must stop recursion that
	// stays well inside the time bound.
	tr := newTransformer(t, Options{Engine: EngineJSONataGo, MaxDepth: 10, Timeout: 10 * time.Second})
	p, err := tr.Program("k", 1, `($f := function($x){ $x = 0 ? 0 : 1 + $f($x - 1) }; $f(1000))`, "")
	if err != nil {
		t.Fatal(err)
	}
	_, _, err = p.Apply(context.Background(), seedEnvelope(t))
	if te := asError(t, err); !strings.Contains(te.Message, "depth (10)") {
		t.Fatal(err)
	}
}

func TestReservedNameRejected(t *testing.T) {
	if err := CheckPayloadTemplate(EngineJSONataGo, `$__hookgate_enter()`); err == nil {
		t.Fatal("reserved checkpoint function accepted")
	}
}

func TestCallerContextCanceled(t *testing.T) {
	ctx, cancel := context.WithCancel(context.Background())
	cancel()
	for _, eng := range bothEngines {
		for _, tpl := range []string{`workorder.id`, `$sum($map([1..100000], function($v){$v}))`} {
			p, err := newTransformer(t, Options{Engine: eng}).Program("k", 1, tpl, "https://x/{{ workorder.id }}")
			if err != nil {
				t.Fatal(err)
			}
			_, _, err = p.Apply(ctx, seedEnvelope(t))
			if te := asError(t, err); !strings.Contains(te.Message, "canceled") {
				t.Fatalf("%s %s: %v", eng, tpl, err)
			}
		}
	}
}

func TestReuseChain(t *testing.T) {
	// jsonata-go rewrites `~>` in place; without a fresh compile per
	// evaluation the second run would receive the argument twice.
	tpl := `workorder.title ~> $substringBefore(" -") ~> $uppercase()`
	for _, eng := range bothEngines {
		p, err := newTransformer(t, Options{Engine: eng}).Program("k", 1, tpl, "")
		if err != nil {
			t.Fatal(err)
		}
		for i := range 3 {
			body, _, err := p.Apply(context.Background(), seedEnvelope(t))
			if err != nil || string(body) != `"ROUTER INSTALLATION"` {
				t.Fatalf("%s run %d: %s %v", eng, i, body, err)
			}
		}
	}
}

func TestConcurrentEvaluation(t *testing.T) {
	templates := []struct{ tpl, want string }{
		{`$string(workorder.id)`, `"12345"`},
		{`$uppercase(workorder.location.city)`, `"SAN FRANCISCO"`},
		{`workorder.title ~> $substringAfter("- ")`, `"Site 42"`},
		{`$map([1,2,3], function($v){ $v * workorder.status.id })`, `[2,4,6]`},
		{`{"n": $count(workorder.tags.results), "c": workorder.company.name}`, `{"c":"Acme Corporation","n":1}`},
		{`$join(workorder.custom_fields.results.value, ",") & "|" & $now("[Y]").$string($length($)) `, `"PO-2026-001|4"`},
	}
	seed := seedEnvelope(t)
	for _, eng := range bothEngines {
		tr := newTransformer(t, Options{Engine: eng, Timeout: 30 * time.Second})
		var wg sync.WaitGroup
		errs := make(chan error, 64)
		for g := range 16 {
			wg.Add(1)
			go func() {
				defer wg.Done()
				for i := range 20 {
					c := templates[(g+i)%len(templates)]
					p, err := tr.Program(fmt.Sprint((g+i)%len(templates)), 1, c.tpl, "https://x/{{ workorder.id }}")
					if err != nil {
						errs <- err
						return
					}
					body, url, err := p.Apply(context.Background(), seed)
					if err != nil {
						errs <- err
						return
					}
					if got := canonicalJSON(t, body); got != c.want || url != "https://x/12345" {
						errs <- fmt.Errorf("%s: %q gave %s %s", eng, c.tpl, got, url)
						return
					}
				}
			}()
		}
		wg.Wait()
		close(errs)
		for err := range errs {
			t.Error(err)
		}
	}
}

func TestProgramCache(t *testing.T) {
	tr := newTransformer(t, Options{})
	p1, err := tr.Program("hook", 1, `"v1"`, "")
	if err != nil {
		t.Fatal(err)
	}
	again, _ := tr.Program("hook", 1, `"v1"`, "")
	if again != p1 {
		t.Fatal("same version recompiled")
	}
	p2, _ := tr.Program("hook", 2, `"v2"`, "")
	if p2 == p1 {
		t.Fatal("new version not compiled")
	}
	old, _ := tr.Program("hook", 1, `"v1"`, "")
	if old == p1 || old == p2 {
		t.Fatal("stale version served from cache")
	}
	if cur, _ := tr.Program("hook", 2, `"v2"`, ""); cur != p2 {
		t.Fatal("older version replaced a newer one")
	}
	body, _, _ := p2.Apply(context.Background(), []byte(`{}`))
	if string(body) != `"v2"` {
		t.Fatalf("body %s", body)
	}
	tr.Forget("hook")
	if cur, _ := tr.Program("hook", 2, `"v2"`, ""); cur == p2 {
		t.Fatal("Forget kept the program")
	}
	if _, err := tr.Program("bad", 1, `1 +`, ""); err == nil {
		t.Fatal("bad template compiled")
	}
}

func TestInvalidEnvelope(t *testing.T) {
	p, err := newTransformer(t, Options{}).Program("k", 1, `a`, "")
	if err != nil {
		t.Fatal(err)
	}
	var de *DecodeError
	if _, _, err := p.Apply(context.Background(), []byte(`{"a":`)); !errors.As(err, &de) {
		t.Fatalf("got %v", err)
	}
}

func TestOutputEncoding(t *testing.T) {
	tpl := `{"html": "<a&b>", "ctl": "tab\tnl\n", "big": 1e21, "small": 0.0000001, "neg": -0.5, "int": 3.0, "arr": [1, workorder.nope, 2], "nul": null}`
	want := `{"html":"<a&b>","ctl":"tab\tnl\n","big":1e+21,"small":1e-7,"neg":-0.5,"int":3,"arr":[1,2],"nul":null}`
	p, err := newTransformer(t, Options{}).Program("k", 1, tpl, "")
	if err != nil {
		t.Fatal(err)
	}
	body, _, err := p.Apply(context.Background(), seedEnvelope(t))
	if err != nil || string(body) != want {
		t.Fatalf("got %s %v\nwant %s", body, err, want)
	}
}
