package wire

import (
	"reflect"
	"sync"
)

var (
	handleType = reflect.TypeFor[Handle]()
	// mayHold caches mayHoldHandle per type.
	mayHold sync.Map // reflect.Type → bool
)

// mayHoldHandle reports whether a value of type t can contain a handle: t is
// a handle, an interface (which could hold one), or is built from such types.
// Values of other types are encoded without the handle session's lock.
func mayHoldHandle(t reflect.Type) bool {
	if t == nil {
		return false
	}
	if v, ok := mayHold.Load(t); ok {
		return v.(bool)
	}
	r := walkType(t, map[reflect.Type]bool{})
	mayHold.Store(t, r)
	return r
}

func walkType(t reflect.Type, seen map[reflect.Type]bool) bool {
	if seen[t] {
		return false // a recursive type: its other paths decide
	}
	seen[t] = true
	if t.Implements(handleType) || reflect.PointerTo(t).Implements(handleType) {
		return true
	}
	switch t.Kind() {
	case reflect.Interface:
		return true
	case reflect.Pointer, reflect.Slice, reflect.Array:
		return walkType(t.Elem(), seen)
	case reflect.Map:
		return walkType(t.Key(), seen) || walkType(t.Elem(), seen)
	case reflect.Struct:
		for i := range t.NumField() {
			if walkType(t.Field(i).Type, seen) {
				return true
			}
		}
	}
	return false
}
