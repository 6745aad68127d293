package wire

import (
	"fmt"
	"reflect"

	"github.com/mpgo/mp/internal/errs"
)

// TypeError reports a type whose values would lose data between processes:
// the codec encodes the exported fields of a struct, so an unexported field
// would arrive as its zero value. It matches errs.ErrUnencodable.
type TypeError struct {
	// Type is the type checked, without its pointers.
	Type reflect.Type
	// Path leads from Type to the field: "path", "Jobs[].path".
	Path string
	// Owner is the struct type that declares the field.
	Owner reflect.Type
}

func (e *TypeError) Error() string { return "mp: " + e.Describe() }

// Unwrap returns errs.ErrUnencodable.
func (e *TypeError) Unwrap() error { return errs.ErrUnencodable }

// Describe is the message without its "mp: " prefix, for messages that say
// first where the type is used: "type main.Job has unexported field path, …".
func (e *TypeError) Describe() string {
	in := ""
	if e.Owner != e.Type {
		in = fmt.Sprintf(" (of %v)", e.Owner)
	}
	return fmt.Sprintf("type %v has unexported field %s%s, which would not cross processes; "+
		"export it, tag it `cbor:\"-\"` to leave it out, or give %v MarshalCBOR and UnmarshalCBOR methods",
		e.Type, e.Path, in, e.Owner)
}

// Check returns a *TypeError if values of type t would lose data between
// processes: t has, at any depth of its fields, elements and pointers, an
// unexported struct field that its codec drops. Types that encode
// themselves (MarshalCBOR or MarshalBinary, handles among them) are not
// looked into, and fields tagged `cbor:"-"` (or `json:"-"`) are left out on
// purpose. Interfaces are checked value by value when encoded. The answer
// is computed once per type.
func Check(t reflect.Type) error {
	if err := info(t).err; err != nil {
		return err
	}
	return nil
}

// checkType walks t for an unexported field the codec would drop.
// Errors name the type without its pointers: a value decoded into a *T is
// a T.
func checkType(t reflect.Type) *TypeError {
	root := t
	for root.Kind() == reflect.Pointer {
		root = root.Elem()
	}
	c := checker{root: root, seen: map[reflect.Type]bool{}}
	return c.walk(t, "")
}

// checker walks a type once; seen holds the types already walked or being
// walked (a recursive type is checked where it first appears).
type checker struct {
	root reflect.Type
	seen map[reflect.Type]bool
}

func (c *checker) walk(t reflect.Type, path string) *TypeError {
	if c.seen[t] || selfEncoded(t) {
		return nil
	}
	c.seen[t] = true
	switch t.Kind() {
	case reflect.Pointer:
		return c.walk(t.Elem(), path)
	case reflect.Slice, reflect.Array:
		return c.walk(t.Elem(), path+"[]")
	case reflect.Map:
		if err := c.walk(t.Key(), path+"[key]"); err != nil {
			return err
		}
		return c.walk(t.Elem(), path+"[]")
	case reflect.Struct:
		return c.fields(t, path)
	}
	return nil
}

// fields checks the fields of struct type t, found at path.
func (c *checker) fields(t reflect.Type, path string) *TypeError {
	for i := range t.NumField() {
		f := t.Field(i)
		if f.Name == "_" || omitted(f) {
			continue
		}
		p := f.Name
		if path != "" {
			p = path + "." + f.Name
		}
		if !f.IsExported() && !embeddedStruct(f) {
			return &TypeError{Type: c.root, Path: p, Owner: t}
		}
		if err := c.walk(f.Type, p); err != nil {
			return err
		}
	}
	return nil
}

// omitted reports whether f is tagged to be left out of the encoding, as
// the codec reads tags: `cbor:"-"`, or `json:"-"` without a cbor tag.
func omitted(f reflect.StructField) bool {
	tag, ok := f.Tag.Lookup("cbor")
	if !ok || tag == "" {
		tag = f.Tag.Get("json")
	}
	return tag == "-"
}

// embeddedStruct reports whether f is an embedded struct whose exported
// fields the codec encodes as if they were the outer struct's: one embedded
// by value, even of an unexported type, or by pointer if the type is
// exported (the decoder cannot set a pointer to an unexported one).
func embeddedStruct(f reflect.StructField) bool {
	if !f.Anonymous {
		return false
	}
	t := f.Type
	if t.Kind() == reflect.Pointer {
		return f.IsExported() && t.Elem().Kind() == reflect.Struct
	}
	return t.Kind() == reflect.Struct
}

// encodedFields returns the indexes of the fields of struct type t that the
// codec encodes.
func encodedFields(t reflect.Type) []int {
	var out []int
	for i := range t.NumField() {
		f := t.Field(i)
		if f.Name != "_" && !omitted(f) && (f.IsExported() || embeddedStruct(f)) {
			out = append(out, i)
		}
	}
	return out
}

// checkValue checks the dynamic types of the interfaces inside v, whose
// type has interfaces (info(v.Type()).ifaces). Values nested deeper than
// the decode limit are left to the codec.
func checkValue(v reflect.Value, depth int) error {
	if depth > maxNesting {
		return nil
	}
	switch v.Kind() {
	case reflect.Interface:
		if v.IsNil() {
			return nil
		}
		e := v.Elem()
		if k := e.Kind(); k <= reflect.Float64 || k == reflect.String {
			return nil // no fields, no interfaces: nothing to look up
		}
		ti := info(e.Type())
		if ti.err != nil {
			return ti.err
		}
		if ti.ifaces {
			return checkValue(e, depth+1)
		}
	case reflect.Pointer:
		if !v.IsNil() {
			return checkValue(v.Elem(), depth+1)
		}
	case reflect.Slice, reflect.Array:
		if !info(v.Type().Elem()).ifaces {
			return nil
		}
		for i := range v.Len() {
			if err := checkValue(v.Index(i), depth+1); err != nil {
				return err
			}
		}
	case reflect.Map:
		return checkMap(v, depth)
	case reflect.Struct:
		for _, i := range info(v.Type()).walk {
			if err := checkValue(v.Field(i), depth+1); err != nil {
				return err
			}
		}
	}
	return nil
}

// checkMap is checkValue for a map.
func checkMap(v reflect.Value, depth int) error {
	keys, elems := info(v.Type().Key()).ifaces, info(v.Type().Elem()).ifaces
	if !keys && !elems {
		return nil
	}
	for it := v.MapRange(); it.Next(); {
		if keys {
			if err := checkValue(it.Key(), depth+1); err != nil {
				return err
			}
		}
		if elems {
			if err := checkValue(it.Value(), depth+1); err != nil {
				return err
			}
		}
	}
	return nil
}
