package wire_test

import (
	"errors"
	"reflect"
	"testing"
	"time"

	"github.com/fxamacker/cbor/v2"
	"github.com/mpgo/mp/internal/errs"
	"github.com/mpgo/mp/internal/wire"
)

type (
	job      struct{ path string }
	goodJob  struct{ Path string }
	inner    struct{ X int }
	innerBad struct{ x int }
	Base     struct{ id int }
	// promoted embeds an unexported struct whose field is exported: the
	// codec encodes X as promoted.
	promoted struct {
		inner
		Y int
	}
	promotedPtr struct {
		*inner
		Y int
	}
	embeddedBad struct {
		innerBad
		Y int
	}
	embeddedExported struct{ Base }
	tagged           struct {
		cache map[string]int `cbor:"-"`
		json  []int          `json:"-"`
		X     int
	}
	batch   struct{ Jobs []job }
	byName  struct{ M map[string]*job }
	node    struct{ Next *node }
	badNode struct {
		Next *badNode
		v    int
	}
	hidden struct {
		n int
		s string
	}
	stamped    struct{ At time.Time }
	selfCBOR   struct{ secret string }
	selfBinary struct{ secret string }
	withAny    struct{ V any }
	// padded has the codec's option field "_".
	padded struct {
		_    struct{} `cbor:",toarray"`
		A, B int
	}
)

func (s selfCBOR) MarshalCBOR() ([]byte, error) { return cbor.Marshal(s.secret) }
func (s *selfCBOR) UnmarshalCBOR(b []byte) error {
	return cbor.Unmarshal(b, &s.secret)
}
func (s selfBinary) MarshalBinary() ([]byte, error) { return []byte(s.secret), nil }
func (s *selfBinary) UnmarshalBinary(b []byte) error {
	s.secret = string(b)
	return nil
}

// TestCheckMatchesTheCodec checks types against what the CBOR library
// really does with their values: a type that Check accepts comes back
// whole through wire.Marshal and wire.Unmarshal, and a type it rejects
// loses data when the library encodes it without the check.
func TestCheckMatchesTheCodec(t *testing.T) {
	at := time.Date(2024, 5, 6, 7, 8, 9, 10, time.UTC)
	cases := []struct {
		name  string
		v     any    // a pointer to a value with every field set
		path  string // "" if Check accepts the type
		owner any    // a value of the type that declares the field
	}{
		{"unexported field", &job{"a"}, "path", job{}},
		{"exported field", &goodJob{"a"}, "", nil},
		{"embedded unexported struct, exported field", &promoted{inner{1}, 2}, "", nil},
		{"embedded pointer to unexported struct", &promotedPtr{&inner{1}, 2}, "inner", promotedPtr{}},
		{"embedded unexported struct, unexported field", &embeddedBad{innerBad{1}, 2}, "innerBad.x", innerBad{}},
		{"embedded exported struct, unexported field", &embeddedExported{Base{1}}, "Base.id", Base{}},
		{"in a slice", &batch{[]job{{"a"}}}, "Jobs[].path", job{}},
		{"in a map of pointers", &byName{map[string]*job{"k": {"a"}}}, "M[].path", job{}},
		{"recursive", &node{&node{}}, "", nil},
		{"recursive, unexported", &badNode{&badNode{v: 2}, 1}, "v", badNode{}},
		{"no exported field", &hidden{1, "s"}, "n", hidden{}},
		{"time", &stamped{at}, "", nil},
		{"MarshalCBOR", &selfCBOR{"s"}, "", nil},
		{"MarshalBinary", &selfBinary{"s"}, "", nil},
		{"slice of self-encoded", &[]selfCBOR{{"s"}}, "", nil},
		{"option field", &padded{A: 1, B: 2}, "", nil},
		{"handle with unexported fields", &fileHandle{Name: "n"}, "", nil},
	}
	for _, c := range cases {
		t.Run(c.name, func(t *testing.T) {
			typ := reflect.TypeOf(c.v).Elem()
			err := wire.Check(typ)
			if c.path == "" {
				if err != nil {
					t.Fatalf("Check(%v) = %v, want nil", typ, err)
				}
				if _, ok := c.v.(*fileHandle); !ok {
					roundTrip(t, c.v)
				}
				return
			}
			var te *wire.TypeError
			if !errors.As(err, &te) || !errors.Is(err, errs.ErrUnencodable) {
				t.Fatalf("Check(%v) = %v, want a *TypeError matching ErrUnencodable", typ, err)
			}
			if te.Type != typ || te.Path != c.path || te.Owner != reflect.TypeOf(c.owner) {
				t.Errorf("Check(%v) = type %v, path %q, owner %v; want %v, %q, %T", typ, te.Type, te.Path, te.Owner, typ, c.path, c.owner)
			}
			if _, _, err := wire.Marshal(c.v); !errors.Is(err, errs.ErrUnencodable) {
				t.Errorf("Marshal = %v, want ErrUnencodable", err)
			}
			// Without the check, the library drops the field.
			data, err := cbor.Marshal(c.v)
			if err != nil {
				t.Fatal(err)
			}
			out := reflect.New(typ)
			if err := cbor.Unmarshal(data, out.Interface()); err == nil && reflect.DeepEqual(out.Interface(), c.v) {
				t.Errorf("the library kept every field of %v: the check rejects a type that travels whole", typ)
			}
		})
	}
}

