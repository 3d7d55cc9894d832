// Package transforms compiles and evaluates the JSONata templates that
// reshape a delivery: the payload template (its result is the body) and the
// URL template ({{ expr }} placeholders inside the webhook URL).
package transforms

import (
	"context"
	"sync"
	"time"
)

// Options configure a Transformer (the transforms block of gateway.hcl).
type Options struct {
	Engine string // "gnata" (default) or "jsonata-go"
	// Timeout is the time budget of one render: the payload template and
	// every URL placeholder together.
	Timeout  time.Duration
	MaxDepth int // recursion/nesting bound per evaluation
}

// Error is a template that does not compile or fails to evaluate.
type Error struct {
	Template string // "payload" or "url"
	Position int    // character offset in the expression, -1 when unknown
	Message  string
}

// LineCol converts an Error's Position (a 0-based character offset into
// text) into a 1-based line and column, for templates that span lines.
func LineCol(text string, offset int) (line, col int) {
	line, col = 1, 1
	for i, r := range []rune(text) {
		if i == offset {
			break
		}
		if r == '\n' {
			line, col = line+1, 1
		} else {
			col++
		}
	}
	return line, col
}

// Transformer compiles templates once per webhook version and evaluates them.
// It is safe for concurrent use.
type Transformer struct {
	eng  engine
	name string
	lim  limits

	mu    sync.Mutex
	cache map[string]*Program
}

// New returns a Transformer for the chosen engine.
func New(opts Options) (*Transformer, error) {
	eng, err := engineByName(opts.Engine)
	if err != nil {
		return nil, err
	}
	name := opts.Engine
	if name == "" {
		name = DefaultEngine
	}
	return &Transformer{eng: eng, name: name, lim: opts.limits(), cache: map[string]*Program{}}, nil
}

// Engine returns the name of the engine in use.
func (t *Transformer) Engine() string { return t.name }

// Program returns the compiled templates of one webhook version (cached by key and version).
// A newer version replaces the cached one; a request for an older version
// (a delivery still in flight across an update) is compiled but not cached.
// Compile failures are returned as *Error and not cached.
func (t *Transformer) Program(key string, version int64, payloadTemplate, urlTemplate string) (*Program, error) {
	t.mu.Lock()
	cached := t.cache[key]
	t.mu.Unlock()
	if cached != nil && cached.version == version {
		return cached, nil
	}
	p, err := t.compile(version, payloadTemplate, urlTemplate)
	if err != nil {
		return nil, err
	}
	t.mu.Lock()
	if cur := t.cache[key]; cur == nil || cur.version < version {
		t.cache[key] = p
	} else if cur.version == version {
		p = cur // a concurrent caller compiled the same version first
	}
	t.mu.Unlock()
	return p, nil
}

// Forget drops the cached program of key (for a deleted webhook).
func (t *Transformer) Forget(key string) {
	t.mu.Lock()
	delete(t.cache, key)
	t.mu.Unlock()
}

// Program is a webhook's compiled payload and URL templates.
type Program struct {
	version int64
	eng     engine
	lim     limits
	payload expression // nil: the body is the envelope
	url     urlTemplate
	// proj is the part of the envelope the templates read, nil for all of
	// it (projection.go).
	proj *projection
}

// Apply evaluates the templates against the raw JSON envelope and returns the body bytes and URL.
// Template failures are *Error; an envelope that is not JSON is a
// *DecodeError (only detected when a template has to read it). The envelope
// is decoded only as far as the templates can read it when the program has a
// projection (projection.go), and checked whole all the same.
//
// One time budget (Options.Timeout) covers the whole render: the payload
// template and all URL placeholders share one deadline, so a URL with many
// slow placeholders costs no more than one slow template.
func (p *Program) Apply(ctx context.Context, envelope []byte) (body []byte, url string, err error) {
	if p.payload == nil && !p.url.dynamic() {
		return envelope, p.url.raw, nil
	}
	ctx, cancel := context.WithTimeout(ctx, p.lim.timeout)
	defer cancel()
	if p.payload == nil && p.url.rawOnly {
		url, err = p.url.render(ctx, nil, envelope, p.lim)
		if err != nil {
			return nil, "", err
		}
		return envelope, url, nil
	}
	input, err := decodeProjected(envelope, p.eng.input(), p.proj)
	if err != nil {
		return nil, "", err
	}
	body = envelope
	if p.payload != nil {
		if body, err = p.evalPayload(ctx, input); err != nil {
			return nil, "", err
		}
	}
	url = p.url.raw
	if p.url.dynamic() {
		if url, err = p.url.render(ctx, input, envelope, p.lim); err != nil {
			return nil, "", err
		}
	}
	return body, url, nil
}

// CheckPayloadTemplate compiles a payload template with the named engine ("" = default) and returns an *Error if it does not compile.
func CheckPayloadTemplate(engine, expr string) error {
	eng, err := engineByName(engine)
	if err != nil {
		return err
	}
	if expr == "" {
		return nil
	}
	if _, e := compileChecked(eng, expr, DefaultMaxDepth); e != nil {
		e.Template = TemplatePayload
		return e
	}
	return nil
}

// CheckURLTemplate checks every {{ expr }} placeholder of a URL template compiles.
func CheckURLTemplate(engine, url string) error {
	eng, err := engineByName(engine)
	if err != nil {
		return err
	}
	if _, e := compileURLTemplate(eng, url, DefaultMaxDepth); e != nil {
		return e
	}
	return nil
}
