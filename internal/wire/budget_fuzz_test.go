package wire

import (
	"reflect"
	"testing"
)

// fuzzBase is the constant part of the budget FuzzDecodeBudget checks:
// small, so that its inputs of a few KiB test the factor, plus what a
// decode allocates whatever its input.
const fuzzBase = 4 << 10

// FuzzDecodeBudget decodes arbitrary bytes into one of several types,
// chosen by the first byte, under a budget of budgetFactor bytes per input
// byte plus fuzzBase, and checks what the decode allocated, refused or
// not, against it. Reading the statistics stops the world, which makes
// each execution slow for the minimizer: run it with -fuzzminimizetime of
// a few seconds.
func FuzzDecodeBudget(f *testing.F) {
	types := []reflect.Type{
		reflect.TypeFor[any](), reflect.TypeFor[[]page](), reflect.TypeFor[[]*page](), reflect.TypeFor[[]record](),
		reflect.TypeFor[map[string][]int](), reflect.TypeFor[map[int]int](), reflect.TypeFor[[]map[string]int](),
		reflect.TypeFor[[][]string](), reflect.TypeFor[record](),
	}
	seed := func(data []byte) {
		for i := range types {
			f.Add(append([]byte{byte(i)}, data...))
		}
	}
	for _, v := range []any{
		make([]int, 300), // into pages, or pointers to pages: 4 KiB for each byte
		[]any{0, 1, "x", []any{}, map[string]int{}, nil, 1.5, -7, uint64(1) << 63},
		map[string]int{"a": 1}, []record{{Name: "r", Tags: []string{"t"}, Score: map[string]float64{"s": 2}}},
		[]any{[]any{[]any{}}, map[any]any{1: map[any]any{}}}, make([]int, 100), make([]map[string]int, 50),
	} {
		data, _, err := Marshal(v)
		if err != nil {
			f.Fatal(err)
		}
		seed(data)
	}
	// The first byte chooses the type, so that each input costs two reads
	// of the memory statistics, which stop the world.
	f.Fuzz(func(t *testing.T, data []byte) {
		if len(data) == 0 {
			return
		}
		typ := types[int(data[0])%len(types)]
		data = data[1:]
		limit := budgetFactor*len(data) + fuzzBase
		v := reflect.New(typ).Interface()
		got := allocated(func() {
			if checkBudget(data, typ, limit) == nil {
				decMode.Unmarshal(data, v)
			}
		})
		if got > uint64(limit)+fuzzBase {
			t.Errorf("decoding %d bytes into %v allocated %d bytes, over the budget of %d", len(data), typ, got, limit)
		}
	})
}
