package mp_test

import (
	"context"
	"fmt"

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
