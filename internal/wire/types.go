package wire

import (
	"encoding"
	"math/big"
	"reflect"
	"sync"

	"github.com/fxamacker/cbor/v2"
)

var (
	marshalerType         = reflect.TypeFor[cbor.Marshaler]()
	unmarshalerType       = reflect.TypeFor[cbor.Unmarshaler]()
	binaryMarshalerType   = reflect.TypeFor[encoding.BinaryMarshaler]()
	binaryUnmarshalerType = reflect.TypeFor[encoding.BinaryUnmarshaler]()
	bigIntType            = reflect.TypeFor[big.Int]()

	// infos caches typeInfo per type.
	infos sync.Map // reflect.Type → *typeInfo
)

// typeInfo is what the codec knows of a type before it encodes or decodes a
// value of it, computed once per type.
type typeInfo struct {
	// handles: a value of the type may contain a handle (the type is a
	// handle, an interface, or built from them). Values of other types are
	// encoded without the handle session's lock.
	handles bool
	// err: a value of the type would lose data between processes.
	err *TypeError
	// ifaces: the encoding of a value of the type goes through interfaces,
	// whose dynamic types are checked value by value.
	ifaces bool
	// walk: for a struct type with ifaces, the encoded fields whose types
	// have interfaces.
	walk []int
}

// info returns the typeInfo of t (nil: the untyped nil).
func info(t reflect.Type) *typeInfo {
	if t == nil {
		return &typeInfo{}
	}
	if v, ok := infos.Load(t); ok {
		return v.(*typeInfo)
	}
	ti := &typeInfo{
		handles: walkHandles(t, map[reflect.Type]bool{}),
		err:     checkType(t),
		ifaces:  hasInterfaces(t, map[reflect.Type]bool{}),
	}
	if ti.ifaces && t.Kind() == reflect.Struct {
		for _, i := range encodedFields(t) {
			if hasInterfaces(t.Field(i).Type, map[reflect.Type]bool{}) {
				ti.walk = append(ti.walk, i)
			}
		}
	}
	v, _ := infos.LoadOrStore(t, ti)
	return v.(*typeInfo)
}

func walkHandles(t reflect.Type, seen map[reflect.Type]bool) bool {
	if seen[t] {
		return false // a recursive type: its other paths decide
	}
	seen[t] = true
	if isHandle(t) {
		return true
	}
	switch t.Kind() {
	case reflect.Interface:
		return true
	case reflect.Pointer, reflect.Slice, reflect.Array:
		return walkHandles(t.Elem(), seen)
	case reflect.Map:
		return walkHandles(t.Key(), seen) || walkHandles(t.Elem(), seen)
	case reflect.Struct:
		for i := range t.NumField() {
			if walkHandles(t.Field(i).Type, seen) {
				return true
			}
		}
	}
	return false
}

// selfEncoded reports whether values of t are encoded or decoded by t's own
// methods (MarshalCBOR, MarshalBinary and their decoding twins; handles are
// among them) or by the codec's own rules for the type, rather than field
// by field. The codec does not use MarshalText or MarshalJSON.
func selfEncoded(t reflect.Type) bool {
	p := reflect.PointerTo(t)
	return p.Implements(marshalerType) || p.Implements(unmarshalerType) ||
		p.Implements(binaryMarshalerType) || p.Implements(binaryUnmarshalerType) ||
		t == bigIntType
}

// hasInterfaces reports whether encoding a value of t may reach an
// interface, outside self-encoded types.
func hasInterfaces(t reflect.Type, seen map[reflect.Type]bool) bool {
	if seen[t] || selfEncoded(t) {
		return false
	}
	seen[t] = true
	switch t.Kind() {
	case reflect.Interface:
		return true
	case reflect.Pointer, reflect.Slice, reflect.Array:
		return hasInterfaces(t.Elem(), seen)
	case reflect.Map:
		return hasInterfaces(t.Key(), seen) || hasInterfaces(t.Elem(), seen)
	case reflect.Struct:
		for _, i := range encodedFields(t) {
			if hasInterfaces(t.Field(i).Type, seen) {
				return true
			}
		}
	}
	return false
}
