package pool

import (
	"context"
	"fmt"
	"io"
	"os"

	"github.com/mpgo/mp"
	"github.com/mpgo/mp/examples"
)

func init() {
	examples.Add(examples.Example{Seed: 56, Topic: "pool", Name: "pool-callback-pids", Title: "a callback runs in the parent process", Run: callbackPids})
	examples.Add(examples.Example{Seed: 57, Topic: "pool", Name: "pool-callback-foo", Title: "ten tasks on two workers, each followed by its callback", Run: callbackFoo})
}

var func1 = mp.Register("examples.pool.func1", func(_ context.Context, n int) (int, error) {
	fmt.Println("in func1", os.Getpid())
	return n * n, nil
})

// callbackPids is seed 56: the callback gets the task's result as soon as
// it is done, in the parent: its pid is the main process's.
func callbackPids(ctx context.Context, w io.Writer) error {
	fmt.Fprintln(w, "main process:", os.Getpid())
	p, err := mp.NewPool(mp.PoolOptions{Processes: 5, Stdout: w})
	if err != nil {
		return err
	}
	func2 := func(nn int) {
		fmt.Fprintln(w, "in func2", os.Getpid())
		fmt.Fprintln(w, nn)
	}
	mp.Submit(ctx, p, func1, 10, mp.Callback[int]{Result: func2})
	return closeWait(ctx, p) // Wait returns once the callbacks have run
}

var foo = mp.Register("examples.pool.foo", func(ctx context.Context, n int) (struct{}, error) {
	examples.Sleep(ctx, tick)
	fmt.Println(n * n)
	return struct{}{}, nil
})

// callbackFoo is seed 57: foo returns nothing (an empty struct, Python's
// None), which is what each callback prints.
func callbackFoo(ctx context.Context, w io.Writer) error {
	p, err := mp.NewPool(mp.PoolOptions{Processes: 2, Stdout: w}) // two tasks at a time
	if err != nil {
		return err
	}
	examples.Note(w, "foo returns nothing: Go's empty struct, which prints as {} where Python prints None")
	back := func(arg struct{}) { fmt.Fprintln(w, "exec done:", arg) }
	for i := range 10 {
		mp.Submit(ctx, p, foo, i, mp.Callback[struct{}]{Result: back})
	}
	if err := closeWait(ctx, p); err != nil { // close first, then wait
		return err
	}
	fmt.Fprintln(w, "end")
	return nil
}
