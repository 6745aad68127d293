package wire

import (
	"bytes"
	"errors"
	"reflect"
	"slices"
	"testing"
	"unsafe"

	"github.com/mpgo/mp/internal/errs"
)

// byteSizes are lengths at and around every boundary of a head's size.
var byteSizes = []int{0, 1, 23, 24, 25, 255, 256, 257, 65535, 65536, 65537, 1 << 20}

func filled(n int, seed byte) []byte {
	b := make([]byte, n)
	for i := range b {
		b[i] = seed + byte(i)
	}
	return b
}

// byteValues are []byte and [][]byte values of every size class, nil and
// empty included.
func byteValues() []any {
	vs := []any{[]byte(nil), []byte{}, [][]byte(nil), [][]byte{}, [][]byte{nil, {}, nil}}
	for i, n := range byteSizes {
		vs = append(vs, filled(n, byte(i)))
		vs = append(vs, [][]byte{filled(n, 1), nil, filled(n/2, 2), {}})
	}
	many := make([][]byte, 300) // an array head of two bytes
	for i := range many {
		many[i] = filled(i%30, byte(i))
	}
	return append(vs, many)
}

func TestMarshalBytesIsTheCodecsEncoding(t *testing.T) {
	for _, v := range byteValues() {
		want, err := encMode.Marshal(v)
		if err != nil {
			t.Fatal(err)
		}
		got, ok := marshalBytes(v)
		if !ok {
			t.Fatalf("%T not taken by the fast path", v)
		}
		if !bytes.Equal(got, want) {
			t.Fatalf("%T of %d bytes: encoded %x…, the codec %x…", v, len(want), got[:min(len(got), 12)], want[:min(len(want), 12)])
		}
		if len(got) != cap(got) {
			t.Errorf("%T: encoding of %d bytes in %d: sized wrong", v, len(got), cap(got))
		}
	}
	if _, ok := marshalBytes("text"); ok {
		t.Error("a string took the byte-string fast path")
	}
}

func TestUnmarshalOwnedAgreesWithUnmarshal(t *testing.T) {
	for _, v := range byteValues() {
		data, _, err := Marshal(v)
		if err != nil {
			t.Fatal(err)
		}
		want := reflect.New(reflect.TypeOf(v))
		if err := Unmarshal(data, nil, want.Interface()); err != nil {
			t.Fatal(err)
		}
		got := reflect.New(reflect.TypeOf(v))
		if !unmarshalBytes(slices.Clone(data), got.Interface()) {
			t.Fatalf("%T of %d bytes not taken by the fast path", v, len(data))
		}
		if !reflect.DeepEqual(got.Elem().Interface(), want.Elem().Interface()) {
			t.Fatalf("%T of %d bytes: decoded apart from Unmarshal (nil and empty differ?)", v, len(data))
		}
	}
}

// TestUnmarshalOwnedLeavesBytesInPlace: the items are data's own memory,
// and an append to one cannot overwrite the next.
func TestUnmarshalOwnedLeavesBytesInPlace(t *testing.T) {
	items := [][]byte{[]byte("first"), []byte("second"), []byte("third")}
	data, _, err := Marshal(items)
	if err != nil {
		t.Fatal(err)
	}
	var got [][]byte
	if err := UnmarshalOwned(data, nil, &got); err != nil {
		t.Fatal(err)
	}
	start, end := uintptr(unsafe.Pointer(&data[0])), uintptr(unsafe.Pointer(&data[len(data)-1]))
	for i, b := range got {
		if p := uintptr(unsafe.Pointer(&b[0])); p < start || p > end {
			t.Errorf("item %d was copied out of the message", i)
		}
		if cap(b) != len(b) {
			t.Errorf("item %d: capacity %d beyond its length %d", i, cap(b), len(b))
		}
	}
	got[0] = append(got[0], "XXXXXXXX"...)
	if string(got[1]) != "second" {
		t.Fatalf("an append to the first item changed the second: %q", got[1])
	}
}

// TestUnmarshalOwnedFallsBack: what the fast path does not take is decoded
// (or refused) as Unmarshal does it.
func TestUnmarshalOwnedFallsBack(t *testing.T) {
	cases := []struct {
		name string
		data []byte
	}{
		{"text string into []byte", []byte{0x63, 'a', 'b', 'c'}},
		{"byte string, head not shortest", []byte{0x58, 0x02, 'a', 'b'}},
		{"array, head not shortest", []byte{0x98, 0x01, 0x41, 'a'}},
		{"tagged byte string", []byte{0xd8, 0x40, 0x42, 'a', 'b'}},
		{"trailing bytes", []byte{0x41, 'a', 0x00}},
		{"truncated", []byte{0x45, 'a'}},
		{"indefinite length", []byte{0x5f, 0x41, 'a', 0xff}},
		{"array of integers", []byte{0x82, 0x01, 0x02}},
		{"count beyond the data", []byte{0x9a, 0x7f, 0xff, 0xff, 0xff, 0x41}},
		{"empty", nil},
	}
	for _, c := range cases {
		for _, target := range []func() any{func() any { return new([]byte) }, func() any { return new([][]byte) }} {
			want, got := target(), target()
			werr := Unmarshal(slices.Clone(c.data), nil, want)
			gerr := UnmarshalOwned(slices.Clone(c.data), nil, got)
			if (werr == nil) != (gerr == nil) || !reflect.DeepEqual(want, got) {
				t.Errorf("%s into %T: UnmarshalOwned gave %v, %v; Unmarshal %v, %v", c.name, got, gerr, got, werr, want)
			}
			if gerr != nil && !errors.Is(gerr, errs.ErrProtocol) {
				t.Errorf("%s into %T: %v does not match ErrProtocol", c.name, got, gerr)
			}
		}
	}
}

// FuzzUnmarshalOwned: whatever the bytes, the fast path decodes as
// Unmarshal does, or leaves the decoding to it.
func FuzzUnmarshalOwned(f *testing.F) {
	for _, v := range byteValues()[:12] {
		data, _, _ := Marshal(v)
		f.Add(data)
	}
	f.Add([]byte{0x82, 0xf6, 0x40})
	f.Add([]byte{0x98, 0x01, 0x41, 'a'})
	f.Fuzz(func(t *testing.T, data []byte) {
		for _, target := range []func() any{func() any { return new([]byte) }, func() any { return new([][]byte) }} {
			want, got := target(), target()
			werr := Unmarshal(slices.Clone(data), nil, want)
			if !unmarshalBytes(slices.Clone(data), got) {
				if !reflect.DeepEqual(got, target()) {
					t.Fatalf("%x into %T: declined, but wrote %v", data, got, got)
				}
				continue
			}
			if werr != nil {
				t.Fatalf("%x into %T: the fast path decoded %v where Unmarshal refuses: %v", data, got, got, werr)
			}
			if !reflect.DeepEqual(want, got) {
				t.Fatalf("%x into %T: fast path %v, Unmarshal %v", data, got, got, want)
			}
		}
	})
}
