package pool

import (
	"context"
	"fmt"
	"io"
	"os"
	"time"

	"github.com/mpgo/mp"
	"github.com/mpgo/mp/examples"
)

func init() {
	examples.Add(examples.Example{Seed: 46, Topic: "pool", Name: "pool-apply-sync", Title: "Apply in a loop runs the tasks one after another", Run: applySync})
	examples.Add(examples.Example{Seed: 47, Topic: "pool", Name: "pool-apply-sync-return", Title: "Apply returns the task's result", Run: applySyncReturn})
	examples.Add(examples.Example{Seed: 51, Topic: "pool", Name: "process-stars-unordered", Title: "the same stars from five plain processes", Run: starsProcesses})
	examples.Add(examples.Example{Seed: 53, Topic: "pool", Name: "pool-map-stars", Title: "Map over a function that prints", Run: mapStars})
	examples.Add(examples.Example{Seed: 54, Topic: "pool", Name: "pool-map-squares", Title: "Map returns the results in input order", Run: mapSquares})
	examples.Add(examples.Example{Seed: 55, Topic: "pool", Name: "pool-vs-process-efficiency", Title: "a pool mapping 100 items against 100 processes", Run: efficiency})
}

var fc = mp.Register("examples.pool.fc", func(ctx context.Context, i int) (struct{}, error) {
	examples.Sleep(ctx, tick/2)
	fmt.Printf("func%d %d\n", i, os.Getpid())
	return struct{}{}, nil
})

// applySync is seed 46: each Apply waits for its task. The seed leaves the
// pool to the end of the program; Terminate plays that part.
func applySync(ctx context.Context, w io.Writer) error {
	p, err := mp.NewPool(mp.PoolOptions{Processes: 5, Stdout: w})
	if err != nil {
		return err
	}
	defer p.Terminate()
	for i := range 5 {
		if _, err := mp.Apply(ctx, p, fc, i); err != nil { // a synchronous call
			return err
		}
	}
	return nil
}

var workSync = mp.Register("examples.pool.workSync", func(ctx context.Context, n int) (int, error) {
	fmt.Printf("%d run\n", os.Getpid())
	examples.Sleep(ctx, tick/4)
	return n * n, nil
})

// applySyncReturn is seed 47: the same three workers run all ten tasks.
func applySyncReturn(ctx context.Context, w io.Writer) error {
	p, err := mp.NewPool(mp.PoolOptions{Processes: 3, Stdout: w})
	if err != nil {
		return err
	}
	defer p.Terminate()
	for i := range 10 {
		res, err := mp.Apply(ctx, p, workSync, i) // waits here until the task is done
		if err != nil {
			return err
		}
		fmt.Fprintln(w, res)
	}
	return nil
}

// starsProcesses is seed 51: five processes that finish at about the same
// time print in any order (so do pool workers: see seed 50).
func starsProcesses(ctx context.Context, w io.Writer) error {
	procs, err := examples.StartN(5, w, wahaha, func(i int) int { return i })
	if err != nil {
		return err
	}
	return examples.WaitAll(ctx, procs...)
}

// mapStars is seed 53: Map waits for every item; the results (empty
// structs, Python's None) are ignored.
func mapStars(ctx context.Context, w io.Writer) error {
	p, err := mp.NewPool(mp.PoolOptions{Processes: 5, Stdout: w})
	if err != nil {
		return err
	}
	defer p.Terminate()
	_, err = mp.Map(ctx, p, wahaha, []int{1, 2, 3, 4}, 0)
	return err
}

var squareSlowly = mp.Register("examples.pool.squareSlowly", func(ctx context.Context, i int) (int, error) {
	examples.Sleep(ctx, tick/2)
	return i * i, nil
})

// mapSquares is seed 54: ten items of half a tick on five workers take
// about a tick, and come back in input order.
func mapSquares(ctx context.Context, w io.Writer) error {
	p, err := mp.NewPool(mp.PoolOptions{Processes: 5, Stdout: w})
	if err != nil {
		return err
	}
	defer p.Terminate()
	res, err := mp.Map(ctx, p, squareSlowly, ints(10), 0)
	if err != nil {
		return err
	}
	fmt.Fprintln(w, pyList(res))
	return nil
}

var nothing = mp.Register("examples.pool.nothing", func(_ context.Context, _ int) (struct{}, error) {
	return struct{}{}, nil
})

// efficiency is seed 55: reusing five workers for 100 items is much
// cheaper than starting 100 processes. It prints both times, in seconds.
func efficiency(ctx context.Context, w io.Writer) error {
	t1 := time.Now()
	p, err := mp.NewPool(mp.PoolOptions{Processes: 5, Stdout: w})
	if err != nil {
		return err
	}
	if _, err := mp.Map(ctx, p, nothing, ints(100), 0); err != nil {
		p.Terminate()
		return err
	}
	t2 := time.Now()
	procs, err := examples.StartN(100, w, nothing, func(i int) int { return i })
	if err != nil {
		return err
	}
	if err := examples.WaitAll(ctx, procs...); err != nil {
		return err
	}
	t3 := time.Now()
	fmt.Fprintln(w, t2.Sub(t1).Seconds(), t3.Sub(t2).Seconds())
	return closeWait(ctx, p)
}

// ints returns 0, 1, …, n-1 (Python: range(n)).
func ints(n int) []int {
	out := make([]int, n)
	for i := range out {
		out[i] = i
	}
	return out
}
