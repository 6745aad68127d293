package wire

import (
	"errors"
	"reflect"
	"runtime"
	"strconv"
	"testing"

	"github.com/mpgo/mp/internal/errs"
)

// page is a large element: a hostile message makes one of it from a
// single byte.
type page [4096]byte

// record is a struct of a common shape, for legitimate messages.
type record struct {
	Name  string
	Tags  []string
	Score map[string]float64
	Next  *record
	Raw   []byte
}

// hostile returns messages of a few KiB, or of 1 MiB, whose decoding would
// allocate far more than they are long, with the types they are decoded
// into.
func hostile(t testing.TB) []struct {
	name string
	data []byte
	into reflect.Type
} {
	zeros := func(n int) []byte {
		data, _, err := Marshal(make([]int, n))
		if err != nil {
			t.Fatal(err)
		}
		return data
	}
	emptyMaps := make([]any, 1<<20)
	for i := range emptyMaps {
		emptyMaps[i] = map[string]int{}
	}
	maps, _, err := Marshal(emptyMaps)
	if err != nil {
		t.Fatal(err)
	}
	return []struct {
		name string
		data []byte
		into reflect.Type
	}{
		{"3 KiB of zeros into pages", zeros(3000), reflect.TypeFor[[]page]()},
		{"3 KiB of zeros into pointers to pages", zeros(3000), reflect.TypeFor[[]*page]()},
		{"1 MiB of empty maps into any", maps, reflect.TypeFor[any]()},
	}
}

// TestDecodeBudget: a message whose decoding would take more than its
// budget is refused before anything is decoded, with an error matching
// ErrTooLarge (and ErrProtocol); the allocation it costs stays small.
func TestDecodeBudget(t *testing.T) {
	for _, tc := range hostile(t) {
		v := reflect.New(tc.into)
		var err error
		got := allocated(func() { err = Unmarshal(tc.data, nil, v.Interface()) })
		if !errors.Is(err, errs.ErrTooLarge) || !errors.Is(err, errs.ErrProtocol) {
			t.Errorf("%s: Unmarshal = %v, want ErrTooLarge", tc.name, err)
		}
		if got > 64<<10 {
			t.Errorf("%s: refusing it allocated %d bytes", tc.name, got)
		}
	}
}

// TestDecodeBudgetLegitimate: messages of common shapes, some of them
// large and dense, decode whole under the budget.
func TestDecodeBudgetLegitimate(t *testing.T) {
	const n = 200_000
	small := make([]any, n)
	counts := map[int]int{}
	words := map[string]int{}
	names := make([]string, n)
	anyMap := map[any]any{}
	for i := range n {
		small[i] = i % 24
		counts[i] = i % 24
		words["w"+strconv.Itoa(i)] = i % 100
		names[i] = "name " + strconv.Itoa(i)
		anyMap[i%24*100000+i] = i % 24
	}
	records := make([]record, 10_000)
	for i := range records {
		records[i] = record{Name: "r", Tags: []string{"a", "b"}, Score: map[string]float64{"x": 1}, Raw: []byte{1}}
		if i%2 == 0 {
			records[i].Next = &record{Name: "n"}
		}
	}
	for _, tc := range []struct {
		name string
		v    any
		into reflect.Type
	}{
		{"small numbers into any", small, reflect.TypeFor[any]()},
		{"small numbers into []int", small, reflect.TypeFor[[]int]()},
		{"a dense map[int]int", counts, reflect.TypeFor[map[int]int]()},
		{"a dense map into any", anyMap, reflect.TypeFor[any]()},
		{"a map[string]int", words, reflect.TypeFor[map[string]int]()},
		{"strings", names, reflect.TypeFor[[]string]()},
		{"records", records, reflect.TypeFor[[]record]()},
		{"records into any", records, reflect.TypeFor[any]()},
		{"bytes", make([]byte, 8<<20), reflect.TypeFor[[]byte]()},
	} {
		data, _, err := Marshal(tc.v)
		if err != nil {
			t.Fatal(err)
		}
		if err := Unmarshal(data, nil, reflect.New(tc.into).Interface()); err != nil {
			t.Errorf("%s (%d bytes): Unmarshal = %v", tc.name, len(data), err)
		}
	}
}

// allocated returns the bytes f allocates on the heap. Run it on one
// goroutine: TotalAlloc counts every goroutine's.
func allocated(f func()) uint64 {
	var before, after runtime.MemStats
	runtime.ReadMemStats(&before)
	f()
	runtime.ReadMemStats(&after)
	return after.TotalAlloc - before.TotalAlloc
}

// BenchmarkBudgetWalk measures the walk that checks a message's budget
// against the decoding it guards, for a message of 100 records.
func BenchmarkBudgetWalk(b *testing.B) {
	records := make([]record, 100)
	for i := range records {
		records[i] = record{Name: "r" + strconv.Itoa(i), Tags: []string{"a", "b"}, Score: map[string]float64{"x": 1}, Raw: []byte{1, 2, 3}}
	}
	data, _, err := Marshal(records)
	if err != nil {
		b.Fatal(err)
	}
	typ := reflect.TypeFor[[]record]()
	b.Run("walk", func(b *testing.B) {
		for b.Loop() {
			if err := checkBudget(data, typ, budget(len(data))); err != nil {
				b.Fatal(err)
			}
		}
	})
	b.Run("decode", func(b *testing.B) {
		for b.Loop() {
			var v []record
			if err := decMode.Unmarshal(data, &v); err != nil {
				b.Fatal(err)
			}
		}
	})
}
