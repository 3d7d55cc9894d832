package transforms

import (
	"errors"
	"reflect"
	"unsafe"

	"github.com/recolabs/gnata"
)

// gnata keeps an object's key order only in its internal *OrderedMap (a
// key slice beside a map); a plain map[string]any input is read in sorted
// key order ($keys, $each, $spread, $sift, $string and copies into the
// body). jsonata-js keeps insertion order, so the envelope is decoded
// straight into gnata's ordered maps. The type lives in an internal package
// and gnata's only public constructor is its decoder, which costs several
// times the whole render (docs/transforms.md, Performance), so the maps are
// built here through a mirror of the struct, reached the same way as
// jsonata-go's syntax tree (jsonatago_instrument.go): the layout is checked
// against the pinned library at start, and a mismatch turns the ordered
// decode off (sorted keys, as before) rather than corrupting memory.
type gnataOrderedMap struct {
	keys []string
	data map[string]any
}

// gnataOrderedType is *evaluator.OrderedMap, or nil when its layout is not
// the mirror's.
var gnataOrderedType = func() reflect.Type {
	t, err := checkGnataOrderedLayout()
	if err != nil {
		return nil
	}
	return t
}()

// gnataOrderedTypeWord is gnataOrderedType as the type word of an
// interface value holding one (see gnataObject).
var gnataOrderedTypeWord = func() unsafe.Pointer {
	if gnataOrderedType == nil {
		return nil
	}
	return typeOf(reflect.Zero(gnataOrderedType).Interface())
}()

func checkGnataOrderedLayout() (reflect.Type, error) {
	v, err := gnata.DecodeJSON([]byte(`{}`))
	if err != nil {
		return nil, err
	}
	if _, ok := v.(orderedObject); !ok {
		return nil, errors.New("transforms: gnata's objects have no Keys/Get")
	}
	t := reflect.TypeOf(v)
	mirror := reflect.TypeFor[gnataOrderedMap]()
	if t.Kind() != reflect.Pointer || t.Elem().Kind() != reflect.Struct || t.Elem().Size() != mirror.Size() || t.Elem().NumField() != mirror.NumField() {
		return nil, errors.New("transforms: unsupported gnata version (OrderedMap layout changed)")
	}
	for i := range mirror.NumField() {
		got, want := t.Elem().Field(i), mirror.Field(i)
		if got.Name != want.Name || got.Type != want.Type || got.Offset != want.Offset {
			return nil, errors.New("transforms: unsupported gnata version (OrderedMap field " + want.Name + " changed)")
		}
	}
	return t, nil
}

// gnataObject returns m as gnata's *OrderedMap. m.keys lists the keys of
// m.data in order, without duplicates. The interface is put together from
// its two words, the type's and m: what reflect.NewAt(...).Interface()
// returns, at a fraction of its cost (once per object of the envelope).
func gnataObject(m *gnataOrderedMap) any {
	var v any
	*(*eface)(unsafe.Pointer(&v)) = eface{typ: gnataOrderedTypeWord, data: unsafe.Pointer(m)}
	return v
}
