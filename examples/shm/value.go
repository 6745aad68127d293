package shm

import (
	"context"
	"fmt"
	"io"
	"strings"

	"github.com/mpgo/mp"
	"github.com/mpgo/mp/examples"
	"github.com/mpgo/mp/shm"
)

func init() {
	examples.Add(examples.Example{Seed: 42, Topic: "shm", Name: "value-array", Title: "a shared float64 and int32 array changed by a child", Run: valueArray})
}

type shared struct {
	Num *shm.Value[float64] // Python: Value('d')
	Arr *shm.Array[int32]   // Python: Array('i')
}

// f runs in the child: it reads the values the parent put in the array and
// writes their squares, and sets the number. Both writes land in the
// parent's memory: nothing is copied back.
var f = mp.Register("examples.shm.f", func(ctx context.Context, s shared) (struct{}, error) {
	defer s.Num.Close()
	defer s.Arr.Close()
	if err := s.Num.Update(ctx, func(n *float64) { *n = 3.1415927 }); err != nil {
		return struct{}{}, err
	}
	return struct{}{}, s.Arr.Update(ctx, func(a []int32) {
		for i, v := range a {
			a[i] = v * v
		}
	})
})

// valueArray is seed 42.
func valueArray(ctx context.Context, w io.Writer) error {
	num, err := shm.NewValue(0.0)
	if err != nil {
		return err
	}
	defer num.Close()
	init := make([]int32, 10) // range(10)
	for i := range init {
		init[i] = int32(i)
	}
	arr, err := shm.NewArray(init)
	if err != nil {
		return err
	}
	defer arr.Close()
	p := mp.Command(f, shared{num, arr})
	p.Stdout = w
	if err := p.Run(ctx); err != nil {
		return err
	}
	fmt.Fprintln(w, num.Load())
	fmt.Fprintln(w, pyList(arr.Copy()))
	return nil
}

// pyList formats like Python's print of a list: [0, 1, 4].
func pyList(s []int32) string {
	parts := make([]string, len(s))
	for i, v := range s {
		parts[i] = fmt.Sprint(v)
	}
	return "[" + strings.Join(parts, ", ") + "]"
}
