package transforms

import (
	"bytes"
	"context"
	"encoding/json"
	"fmt"
	"os"
	"reflect"
	"slices"
	"strings"
	"testing"
)

// corpusCase is one entry of testdata/corpus/corpus.json. The base
// outcome (Expect or Error) is what gnata, the default engine, must give.
// JSONataGo, when present, is a known difference: what jsonata-go gives
// instead, with a Note that docs/transforms.md repeats.
type corpusCase struct {
	Name      string          `json:"name"`
	Template  string          `json:"template"`
	Input     json.RawMessage `json:"input"` // default: the seed envelope
	Expect    json.RawMessage `json:"expect"`
	Error     *string         `json:"error"` // substring of the error; "" = any error
	Note      string          `json:"note"`
	JSONataGo *corpusOutcome  `json:"jsonata_go"`
}

type corpusOutcome struct {
	Expect    json.RawMessage `json:"expect"`
	Error     *string         `json:"error"`
	Unordered bool            `json:"unordered"` // compare arrays ignoring order
	Note      string          `json:"note"`
}

func loadCorpus(t testing.TB) []corpusCase {
	t.Helper()
	raw, err := os.ReadFile("testdata/corpus/corpus.json")
	if err != nil {
		t.Fatal(err)
	}
	var cases []corpusCase
	dec := json.NewDecoder(bytes.NewReader(raw))
	dec.DisallowUnknownFields()
	if err := dec.Decode(&cases); err != nil {
		t.Fatal(err)
	}
	return cases
}

func seedEnvelope(t testing.TB) []byte {
	t.Helper()
	b, err := os.ReadFile("testdata/seed-envelope.json")
	if err != nil {
		t.Fatal(err)
	}
	return b
}

// runTemplate compiles and applies one payload template; it returns the
// body or the error, whichever stage failed.
func runTemplate(tr *Transformer, name, tpl string, input []byte) ([]byte, error) {
	p, err := tr.Program(name, 1, tpl, "")
	if err != nil {
		return nil, err
	}
	body, _, err := p.Apply(context.Background(), input)
	return body, err
}

// matches reports whether (body, err) is the outcome (expect, wantErr).
func matches(expect json.RawMessage, wantErr *string, body []byte, err error) bool {
	return matchesOpt(expect, wantErr, false, body, err)
}

func matchesOpt(expect json.RawMessage, wantErr *string, unordered bool, body []byte, err error) bool {
	if wantErr != nil {
		return err != nil && strings.Contains(err.Error(), *wantErr)
	}
	if err != nil || expect == nil {
		return false
	}
	var got, want any
	if json.Unmarshal(body, &got) != nil || json.Unmarshal(expect, &want) != nil {
		return false
	}
	if unordered {
		got, want = sortedArray(got), sortedArray(want)
	}
	return reflect.DeepEqual(got, want)
}

func sortedArray(v any) any {
	a, ok := v.([]any)
	if !ok {
		return v
	}
	a = slices.Clone(a)
	slices.SortFunc(a, func(x, y any) int { return strings.Compare(fmt.Sprint(x), fmt.Sprint(y)) })
	return a
}

func describe(body []byte, err error) string {
	if err != nil {
		return "error: " + err.Error()
	}
	return "body: " + string(body)
}

func TestCorpus(t *testing.T) {
	cases := loadCorpus(t)
	if len(cases) < 25 {
		t.Fatalf("corpus has %d cases, want at least 25", len(cases))
	}
	seed := seedEnvelope(t)
	engines := map[string]*Transformer{}
	for _, name := range []string{EngineGnata, EngineJSONataGo} {
		tr, err := New(Options{Engine: name})
		if err != nil {
			t.Fatal(err)
		}
		engines[name] = tr
	}
	seen := map[string]bool{}
	for _, c := range cases {
		if seen[c.Name] {
			t.Fatalf("duplicate case name %q", c.Name)
		}
		seen[c.Name] = true
		if (c.Expect == nil) == (c.Error == nil) {
			t.Fatalf("case %q: set exactly one of expect and error", c.Name)
		}
		input := seed
		if c.Input != nil {
			input = c.Input
		}
		t.Run(c.Name, func(t *testing.T) {
			body, err := runTemplate(engines[EngineGnata], c.Name, c.Template, input)
			if !matches(c.Expect, c.Error, body, err) {
				t.Errorf("gnata: got %s", describe(body, err))
			}
			body, err = runTemplate(engines[EngineJSONataGo], c.Name, c.Template, input)
			base := matches(c.Expect, c.Error, body, err)
			switch {
			case c.JSONataGo == nil && !base:
				t.Errorf("jsonata-go differs from gnata but the corpus lists no difference: got %s", describe(body, err))
			case c.JSONataGo != nil && base && !c.JSONataGo.Unordered:
				// An unordered difference (random key order) may match by chance.
				t.Errorf("listed jsonata-go difference disappeared: got %s, same as gnata", describe(body, err))
			case c.JSONataGo != nil && !matchesOpt(c.JSONataGo.Expect, c.JSONataGo.Error, c.JSONataGo.Unordered, body, err):
				t.Errorf("jsonata-go: got %s, not the listed difference", describe(body, err))
			}
			if c.JSONataGo != nil && c.JSONataGo.Note == "" {
				t.Errorf("a listed difference needs a note")
			}
		})
	}
}
