package mp_test

import (
	"context"
	"errors"
	"fmt"
	"slices"
	"strings"

	"github.com/mpgo/mp"
)

// power is the argument of a function of two arguments: one field each.
type power struct {
	Base, Exp int
}

var pow = mp.Register("example.pow", func(_ context.Context, a power) (int, error) {
	r := 1
	for range a.Exp {
		r *= a.Base
	}
	return r, nil
})

var cube = mp.Register("example.cube", func(_ context.Context, x int) (int, error) {
	return x * x * x, nil
})

func ExampleMap() {
	p, err := mp.NewPool(mp.PoolOptions{Processes: 2})
	if err != nil {
		fmt.Println(err)
		return
	}
	defer p.Terminate()
	// Python: pool.map(cube, range(6))
	out, err := mp.Map(context.Background(), p, cube, []int{0, 1, 2, 3, 4, 5}, 0)
	fmt.Println(out, err)
	// Output: [0 1 8 27 64 125] <nil>
}

// Each item comes with its index in the input and its outcome: a result,
// or the error of that item alone.
func ExampleImap() {
	p, err := mp.NewPool(mp.PoolOptions{Processes: 2})
	if err != nil {
		fmt.Println(err)
		return
	}
	defer p.Terminate()
	files := []string{"a.txt", "", "c.txt"}
	for i, r := range mp.Imap(context.Background(), p, checkName, slices.Values(files), mp.ImapOptions{}) {
		var re *mp.RemoteError
		if errors.As(r.Err, &re) {
			fmt.Printf("%d: failed: %s\n", i, re.Message)
			continue
		}
		fmt.Printf("%d: %s\n", i, r.Value)
	}
	// Output:
	// 0: A.TXT
	// 1: failed: empty name
	// 2: C.TXT
}

var checkName = mp.Register("example.checkName", func(_ context.Context, name string) (string, error) {
	if name == "" {
		return "", errors.New("empty name")
	}
	return strings.ToUpper(name), nil
})

// MapEach returns every item's outcome: the items that failed can be
// reported, or given again, without losing the others.
func ExampleMapEach() {
	p, err := mp.NewPool(mp.PoolOptions{Processes: 2})
	if err != nil {
		fmt.Println(err)
		return
	}
	defer p.Terminate()
	names := []string{"a.txt", "", "c.txt", ""}
	var retry []string
	for i, r := range mp.MapEach(context.Background(), p, checkName, names, 0) {
		var re *mp.RemoteError
		if errors.As(r.Err, &re) {
			fmt.Printf("item %d failed: %s\n", i, re.Message)
			retry = append(retry, names[i])
			continue
		}
		fmt.Printf("item %d: %s\n", i, r.Value)
	}
	fmt.Println(len(retry), "to retry")
	// Output:
	// item 0: A.TXT
	// item 1 failed: empty name
	// item 2: C.TXT
	// item 3 failed: empty name
	// 2 to retry
}

// Python's starmap is Map over a struct argument.
func ExampleMap_starmap() {
	p, err := mp.NewPool(mp.PoolOptions{Processes: 2})
	if err != nil {
		fmt.Println(err)
		return
	}
	defer p.Terminate()
	// Python: pool.starmap(pow, [(2, 3), (3, 2), (10, 4)])
	out, err := mp.Map(context.Background(), p, pow, []power{{2, 3}, {3, 2}, {10, 4}}, 0)
	fmt.Println(out, err)
	// Output: [8 9 10000] <nil>
}

func ExampleSubmit() {
	ctx := context.Background()
	p, err := mp.NewPool(mp.PoolOptions{Processes: 2})
	if err != nil {
		fmt.Println(err)
		return
	}
	f := mp.Submit(ctx, p, pow, power{2, 10}, mp.Callback[int]{
		Result: func(v int) { fmt.Println("callback, in this process:", v) },
	})
	v, err := f.Get(ctx)
	fmt.Println(v, err)
	p.Close()
	p.Wait(ctx)
	// Output:
	// callback, in this process: 1024
	// 1024 <nil>
}
