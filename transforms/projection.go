package transforms

import (
	"errors"
	"strings"
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
	// keys and objects count the tree's member names and objects (the
	// root's only: what the decoder's slabs are sized by, see size).
	keys, objects int
	// name is the member name p is read under; kids are members' values,
	// for a lookup without hashing (see member). Set by index.
	name string
	kids []*projection
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
// both; and `:=` binds loosest in both (were its right side cut shorter in
// one, the variable would still hold a path or whole reads). Where the
// lexers part, the subset refuses: JSONata 2's `??`, `?:` and `%` as parent
// do not parse in jparse; jparse reads `#`, `@` and control characters into
// names, so an unquoted name must be letters, digits and '_' (plainName).
// With comments (gnata's), they are removed first as gnata's lexer skips
// them (stripComments); jsonata-go parses with jparse itself and has none,
// so its templates are analysed as written. The differential tests
// (projection_test.go, FuzzProjectedApply) hold the engines to it.
func projectionOf(srcs []string, comments bool) *projection {
	root := &projection{}
	for _, src := range srcs {
		if comments {
			var ok bool
			if src, ok = stripComments(src); !ok {
				return nil
			}
		}
		n, err := parseJSONata(src)
		if err != nil || !readsOf(n, root, nil) {
			return nil
		}
	}
	if root.whole {
		return nil
	}
	root.index()
	return root
}

// stripComments replaces each /* */ comment of src with a space, as gnata's
// lexer skips it (jparse has no comments: it reads one as a regular
// expression or a division). A comment starts at any "/*" outside string
// literals and backtick names. A template with comments and any other '/'
// (division or a regular expression, whose bodies the scan cannot tell
// from comments), or with an unterminated literal or comment, is refused.
func stripComments(src string) (string, bool) {
	if !strings.Contains(src, "/*") {
		return src, true // no comment can start anywhere
	}
	var b strings.Builder
	b.Grow(len(src))
	for i := 0; i < len(src); {
		switch c := src[i]; c {
		case '"', '\'', '`':
			j := i + 1
			for ; j < len(src) && src[j] != c; j++ {
				if src[j] == '\\' && c != '`' {
					j++ // an escape: the next byte cannot end the literal
				}
			}
			if j >= len(src) {
				return "", false
			}
			b.WriteString(src[i : j+1])
			i = j + 1
		case '/':
			if i+1 >= len(src) || src[i+1] != '*' {
				return "", false
			}
			end := strings.Index(src[i+2:], "*/")
			if end < 0 {
				return "", false
			}
			b.WriteByte(' ')
			i += 2 + end + 2
		default:
			b.WriteByte(c)
			i++
		}
	}
	return b.String(), true
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

// A scope holds the variables a block has bound so far ($name := value as
// one of its expressions), for the expressions after it.
type scope struct {
	parent *scope
	vars   map[string]binding
}

// binding is what a variable holds: an alias of a path from the root
// ($wo := workorder: $wo.id reads workorder.id), or a value computed from
// whole reads and literals, which reading into cannot reach anything the
// projection drops.
type binding struct {
	path  []string
	alias bool
}

func (sc *scope) lookup(name string) (binding, bool) {
	for ; sc != nil; sc = sc.parent {
		if b, ok := sc.vars[name]; ok {
			return b, true
		}
	}
	return binding{}, false
}

// readsOf adds to root the paths n reads, evaluated with the input root as
// its context and sc's variables, and reports whether n lies inside the
// analysed subset. Every node accepted here evaluates its operands in that
// same context, so every path met is read from the root.
func readsOf(n jparse.Node, root *projection, sc *scope) bool {
	switch n := n.(type) {
	case *jparse.StringNode, *jparse.NumberNode, *jparse.BooleanNode, *jparse.NullNode:
		return true
	case *jparse.VariableNode:
		return readsPath(&jparse.PathNode{Steps: []jparse.Node{n}}, root, sc)
	case *jparse.PathNode:
		return readsPath(n, root, sc)
	case *jparse.NegationNode:
		return readsOf(n.RHS, root, sc)
	case *jparse.NumericOperatorNode:
		return readsOf(n.LHS, root, sc) && readsOf(n.RHS, root, sc)
	case *jparse.ComparisonOperatorNode:
		return readsOf(n.LHS, root, sc) && readsOf(n.RHS, root, sc)
	case *jparse.BooleanOperatorNode:
		return readsOf(n.LHS, root, sc) && readsOf(n.RHS, root, sc)
	case *jparse.StringConcatenationNode:
		return readsOf(n.LHS, root, sc) && readsOf(n.RHS, root, sc)
	case *jparse.ConditionalNode:
		return readsOf(n.If, root, sc) && readsOf(n.Then, root, sc) && (n.Else == nil || readsOf(n.Else, root, sc))
	case *jparse.ObjectNode:
		// Over an array input an object constructor groups the elements,
		// evaluating its pairs with each element as the context; the
		// projection applies to each element of an array in the same way,
		// so the same paths stay right.
		for _, kv := range n.Pairs {
			if !readsOf(kv[0], root, sc) || !readsOf(kv[1], root, sc) {
				return false
			}
		}
		return true
	case *jparse.ArrayNode:
		for _, it := range n.Items {
			if !readsOf(it, root, sc) {
				return false
			}
		}
		return true
	case *jparse.BlockNode:
		return readsBlock(n, root, sc)
	case *jparse.FunctionCallNode:
		f, ok := n.Func.(*jparse.VariableNode)
		if !ok {
			return false
		}
		arity, ok := projectedFuncs[f.Name]
		if !ok || len(n.Args) < arity.min || len(n.Args) > arity.max {
			return false
		}
		if _, bound := sc.lookup(f.Name); bound {
			return false // not reached: such assignments are refused
		}
		for _, a := range n.Args {
			if !readsOf(a, root, sc) {
				return false
			}
		}
		return true
	}
	// Predicates, wildcards, descendants, parent, sort, group-by, ranges,
	// lambdas, partial application, ~>, assignments outside a block's
	// expressions, regular expressions, transforms, #/@ bindings: no
	// projection.
	return false
}

// readsBlock handles ( expr; expr; ... ): each expression in the block's
// scope, an assignment binding its variable for the ones after it. A
// variable already bound (here or outside), $ and $$, the names of the
// built-ins and names that are not plain may not be assigned: then no
// question of which binding an engine's scoping picks can arise.
func readsBlock(n *jparse.BlockNode, root *projection, sc *scope) bool {
	inner := &scope{parent: sc, vars: map[string]binding{}}
	for i, x := range n.Exprs {
		as, ok := x.(*jparse.AssignmentNode)
		if !ok {
			if !readsOf(x, root, inner) {
				return false
			}
			continue
		}
		if _, bound := inner.lookup(as.Name); bound || !plainName(as.Name) {
			return false // plainName: also not $ or $$
		}
		if _, builtin := projectedFuncs[as.Name]; builtin {
			return false
		}
		b, ok := bindingOf(as.Value, root, inner)
		if !ok {
			return false
		}
		inner.vars[as.Name] = b
		if i == len(n.Exprs)-1 && b.alias {
			root.add(b.path) // the block's value is the assignment's: the path, whole
		}
	}
	return true
}

// bindingOf is what $v := value binds: an alias when value is a path of
// names from the root (read when the variable is), otherwise a value whose
// reads are added now, whole.
func bindingOf(value jparse.Node, root *projection, sc *scope) (binding, bool) {
	var p *jparse.PathNode
	switch v := value.(type) {
	case *jparse.PathNode:
		p = v
	case *jparse.VariableNode:
		p = &jparse.PathNode{Steps: []jparse.Node{v}}
	}
	if p != nil {
		if path, b, ok := resolvePath(p, sc); ok && b.alias {
			return binding{path: path, alias: true}, true
		}
	}
	return binding{}, readsOf(value, root, sc)
}

// readsPath adds the path p reads.
func readsPath(p *jparse.PathNode, root *projection, sc *scope) bool {
	path, b, ok := resolvePath(p, sc)
	if ok && b.alias {
		root.add(path)
	}
	return ok
}

// resolvePath returns the member names p reads from the root, when it is a
// path made only of names from the root, $, $$ or a variable bound to an
// alias (b.alias); or, when it starts at a variable bound to a computed
// value, no path (b.alias false, ok). Anything else is not ok.
func resolvePath(p *jparse.PathNode, sc *scope) (path []string, b binding, ok bool) {
	if p.KeepArrays || len(p.Steps) == 0 {
		return nil, b, false
	}
	steps := p.Steps
	b = binding{alias: true}
	if v, isVar := steps[0].(*jparse.VariableNode); isVar {
		if v.Name != "" && v.Name != "$" {
			if b, ok = sc.lookup(v.Name); !ok {
				return nil, b, false
			}
		}
		steps = steps[1:]
	}
	path = append(make([]string, 0, len(b.path)+len(steps)), b.path...)
	for _, st := range steps {
		name, isName := st.(*jparse.NameNode)
		if !isName || !name.Escaped() && !plainName(name.Value) {
			return nil, b, false
		}
		path = append(path, name.Value)
	}
	if !b.alias {
		return nil, b, true
	}
	return path, b, true
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
