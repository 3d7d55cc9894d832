package transforms

import (
	"errors"
	"unicode"

	"github.com/blues/jsonata-go/jparse"
)

// A projection is the part of the envelope a program's templates can read:
// a tree of member names. Decoding only that part (decodeProjected) is what
// makes a template cheap, since the decode is most of a render's cost.
//
// A wrong projection would silently change what a receiver gets, so it is
// derived only for templates whose every construct is on a short list whose
// reads are known (projectionOf); anything else decodes the whole envelope.
type projection struct {
	// whole: the value is read as a whole (a path ends here), so it is
	// decoded with everything under it.
	whole bool
	// members are the names read below an object; an array's elements are
	// projected the same way (JSONata paths map over arrays).
	members map[string]*projection
}

// add records a path of member names read from p, its last step whole.
func (p *projection) add(path []string) {
	for _, name := range path {
		if p.whole {
			return
		}
		c := p.members[name]
		if c == nil {
			c = &projection{}
			if p.members == nil {
				p.members = map[string]*projection{}
			}
			p.members[name] = c
		}
		p = c
	}
	p.whole, p.members = true, nil
}

// projectionOf returns the projection of a program's templates (the payload
// template and every URL placeholder: they read one decoded envelope), or
// nil when the whole envelope must be decoded: a template outside the
// analysed subset, one jparse cannot parse, or one that reads the root
// whole ($ or $$).
//
// jparse (jsonata-go's parser, JSONata 1.5) stands in for the engine's own
// parser, which gnata does not expose. Within the subset accepted here,
// every operand is evaluated in the root context, so the paths read do not
// depend on the shape of the tree (gnata binds unary minus tighter than
// jparse, which moves no path), only on the tokens: `.` binds tighter than
// every accepted operator in both, so a run of dotted names is one path in
// both. Where the lexers part, the subset refuses: JSONata 2's `??`, `?:`,
// `%` as parent and `/* */` comments do not parse in jparse or come out as
// a regex or wildcard; jparse reads `#`, `@` and control characters into
// names, so an unquoted name must be letters, digits and '_' (plainName).
// The differential tests (projection_test.go, FuzzProjectedApply) hold the
// engines to it.
func projectionOf(srcs []string) *projection {
	root := &projection{}
	for _, src := range srcs {
		n, err := parseJSONata(src)
		if err != nil || !readsOf(n, root) {
			return nil
		}
	}
	if root.whole {
		return nil
	}
	return root
}

// parseJSONata is jparse.Parse, with a panic of the parser taken as a
// failure: the analysis is an optimization and must never fail a compile.
func parseJSONata(src string) (n jparse.Node, err error) {
	defer func() {
		if r := recover(); r != nil {
			n, err = nil, errParsePanic
		}
	}()
	return jparse.Parse(src)
}

var errParsePanic = errors.New("jparse panicked")

// projectedFuncs are the built-in functions a projected template may call,
// with the argument counts at which neither engine hands the function the
// context value (the whole input, at the top level) in place of a missing
// argument: gnata's builtins receive it as their focus, jsonata-go's
// EvalContextHandler inserts it (e.g. $substring with two numbers,
// $contains with one argument). Each is pure and reads nothing but its
// arguments, which are evaluated in the caller's context.
var projectedFuncs = map[string]struct{ min, max int }{
	"string":          {1, 2},
	"number":          {1, 1},
	"uppercase":       {1, 1},
	"lowercase":       {1, 1},
	"trim":            {1, 1},
	"length":          {1, 1},
	"substring":       {3, 3}, // two arguments: jsonata-go uses the context when both are numbers
	"substringBefore": {2, 2},
	"substringAfter":  {2, 2},
	"contains":        {2, 2},
	"exists":          {1, 1},
	"boolean":         {1, 1},
	"not":             {1, 1},
	"count":           {1, 1},
	"sum":             {1, 1},
	"join":            {1, 2},
	"abs":             {1, 1},
	"floor":           {1, 1},
	"ceil":            {1, 1},
	"round":           {1, 2},
}

