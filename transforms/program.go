package transforms

import "context"

func (t *Transformer) compile(version int64, payloadTemplate, urlTemplate string) (*Program, error) {
	p := &Program{version: version, eng: t.eng, lim: t.lim}
	if payloadTemplate != "" {
		x, e := compileChecked(t.eng, payloadTemplate, t.lim.maxDepth)
		if e != nil {
			e.Template = TemplatePayload
			return nil, e
		}
		p.payload = x
	}
	u, e := compileURLTemplate(t.eng, urlTemplate, t.lim.maxDepth)
	if e != nil {
		return nil, e
	}
	p.url = u
	// The engines whose reads were checked against projectionOf's list
	// (their built-ins' use of the context, gnata v0.2.2 and jsonata-go
	// v1.5.4) and that TestProjectedApply holds to it. Another engine
	// decodes the whole envelope until it is checked too.
	switch t.eng.(type) {
	case gnataEngine:
		p.proj = projectionOf(p.sources(payloadTemplate), true)
	case jsonataGoEngine:
		p.proj = projectionOf(p.sources(payloadTemplate), false)
	}
	return p, nil
}

// sources are the expressions of p that read the decoded envelope: the
// payload template and the URL placeholders.
func (p *Program) sources(payloadTemplate string) []string {
	var srcs []string
	if payloadTemplate != "" {
		srcs = append(srcs, payloadTemplate)
	}
	for _, part := range p.url.parts {
		if part.expr != nil {
			srcs = append(srcs, part.src)
		}
	}
	return srcs
}

func (p *Program) evalPayload(ctx context.Context, input any) ([]byte, error) {
	v, defined, e := p.payload.eval(ctx, input, p.lim)
	if e != nil {
		e.Template = TemplatePayload
		return nil, e
	}
	if !defined {
		return nil, newError(TemplatePayload, "template produced no value")
	}
	body, err := encodeResult(make([]byte, 0, 512), v, p.lim.maxDepth, p.eng.nilIsNull())
	if err != nil {
		return nil, newError(TemplatePayload, err.Error())
	}
	return body, nil
}
