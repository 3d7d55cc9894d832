package transforms

import (
	"context"
	"errors"
	"strings"

	"github.com/recolabs/gnata"
)

// gnataNull is gnata's JSON null sentinel, obtained through its public
// decoder because the type itself is internal.
var gnataNull = func() any {
	v, err := gnata.DecodeJSON([]byte("null"))
	if err != nil || !gnata.IsNull(v) {
		panic("transforms: cannot obtain gnata's null value")
	}
	return v
}()

// gnataMaxCallDepth is gnata's built-in bound on nested function calls
// (error U1001), fixed inside the library and not configurable.
const gnataMaxCallDepth = 100

// gnataEngine is the default engine: JSONata 2.x, goroutine-safe compiled
// expressions, cancellation through the context.
type gnataEngine struct{}

// input keeps the envelope's key order in gnata's own ordered objects
// (gnata_object.go), when the pinned gnata has the expected layout.
func (gnataEngine) input() inputForm { return gnataInput }

var gnataInput = inputForm{null: gnataNull, objects: func() objectForm {
	if gnataOrderedType == nil {
		return plainObjects // sorted keys rather than memory corruption
	}
	return gnataObjects
}()}

func (gnataEngine) nilIsNull() bool { return false }

func (gnataEngine) compile(expr string) (x expression, errp *Error) {
	defer recoverEval(&errp)
	e, err := gnata.Compile(expr)
	if err != nil {
		return nil, &Error{Position: gnataErrorPosition(expr, err), Message: gnataMessage(err)}
	}
	return &gnataExpr{e: e, raw: gnataRawPath(expr, e)}, nil
}

type gnataExpr struct {
	e   *gnata.Expression
	raw *gnata.Expression // a plain path gnata reads straight from raw JSON, or nil
}

// gnataRawPath returns an expression equivalent to e that gnata evaluates
// on raw bytes with GJSON, skipping the decode. gnata only recognizes bare
// paths (a.b.c); "$.a.b.c" at the top level means the same, since $ is the
// whole input there, so the prefix is dropped for this purpose.
func gnataRawPath(src string, e *gnata.Expression) *gnata.Expression {
	if e.IsFastPath() && len(e.RequiredPaths()) == 1 {
		return e
	}
	if rest, ok := strings.CutPrefix(src, "$."); ok {
		if e2, err := gnata.Compile(rest); err == nil && e2.IsFastPath() && len(e2.RequiredPaths()) == 1 {
			return e2
		}
	}
	return nil
}

func (x *gnataExpr) eval(ctx context.Context, input any, lim limits) (result any, defined bool, errp *Error) {
	defer recoverEval(&errp)
	if ctx.Err() != nil { // gnata only looks at ctx inside loops and calls
		return nil, false, ctxError(ctx, lim)
	}
	v, err := x.e.Eval(ctx, input) // ctx carries the render's deadline (Program.Apply)
	if err != nil {
		return nil, false, gnataEvalError(err, lim)
	}
	return v, v != nil, nil
}

func (x *gnataExpr) rawFast() bool { return x.raw != nil }

func (x *gnataExpr) evalRaw(ctx context.Context, raw []byte, lim limits) (result any, defined bool, errp *Error) {
	defer recoverEval(&errp)
	if ctx.Err() != nil {
		return nil, false, ctxError(ctx, lim)
	}
	v, err := x.raw.EvalBytes(ctx, raw)
	if err != nil {
		return nil, false, gnataEvalError(err, lim)
	}
	return v, v != nil, nil
}

func gnataEvalError(err error, lim limits) *Error {
	switch {
	case errors.Is(err, context.DeadlineExceeded):
		// Our timeout or an earlier deadline of the caller's context.
		return timeoutError(lim)
	case errors.Is(err, context.Canceled):
		return newError("", "evaluation canceled")
	case strings.Contains(err.Error(), "U1001"):
		return depthError(gnataMaxCallDepth)
	}
	return newError("", gnataMessage(err))
}

// timeoutError is the end of a render's time budget (Program.Apply), which
// the payload template and the URL placeholders share.
func timeoutError(lim limits) *Error {
	return newError("", "evaluation exceeded the time limit of the render (transforms.timeout: "+lim.timeout.String()+")")
}

func depthError(max int) *Error {
	return newError("", "evaluation exceeded the maximum recursion depth ("+itoa(max)+")")
}

// gnataMessage drops gnata's "JSONata error " prefix; the code stays.
func gnataMessage(err error) string {
	return strings.TrimPrefix(err.Error(), "JSONata error ")
}

// gnataErrorPosition recovers a character offset for a gnata compile
// error, which carries only the offending token's text. The parser stops at
// the first bad token and never looks past the token after it, so the
// shortest prefix of expr that fails with the very same message ends at
// that token; a binary search finds it in O(log n) compiles. EOF errors
// point at the end. Returns -1 when nothing sensible is found.
func gnataErrorPosition(expr string, err error) int {
	msg := err.Error()
	tok, hasTok := gnataErrorToken(msg)
	if hasTok && (tok == "EOF" || tok == "") {
		return runeOffset(expr, len(expr))
	}
	same := func(n int) bool {
		_, e := gnata.Compile(expr[:n])
		return e != nil && e.Error() == msg
	}
	if !same(len(expr)) {
		return -1
	}
	lo, hi := 0, len(expr) // invariant: same(hi)
	for lo < hi {
		mid := (lo + hi) / 2
		if same(mid) {
			hi = mid
		} else {
			lo = mid + 1
		}
	}
	start := hi - 1
	if hasTok && len(tok) <= hi {
		start = hi - len(tok)
	}
	if start < 0 {
		start = 0
	}
	return runeOffset(expr, start)
}

// gnataErrorToken extracts X from `... at token "X": ...`.
func gnataErrorToken(msg string) (string, bool) {
	const marker = ` at token "`
	i := strings.Index(msg, marker)
	if i < 0 {
		return "", false
	}
	rest := msg[i+len(marker):]
	j := strings.Index(rest, `": `)
	if j < 0 {
		return "", false
	}
	return rest[:j], true
}
