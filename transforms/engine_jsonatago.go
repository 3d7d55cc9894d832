package transforms

import (
	"context"
	"errors"
	"fmt"
	"runtime"
	"sync"
	"sync/atomic"

	jsonata "github.com/blues/jsonata-go"
	"github.com/blues/jsonata-go/jparse"
)

// jsonata-go (JSONata 1.5) is kept as an opt-in engine. Three properties of
// the library shape this file:
//
//   - It is not safe for concurrent use: evaluation writes to shared
//     builtin function objects (upstream issue #16). All its work here runs
//     while holding jsonataGoLock, one evaluation at a time process-wide.
//   - `~>` rewrites the compiled tree in place, so a compiled Expr gives
//     wrong results on reuse. Every evaluation compiles afresh; Program
//     time compiles only to report errors early.
//   - It has neither cancellation nor a recursion limit, and a Go stack
//     overflow kills the process. Every lambda body and range start is
//     therefore prefixed with a call to a hidden extension
//     ($__hookgate_enter) that counts the goroutine's stack frames against
//     the depth bound and aborts the evaluation once the caller has given up
//     on it (see jsonataGoEnter and instrument).

// jsonataGoLock serializes all jsonata-go evaluations. It is a channel, not
// a sync.Mutex, so waiting for it respects the evaluation deadline.
var jsonataGoLock = make(chan struct{}, 1)

// jsonataGoCurrent is the evaluation holding jsonataGoLock; only the
// goroutine holding the lock reads or writes it.
var jsonataGoCurrent *jsonataGoRun

// jsonataGoFramesPerLevel converts MaxDepth into a budget of Go stack
// frames. One level of a simple recursive function costs 5-10 frames in
// jsonata-go's evaluator (measured), so the default budget of 2000 frames
// admits 200-400 such levels, more than gnata's fixed 100, while staying
// around a megabyte of stack, far from Go's fatal 1 GB limit.
const jsonataGoFramesPerLevel = 10

const jsonataGoEnterName = "__hookgate_enter"

var (
	jsonataGoInitOnce sync.Once
	jsonataGoInitErr  error
)

// jsonataGoReady registers the hidden extension once and checks that the
// library still has the layout instrument relies on.
func jsonataGoReady() error {
	jsonataGoInitOnce.Do(func() {
		if err := checkExprLayout(); err != nil {
			jsonataGoInitErr = err
			return
		}
		jsonataGoInitErr = jsonata.RegisterExts(map[string]jsonata.Extension{
			jsonataGoEnterName: {Func: jsonataGoEnter},
		})
	})
	return jsonataGoInitErr
}

type jsonataGoRun struct {
	order     jsonataGoOrder // the envelope's key order, for MarshalJSON
	calls     int
	maxFrames int
	pcs       []uintptr
	abandoned atomic.Bool
}

var (
	errJSONataGoDepth     = errors.New("depth")
	errJSONataGoAbandoned = errors.New("evaluation abandoned after its deadline")
)

// jsonataGoCheckEvery spaces out the stack measurements: counting frames
// costs time proportional to the depth, and checking every call made deep
// recursion quadratic (~40 ms to reach the default bound). Every nesting
// level is one call, so sampling lets the stack grow by at most this many
// levels past the budget before it is caught - a few MB at worst.
const jsonataGoCheckEvery = 8

// jsonataGoEnter runs at the start of every lambda call and range. It
// fails once the caller has abandoned the evaluation, and when the
// goroutine's stack is deeper than the budget. runtime.Callers fills at most
// maxFrames+1 entries, so its cost is bounded by the budget.
func jsonataGoEnter() (bool, error) {
	r := jsonataGoCurrent
	if r == nil {
		return true, nil
	}
	if r.abandoned.Load() {
		return false, errJSONataGoAbandoned
	}
	r.calls++
	if r.calls%jsonataGoCheckEvery != 0 {
		return true, nil
	}
	if runtime.Callers(0, r.pcs) > r.maxFrames {
		return false, errJSONataGoDepth
	}
	return true, nil
}

type jsonataGoEngine struct{}