// readsOf adds to root the paths n reads, evaluated with the input root as
// its context, and reports whether n lies inside the analysed subset. Every
// node accepted here evaluates its operands in that same context, so every
// path met is read from the root.
func readsOf(n jparse.Node, root *projection) bool {
	switch n := n.(type) {
	case *jparse.StringNode, *jparse.NumberNode, *jparse.BooleanNode, *jparse.NullNode:
		return true
	case *jparse.VariableNode:
		// $ is the context, the root here; $$ is the root. Any other
		// variable is refused (no assignment is accepted, so it could only
		// be a function value or undefined).
		if n.Name != "" && n.Name != "$" {
			return false
		}
		root.whole = true
		return true
	case *jparse.PathNode:
		path, ok := namePath(n)
		if !ok {
			return false
		}
		root.add(path)
		return true
	case *jparse.NegationNode:
		return readsOf(n.RHS, root)
	case *jparse.NumericOperatorNode:
		return readsOf(n.LHS, root) && readsOf(n.RHS, root)
	case *jparse.ComparisonOperatorNode:
		return readsOf(n.LHS, root) && readsOf(n.RHS, root)
	case *jparse.BooleanOperatorNode:
		return readsOf(n.LHS, root) && readsOf(n.RHS, root)
	case *jparse.StringConcatenationNode:
		return readsOf(n.LHS, root) && readsOf(n.RHS, root)
	case *jparse.ConditionalNode:
		return readsOf(n.If, root) && readsOf(n.Then, root) && (n.Else == nil || readsOf(n.Else, root))
	case *jparse.ObjectNode:
		// Over an array input an object constructor groups the elements,
		// evaluating its pairs with each element as the context; the
		// projection applies to each element of an array in the same way,
		// so the same paths stay right.
		for _, kv := range n.Pairs {
			if !readsOf(kv[0], root) || !readsOf(kv[1], root) {
				return false
			}
		}
		return true
	case *jparse.ArrayNode:
		for _, it := range n.Items {
			if !readsOf(it, root) {
				return false
			}
		}
		return true
	case *jparse.BlockNode:
		for _, x := range n.Exprs {
			if !readsOf(x, root) {
				return false
			}
		}
		return true
	case *jparse.FunctionCallNode:
		f, ok := n.Func.(*jparse.VariableNode)
		if !ok {
			return false
		}
		arity, ok := projectedFuncs[f.Name]
		if !ok || len(n.Args) < arity.min || len(n.Args) > arity.max {
			return false
		}
		for _, a := range n.Args {
			if !readsOf(a, root) {
				return false
			}
		}
		return true
	}
	// Predicates, wildcards, descendants, parent, sort, group-by, ranges,
	// lambdas, partial application, ~>, assignment, regular expressions,
	// transforms, #/@ bindings: no projection.
	return false
}

// namePath returns the member names of a path made only of names from the
// root ($ or $$ may lead it), or false.
func namePath(n *jparse.PathNode) ([]string, bool) {
	if n.KeepArrays {
		return nil, false
	}
	steps := n.Steps
	if len(steps) == 0 {
		return nil, false
	}
	if v, ok := steps[0].(*jparse.VariableNode); ok {
		if v.Name != "" && v.Name != "$" {
			return nil, false
		}
		steps = steps[1:]
	}
	path := make([]string, 0, len(steps))
	for _, st := range steps {
		name, ok := st.(*jparse.NameNode)
		if !ok {
			return nil, false
		}
		if !name.Escaped() && !plainName(name.Value) {
			return nil, false
		}
		path = append(path, name.Value)
	}
	return path, true
}

// plainName reports whether an unquoted name is one every JSONata lexer
// reads as one name: letters, digits and '_' only. jparse reads other
// characters into names that gnata reads as operators (contacts#$i is one
// name to jparse, a # binding to gnata); such names need backticks to
// project. Operator words, which jparse also takes for names in some
// places, are refused too.
func plainName(s string) bool {
	switch s {
	case "", "and", "or", "in":
		return false
	}
	for _, r := range s {
		if r != '_' && !unicode.IsLetter(r) && !unicode.IsDigit(r) {
			return false
		}
	}
	return true
}
