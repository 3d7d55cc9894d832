package transforms

import (
	"encoding/json"
	"maps"
	"reflect"
	"slices"
	"unsafe"
)

// jsonata-go reads objects only as Go maps (or Go structs, whose field
// names must be exported Go identifiers, which JSON keys like first_name are
// not), and a Go map has no order. What can be kept is the order of the
// envelope's own objects where jsonata-go hands them on unchanged: the
// decoder makes them jsonataGoObject maps and notes each one's keys in a
// jsonataGoOrder, keyed by the map's identity. A body that carries such an
// object (a path, $lookup, an array of them) is written in input order
// (jsonataGoOrdered), and so is $string of one (MarshalJSON: jsonata-go's
// $string is encoding/json). Objects jsonata-go builds ({...}, $merge,
// $sift, ~> |...|) are its own map[string]interface{}: that order is gone,
// and the encoder writes their keys sorted. docs/transforms.md lists the
// differences this leaves.

// jsonataGoObject is an object of the envelope, for jsonata-go.
type jsonataGoObject map[string]any

// jsonataGoOrder holds the key order of every jsonataGoObject of one
// envelope, by the map's runtime pointer.
type jsonataGoOrder map[unsafe.Pointer][]string

func (o jsonataGoOrder) set(m jsonataGoObject, keys []string) {
	o[reflect.ValueOf(m).UnsafePointer()] = keys
}

// keys returns m's keys in input order; sorted if m is not known (not
// expected: jsonata-go builds only map[string]interface{}).
func (o jsonataGoOrder) keys(m jsonataGoObject) []string {
	if k, ok := o[reflect.ValueOf(m).UnsafePointer()]; ok && len(k) == len(m) {
		return k
	}
	return slices.Sorted(maps.Keys(m))
}

// jsonataGoInput is a decoded envelope for jsonata-go with its key order.
type jsonataGoInput struct {
	root  any
	order jsonataGoOrder
}

// MarshalJSON writes the object in input order. encoding/json calls it
// for jsonata-go's $string, on the goroutine evaluating under
// jsonataGoLock, which is the only one that reads jsonataGoCurrent.
func (m jsonataGoObject) MarshalJSON() ([]byte, error) {
	var order jsonataGoOrder
	if r := jsonataGoCurrent; r != nil {
		order = r.order
	}
	b := []byte{'{'}
	for i, k := range order.keys(m) {
		if i > 0 {
			b = append(b, ',')
		}
		key, err := json.Marshal(k)
		if err != nil {
			return nil, err
		}
		val, err := json.Marshal(m[k])
		if err != nil {
			return nil, err
		}
		b = append(append(append(b, key...), ':'), val...)
	}
	return append(b, '}'), nil
}

// jsonataGoView is an envelope object in a result, with its key order, as
// the encoder's orderedObject.
type jsonataGoView struct {
	keys []string
	data map[string]any
}

func (v *jsonataGoView) Keys() []string           { return v.keys }
func (v *jsonataGoView) Get(k string) (any, bool) { x, ok := v.data[k]; return x, ok }

// jsonataGoOrdered returns v with every envelope object replaced by a
// jsonataGoView in input order. It copies the containers it walks: the
// decoded envelope is still read by the URL placeholders after the payload.
// Each envelope object is converted once however often the result repeats
// it (`[1..1000].$`), so the work stays within the envelope's size plus
// what the template built.
func jsonataGoOrdered(v any, order jsonataGoOrder) any {
	c := jsonataGoConverter{order: order, views: map[unsafe.Pointer]*jsonataGoView{}}
	return c.convert(v)
}

type jsonataGoConverter struct {
	order jsonataGoOrder
	views map[unsafe.Pointer]*jsonataGoView
}

func (c *jsonataGoConverter) convert(v any) any {
	switch x := v.(type) {
	case jsonataGoObject:
		id := reflect.ValueOf(x).UnsafePointer()
		if view, ok := c.views[id]; ok {
			return view
		}
		data := make(map[string]any, len(x))
		for k, el := range x {
			data[k] = c.convert(el)
		}
		view := &jsonataGoView{keys: c.order.keys(x), data: data}
		c.views[id] = view
		return view
	case map[string]any:
		data := make(map[string]any, len(x))
		for k, el := range x {
			data[k] = c.convert(el)
		}
		return data
	case []any:
		a := make([]any, len(x))
		for i, el := range x {
			a[i] = c.convert(el)
		}
		return a
	}
	return v
}
