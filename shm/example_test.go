package shm_test

import (
	"context"
	"fmt"

	"github.com/mpgo/mp"
	"github.com/mpgo/mp/shm"
)

var (
	// addHundred adds one to the counter 100 times, each under its lock.
	addHundred = mp.Register("example.shm.addHundred", func(ctx context.Context, v *shm.Value[int64]) (struct{}, error) {
		for range 100 {
			if err := v.Update(ctx, func(p *int64) { *p++ }); err != nil {
				return struct{}{}, err
			}
		}
		return struct{}{}, nil
	})
	// negate negates every element of the array in place.
	negate = mp.Register("example.shm.negate", func(ctx context.Context, a *shm.Array[int32]) (struct{}, error) {
		return struct{}{}, a.Update(ctx, func(s []int32) {
			for i := range s {
				s[i] = -s[i]
			}
		})
	})
)

// Three processes add to one counter in shared memory; Update holds the
// Value's lock around each addition (Python: with v.get_lock(): v.value += 1).
func ExampleValue() {
	ctx := context.Background()
	v, err := shm.NewValue[int64](0)
	if err != nil {
		fmt.Println(err)
		return
	}
	defer v.Close()
	var procs []*mp.Process
	for range 3 {
		p := mp.Command(addHundred, v)
		if err := p.Start(); err != nil {
			fmt.Println(err)
			return
		}
		procs = append(procs, p)
	}
	for _, p := range procs {
		if err := p.Wait(ctx); err != nil {
			fmt.Println(err)
		}
	}
	fmt.Println(v.Load())
	// Output: 300
}

// A child process changes the elements of an Array in place, and the
// parent sees them: Python's Array('i', range(10)).
func ExampleArray() {
	ctx := context.Background()
	a, err := shm.NewArray([]int32{0, 1, 2, 3, 4, 5, 6, 7, 8, 9})
	if err != nil {
		fmt.Println(err)
		return
	}
	defer a.Close()
	if _, err := mp.Call(ctx, negate, a); err != nil {
		fmt.Println(err)
		return
	}
	fmt.Println(a.Copy()) // Python: arr[:]
	// Output: [0 -1 -2 -3 -4 -5 -6 -7 -8 -9]
}