// null is jsonata-go's own null value, a nil *interface{} (see its
// evalNull). A plain Go nil, which json.Unmarshal gives, reads as undefined
// in jsonata-go, so `field = null` and $exists(field) would be wrong and
// null members would vanish from results.
//
// Objects keep their key order where jsonata-go allows (jsonatago_order.go).
func (jsonataGoEngine) input() inputForm {
	return inputForm{null: jsonataGoNull, objects: jsonataGoObjects}
}

var jsonataGoNull = (*any)(nil)

func (jsonataGoEngine) nilIsNull() bool { return true }

func (jsonataGoEngine) compile(expr string) (expression, *Error) {
	if _, e := jsonataGoCompile(expr); e != nil {
		return nil, e
	}
	return &jsonataGoExpr{src: expr}, nil
}

// jsonataGoCompile compiles and instruments one private copy of expr.
func jsonataGoCompile(expr string) (x *jsonata.Expr, errp *Error) {
	defer recoverEval(&errp)
	e, err := jsonata.Compile(expr)
	if err != nil {
		var pe *jparse.Error
		if errors.As(err, &pe) {
			return nil, &Error{Position: runeOffset(expr, pe.Position), Message: pe.Error()}
		}
		return nil, newError("", err.Error())
	}
	if err := instrument(exprNode(e)); err != nil {
		return nil, newError("", err.Error())
	}
	return e, nil
}

type jsonataGoExpr struct{ src string }

type jsonataGoResult struct {
	v       any
	defined bool
	err     *Error
}

func (x *jsonataGoExpr) eval(ctx context.Context, input any, lim limits) (any, bool, *Error) {
	if ctx.Err() != nil {
		return nil, false, ctxError(ctx, lim)
	}
	// ctx carries the render's deadline (Program.Apply): waiting for the
	// lock spends the same budget as evaluating.
	select {
	case jsonataGoLock <- struct{}{}:
	case <-ctx.Done():
		return nil, false, ctxError(ctx, lim)
	}
	var order jsonataGoOrder
	if in, ok := input.(*jsonataGoInput); ok {
		input, order = in.root, in.order
	}
	run := &jsonataGoRun{order: order, maxFrames: lim.maxDepth * jsonataGoFramesPerLevel}
	run.pcs = make([]uintptr, run.maxFrames+1)
	done := make(chan jsonataGoResult, 1)
	// The evaluation cannot be interrupted from outside, so it runs on its
	// own goroutine and we stop waiting at the deadline. The goroutine keeps
	// the lock until it returns; the abandoned flag makes its next lambda
	// call fail, which ends recursive and higher-order runaways promptly.
	go func() {
		defer func() { jsonataGoCurrent = nil; <-jsonataGoLock }()
		jsonataGoCurrent = run
		done <- x.run(input, order, lim)
	}()
	select {
	case r := <-done:
		return r.v, r.defined, r.err
	case <-ctx.Done():
		run.abandoned.Store(true)
		return nil, false, ctxError(ctx, lim)
	}
}

func (x *jsonataGoExpr) run(input any, order jsonataGoOrder, lim limits) (res jsonataGoResult) {
	defer recoverEval(&res.err)
	e, cerr := jsonataGoCompile(x.src)
	if cerr != nil {
		return jsonataGoResult{err: cerr}
	}
	v, err := e.Eval(input)
	switch {
	case err == nil:
		return jsonataGoResult{v: jsonataGoOrdered(v, order), defined: true}
	case errors.Is(err, jsonata.ErrUndefined):
		return jsonataGoResult{}
	case errors.Is(err, errJSONataGoDepth):
		return jsonataGoResult{err: depthError(lim.maxDepth)}
	case errors.Is(err, errJSONataGoAbandoned):
		return jsonataGoResult{err: timeoutError(lim)}
	}
	return jsonataGoResult{err: newError("", err.Error())}
}

func ctxError(ctx context.Context, lim limits) *Error {
	if errors.Is(ctx.Err(), context.DeadlineExceeded) {
		return timeoutError(lim)
	}
	return newError("", fmt.Sprintf("evaluation canceled: %v", ctx.Err()))
}
