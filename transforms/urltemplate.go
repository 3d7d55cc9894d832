package transforms

import (
	"context"
	"net/url"
	"strings"
)

// urlTemplate is a webhook URL split into literal text and {{ expr }}
// placeholders.
type urlTemplate struct {
	raw   string
	parts []urlPart // empty when the URL has no placeholders
	// rawOnly: every placeholder can be read from the raw envelope, so a
	// program without a payload template never decodes it.
	rawOnly bool
	// origin is the scheme, userinfo and host[:port] written before the
	// first placeholder; every rendered URL must have the same (urlorigin.go).
	origin origin
}

type urlPart struct {
	literal string
	expr    expression // nil for a literal part
	src     string     // the placeholder's expression, for error messages
}

func (u *urlTemplate) dynamic() bool { return len(u.parts) > 0 }

// compileURLTemplate splits raw at "{{" and "}}" and compiles each
// placeholder. Error positions are character offsets in the whole URL.
func compileURLTemplate(eng engine, raw string, maxDepth int) (urlTemplate, *Error) {
	u := urlTemplate{raw: raw}
	if !strings.Contains(raw, "{{") {
		if strings.Contains(raw, "}}") {
			return u, &Error{Template: TemplateURL, Position: runeOffset(raw, strings.Index(raw, "}}")), Message: `"}}" without a matching "{{"`}
		}
		return u, nil // fast path: nothing to evaluate
	}
	if len(raw) > MaxTemplateBytes {
		return u, newError(TemplateURL, "URL template longer than "+itoa(MaxTemplateBytes)+" bytes")
	}
	o, e := staticOrigin(raw)
	if e != nil {
		return u, e
	}
	u.origin = o
	rest, off := raw, 0
	for {
		open := strings.Index(rest, "{{")
		if open < 0 {
			if i := strings.Index(rest, "}}"); i >= 0 {
				return u, &Error{Template: TemplateURL, Position: runeOffset(raw, off+i), Message: `"}}" without a matching "{{"`}
			}
			if rest != "" {
				u.parts = append(u.parts, urlPart{literal: rest})
			}
			u.rawOnly = true
			for _, p := range u.parts {
				if rx, ok := p.expr.(rawExpression); p.expr != nil && (!ok || !rx.rawFast()) {
					u.rawOnly = false
				}
			}
			return u, nil
		}
		if i := strings.Index(rest[:open], "}}"); i >= 0 {
			return u, &Error{Template: TemplateURL, Position: runeOffset(raw, off+i), Message: `"}}" without a matching "{{"`}
		}
		if open > 0 {
			u.parts = append(u.parts, urlPart{literal: rest[:open]})
		}
		closeAt := strings.Index(rest[open+2:], "}}")
		if closeAt < 0 {
			return u, &Error{Template: TemplateURL, Position: runeOffset(raw, off+open), Message: `"{{" without a matching "}}"`}
		}
		inner := rest[open+2 : open+2+closeAt]
		src := strings.TrimSpace(inner)
		srcOff := off + open + 2 + strings.Index(inner, src)
		if src == "" {
			return u, &Error{Template: TemplateURL, Position: runeOffset(raw, off+open), Message: "empty placeholder"}
		}
		x, e := compileChecked(eng, src, maxDepth)
		if e != nil {
			e.Template = TemplateURL
			if e.Position >= 0 {
				e.Position += runeOffset(raw, srcOff)
			}
			return u, e
		}
		u.parts = append(u.parts, urlPart{expr: x, src: src})
		off += open + 2 + closeAt + 2
		rest = rest[open+2+closeAt+2:]
	}
}

// render evaluates every placeholder against the decoded input (or, when
// input is nil and rawOnly, the raw envelope) and path-escapes its value.
func (u *urlTemplate) render(ctx context.Context, input any, raw []byte, lim limits) (string, error) {
	var b strings.Builder
	b.Grow(len(u.raw) + 16)
	for _, p := range u.parts {
		if p.expr == nil {
			b.WriteString(p.literal)
			continue
		}
		var v any
		var defined bool
		var e *Error
		if input == nil && u.rawOnly {
			v, defined, e = p.expr.(rawExpression).evalRaw(ctx, raw, lim)
		} else {
			v, defined, e = p.expr.eval(ctx, input, lim)
		}
		if e != nil {
			e.Template = TemplateURL
			e.Message = "{{ " + p.src + " }}: " + e.Message
			return "", e
		}
		if !defined {
			return "", newError(TemplateURL, "{{ "+p.src+" }} produced no value")
		}
		s, ok := urlValue(v)
		if !ok {
			return "", newError(TemplateURL, "{{ "+p.src+" }} must produce a string, number or boolean")
		}
		b.WriteString(url.PathEscape(s))
	}
	if e := u.checkRendered(b.String()); e != nil {
		return "", e
	}
	return b.String(), nil
}

// urlValue renders a scalar: strings as they are, numbers and booleans in
// their JSON form. Null, objects, arrays and functions are refused.
func urlValue(v any) (string, bool) {
	switch x := v.(type) {
	case string:
		return x, true
	case bool:
		if x {
			return "true", true
		}
		return "false", true
	case float64:
		b, err := appendFloat(nil, x)
		return string(b), err == nil
	case int, int64:
		b, err := encodeResult(nil, x, 1, true)
		return string(b), err == nil
	}
	// gnata can return json.Number on its fast path.
	if n, ok := v.(interface{ Float64() (float64, error) }); ok {
		if f, err := n.Float64(); err == nil {
			b, err := appendFloat(nil, f)
			return string(b), err == nil
		}
	}
	return "", false
}
