package shm

import (
	"errors"
	"fmt"
	"hash/fnv"
	"reflect"
	"strings"
)

// ErrUnsupportedType is matched by a *TypeError: the type cannot live in
// shared memory.
var ErrUnsupportedType = errors.New("shm: type cannot live in shared memory")

// TypeError reports a type that cannot live in shared memory, and why.
type TypeError struct {
	// Type is the type refused.
	Type reflect.Type
	// Reason names the part of the type that is refused.
	Reason string
}

func (e *TypeError) Error() string {
	return fmt.Sprintf("shm: type %v cannot live in shared memory: %s", e.Type, e.Reason)
}

// Is reports whether target is ErrUnsupportedType.
func (e *TypeError) Is(target error) bool { return target == ErrUnsupportedType }

// layoutOf checks that t can live in shared memory and returns a description
// of its memory layout (kinds, sizes and offsets, not names), which two
// processes compare to agree that they see the same type.
func layoutOf(t reflect.Type) (string, error) {
	var b strings.Builder
	if err := describe(&b, t, t); err != nil {
		return "", err
	}
	return b.String(), nil
}

func describe(b *strings.Builder, t, top reflect.Type) error {
	switch t.Kind() {
	case reflect.Bool, reflect.Int, reflect.Int8, reflect.Int16, reflect.Int32, reflect.Int64,
		reflect.Uint, reflect.Uint8, reflect.Uint16, reflect.Uint32, reflect.Uint64, reflect.Uintptr,
		reflect.Float32, reflect.Float64, reflect.Complex64, reflect.Complex128:
		fmt.Fprintf(b, "%s%d", t.Kind(), t.Size())
		return nil
	case reflect.Array:
		fmt.Fprintf(b, "[%d]", t.Len())
		return describe(b, t.Elem(), top)
	case reflect.Struct:
		b.WriteString("{")
		for i := range t.NumField() {
			f := t.Field(i)
			fmt.Fprintf(b, "@%d:", f.Offset)
			if err := describe(b, f.Type, top); err != nil {
				return err
			}
			b.WriteString(";")
		}
		fmt.Fprintf(b, "}%d", t.Size())
		return nil
	}
	return &TypeError{Type: top, Reason: fmt.Sprintf("%v is a %s, which holds pointers or has no fixed size", t, t.Kind())}
}

// typeInfo is what a region records about its element type.
type typeInfo struct {
	size, align int
	hash        uint64
}

// infoOf checks T and returns its size, alignment and layout hash.
func infoOf[T any]() (typeInfo, error) {
	t := reflect.TypeFor[T]()
	layout, err := layoutOf(t)
	if err != nil {
		return typeInfo{}, err
	}
	h := fnv.New64a()
	h.Write([]byte(layout))
	return typeInfo{size: int(t.Size()), align: t.Align(), hash: h.Sum64()}, nil
}
