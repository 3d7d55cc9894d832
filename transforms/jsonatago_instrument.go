package transforms

import (
	"errors"
	"reflect"
	"unsafe"

	jsonata "github.com/blues/jsonata-go"
	"github.com/blues/jsonata-go/jparse"
)

// jsonata.Expr keeps its syntax tree in the unexported field "node", and
// Compile is the only way to build an Expr (Compile also resolves the
// extension registry, so re-serializing a rewritten tree is not an option:
// jparse's String() forms do not round-trip, e.g. string escapes). The tree
// is therefore reached through the field's offset, checked against the
// pinned library at first use (checkExprLayout) so a layout change disables
// the engine instead of corrupting memory.
var exprNodeOffset uintptr

var (
	nodeType       = reflect.TypeFor[jparse.Node]()
	lambdaPtrType  = reflect.TypeFor[*jparse.LambdaNode]()
	rangePtrType   = reflect.TypeFor[*jparse.RangeNode]()
	varPtrType     = reflect.TypeFor[*jparse.VariableNode]()
	jparsePkgPath  = reflect.TypeFor[jparse.LambdaNode]().PkgPath()
	errReservedVar = errors.New("$" + jsonataGoEnterName + " is reserved")
)

func checkExprLayout() error {
	f, ok := reflect.TypeFor[jsonata.Expr]().FieldByName("node")
	if !ok || f.Type != nodeType {
		return errors.New("transforms: unsupported jsonata-go version (Expr layout changed)")
	}
	exprNodeOffset = f.Offset
	return nil
}

func exprNode(e *jsonata.Expr) *jparse.Node {
	return (*jparse.Node)(unsafe.Add(unsafe.Pointer(e), exprNodeOffset))
}

// instrument rewrites every lambda body B into ($__hookgate_enter(); B),
// so each call checks the depth and deadline before doing any work, and
// every range start A in [A..B] likewise, so nested ranges (loops without
// any function call) also reach a checkpoint. It rejects templates that
// name the hidden extension themselves. It walks the
// exported fields of jparse's node types generically so that no node kind
// can be missed.
func instrument(root *jparse.Node) error {
	return walkNode(reflect.ValueOf(root).Elem())
}

func walkNode(v reflect.Value) error {
	switch v.Kind() {
	case reflect.Interface:
		if v.IsNil() {
			return nil
		}
		return walkNode(v.Elem())
	case reflect.Pointer:
		if v.IsNil() {
			return nil
		}
		switch v.Type() {
		case varPtrType:
			if v.Interface().(*jparse.VariableNode).Name == jsonataGoEnterName {
				return errReservedVar
			}
			return nil
		case lambdaPtrType:
			ln := v.Interface().(*jparse.LambdaNode)
			if err := walkNode(reflect.ValueOf(&ln.Body).Elem()); err != nil {
				return err
			}
			ln.Body = withCheckpoint(ln.Body)
			return nil
		case rangePtrType:
			rn := v.Interface().(*jparse.RangeNode)
			if err := walkNode(reflect.ValueOf(rn).Elem()); err != nil {
				return err
			}
			rn.LHS = withCheckpoint(rn.LHS)
			return nil
		}
		if v.Type().Elem().Kind() == reflect.Struct && v.Type().Elem().PkgPath() == jparsePkgPath {
			return walkNode(v.Elem())
		}
	case reflect.Struct:
		t := v.Type()
		for i := range t.NumField() {
			if !t.Field(i).IsExported() {
				continue
			}
			if err := walkNode(v.Field(i)); err != nil {
				return err
			}
		}
	case reflect.Slice:
		for i := range v.Len() {
			if err := walkNode(v.Index(i)); err != nil {
				return err
			}
		}
	}
	return nil
}

// withCheckpoint returns ($__hookgate_enter(); n), which evaluates to n.
func withCheckpoint(n jparse.Node) jparse.Node {
	return &jparse.BlockNode{Exprs: []jparse.Node{
		&jparse.FunctionCallNode{Func: &jparse.VariableNode{Name: jsonataGoEnterName}},
		n,
	}}
}
