package transforms

import (
	"context"
	"fmt"
)

// Engine names accepted in Options.Engine and the Check functions.
const (
	EngineGnata     = "gnata"
	EngineJSONataGo = "jsonata-go"
	DefaultEngine   = EngineGnata
)

// engine is one JSONata implementation behind the package.
type engine interface {
	// compile parses expr; a failure is an *Error without Template set.
	compile(expr string) (expression, *Error)
	// input is how the engine wants the decoded envelope: its JSON null and
	// its objects.
	input() inputForm
	// nilIsNull reports whether a Go nil inside a result means JSON null
	// (jsonata-go) rather than undefined (gnata).
	nilIsNull() bool
}

// expression is one compiled template.
type expression interface {
	// eval evaluates against input decoded by decodeJSON in the engine's
	// inputForm. defined is false when the result is undefined. Errors are *Error
	// without Template set.
	eval(ctx context.Context, input any, lim limits) (result any, defined bool, err *Error)
}

// rawExpression is implemented by expressions that can read the raw
// envelope without a full decode (gnata's GJSON fast path for plain field
// paths). Apply uses it for URL placeholders when no payload template needs
// the decoded envelope anyway.
type rawExpression interface {
	expression
	// rawFast reports whether evalRaw avoids decoding the whole envelope.
	rawFast() bool
	evalRaw(ctx context.Context, raw []byte, lim limits) (result any, defined bool, err *Error)
}

// engineByName resolves an engine name; "" is the default.
func engineByName(name string) (engine, error) {
	switch name {
	case "", EngineGnata:
		return gnataEngine{}, nil
	case EngineJSONataGo:
		if err := jsonataGoReady(); err != nil {
			return nil, err
		}
		return jsonataGoEngine{}, nil
	}
	return nil, fmt.Errorf("transforms: unknown engine %q (want %q or %q)", name, EngineGnata, EngineJSONataGo)
}

// compileChecked applies the source limits, then the engine's parser.
func compileChecked(eng engine, src string, maxDepth int) (expression, *Error) {
	if e := checkSource(src, maxDepth); e != nil {
		return nil, e
	}
	return eng.compile(src)
}

// recoverEval turns a panic inside an engine into an *Error: a template
// must never take the gateway down.
func recoverEval(errp **Error) {
	if r := recover(); r != nil {
		*errp = &Error{Position: -1, Message: fmt.Sprintf("engine failure: %v", r)}
	}
}