// roundTrip checks that v (a pointer) comes back equal through the codec,
// but for the fields tagged out.
func roundTrip(t *testing.T, v any) {
	t.Helper()
	data, fds, err := wire.Marshal(v)
	if err != nil || fds != nil {
		t.Fatalf("Marshal = %v, %v", fds, err)
	}
	out := reflect.New(reflect.TypeOf(v).Elem())
	if err := wire.Unmarshal(data, nil, out.Interface()); err != nil {
		t.Fatalf("Unmarshal: %v", err)
	}
	if !reflect.DeepEqual(out.Interface(), v) {
		t.Errorf("round trip = %+v, want %+v", out.Elem(), reflect.ValueOf(v).Elem())
	}
}

// TestTaggedOutFieldsAreLeftOut checks fields tagged "-": not an error,
// and not encoded.
func TestTaggedOutFieldsAreLeftOut(t *testing.T) {
	data, _, err := wire.Marshal(tagged{cache: map[string]int{"a": 1}, json: []int{1}, X: 2})
	if err != nil {
		t.Fatal(err)
	}
	var out tagged
	if err := wire.Unmarshal(data, nil, &out); err != nil {
		t.Fatal(err)
	}
	if out.X != 2 || out.cache != nil || out.json != nil {
		t.Errorf("round trip = %+v, want only X", out)
	}
}

func TestCheckMessage(t *testing.T) {
	err := wire.Check(reflect.TypeFor[batch]())
	want := "mp: type wire_test.batch has unexported field Jobs[].path (of wire_test.job), which would not cross processes; " +
		"export it, tag it `cbor:\"-\"` to leave it out, or give wire_test.job MarshalCBOR and UnmarshalCBOR methods"
	if err == nil || err.Error() != want {
		t.Errorf("Check = %v\nwant %s", err, want)
	}
}

// TestInterfacesCheckedAtEncode checks values whose types are only known
// inside interfaces.
func TestInterfacesCheckedAtEncode(t *testing.T) {
	bad := []any{
		[]any{1, "x", job{"a"}},
		map[string]any{"k": &job{"a"}},
		withAny{V: batch{}},
		withAny{V: []any{withAny{V: hidden{}}}},
		map[any]int{job{"a"}: 1},
	}
	for _, v := range bad {
		if _, _, err := wire.Marshal(v); !errors.Is(err, errs.ErrUnencodable) {
			t.Errorf("Marshal(%#v) = %v, want ErrUnencodable", v, err)
		}
	}
	good := []any{
		[]any{1, "x", goodJob{"a"}, nil, []byte("b")},
		map[string]any{"k": &goodJob{"a"}, "s": selfCBOR{"s"}},
		withAny{V: []any{withAny{V: 3}}},
	}
	for _, v := range good {
		if _, _, err := wire.Marshal(v); err != nil {
			t.Errorf("Marshal(%#v) = %v", v, err)
		}
	}
}

func TestUnmarshalIntoUncheckedType(t *testing.T) {
	data, _, err := wire.Marshal(map[string]string{"path": "a"})
	if err != nil {
		t.Fatal(err)
	}
	var j job
	if err := wire.Unmarshal(data, nil, &j); !errors.Is(err, errs.ErrUnencodable) {
		t.Errorf("Unmarshal into %T = %v, want ErrUnencodable", j, err)
	}
}

func TestRegisterHandleMisuse(t *testing.T) {
	for _, typ := range []reflect.Type{reflect.TypeFor[goodJob](), reflect.TypeFor[*goodJob](), reflect.TypeFor[*[]int]()} {
		func() {
			defer func() {
				if recover() == nil {
					t.Errorf("RegisterHandle(%v) did not panic", typ)
				}
			}()
			wire.RegisterHandle(typ)
		}()
	}
}
