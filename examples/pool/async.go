package pool

import (
	"context"
	"fmt"
	"io"
	"math/rand/v2"
	"os"
	"strings"
	"time"

	"github.com/mpgo/mp"
	"github.com/mpgo/mp/examples"
)

func init() {
	examples.Add(examples.Example{Seed: 43, Topic: "pool", Name: "pool-apply-async-basic", Title: "Pool(3) runs five tasks, three at a time; Close, then Wait", Run: applyAsyncBasic})
	examples.Add(examples.Example{Seed: 44, Topic: "pool", Name: "pool-apply-async-functions", Title: "three different functions on one pool", Run: applyAsyncFunctions})
	examples.Add(examples.Example{Seed: 45, Topic: "pool", Name: "pool-long-time-task", Title: "five tasks of random length on four workers", Run: longTimeTask})
	examples.Add(examples.Example{Seed: 48, Topic: "pool", Name: "pool-apply-async-results", Title: "Submit ten tasks, then read the futures in order", Run: applyAsyncResults})
	examples.Add(examples.Example{Seed: 49, Topic: "pool", Name: "pool-default-size-results", Title: "a pool of CPUCount workers; all results handled in the parent", Run: defaultSizeResults})
	examples.Add(examples.Example{Seed: 50, Topic: "pool", Name: "pool-stars-no-return", Title: "tasks that only print", Run: starsNoReturn})
	examples.Add(examples.Example{Seed: 52, Topic: "pool", Name: "pool-stars-return", Title: "tasks return strings; Get in submission order", Run: starsReturn})
}

// tick stands for the seeds' one-second sleeps, so that the tour runs
// quickly; what the examples show does not depend on it.
const tick = 200 * time.Millisecond

// closeWait is Python's close() then join().
func closeWait(ctx context.Context, p *mp.Pool) error {
	p.Close()
	return p.Wait(ctx)
}

var runPool = mp.Register("examples.pool.runPool", func(ctx context.Context, i int) (struct{}, error) {
	fmt.Printf("this process`s i is: %d\n", i)
	examples.Sleep(ctx, tick)
	fmt.Printf("%d end\n", i)
	return struct{}{}, nil
})

// applyAsyncBasic is seed 43: Submit is apply_async; Apply would block.
func applyAsyncBasic(ctx context.Context, w io.Writer) error {
	p, err := mp.NewPool(mp.PoolOptions{Processes: 3, Stdout: w})
	if err != nil {
		return err
	}
	for i := range 5 {
		mp.Submit(ctx, p, runPool, i) // non-blocking
		// mp.Apply(ctx, p, runPool, i) // blocking
	}
	return closeWait(ctx, p)
}

// named returns a task that prints its name before and after a tick.
func named(name string) mp.Func[struct{}, struct{}] {
	return mp.Register("examples.pool."+name, func(ctx context.Context, _ struct{}) (struct{}, error) {
		fmt.Println("this process is", name)
		examples.Sleep(ctx, tick)
		fmt.Println(name, "end")
		return struct{}{}, nil
	})
}

var process1, process2, process3 = named("process1"), named("process2"), named("process3")

// applyAsyncFunctions is seed 44: a pool runs any registered function.
func applyAsyncFunctions(ctx context.Context, w io.Writer) error {
	p, err := mp.NewPool(mp.PoolOptions{Processes: 3, Stdout: w})
	if err != nil {
		return err
	}
	for _, fn := range []mp.Func[struct{}, struct{}]{process1, process2, process3} {
		mp.Submit(ctx, p, fn, struct{}{})
	}
	return closeWait(ctx, p)
}

var longTime = mp.Register("examples.pool.longTime", func(ctx context.Context, name int) (struct{}, error) {
	fmt.Printf("Run task %d (%d)...\n", name, os.Getpid())
	start := time.Now()
	examples.Sleep(ctx, time.Duration(rand.Float64()*float64(3*tick)))
	fmt.Printf("Task %d runs %0.2f seconds.\n", name, time.Since(start).Seconds())
	return struct{}{}, nil
})

// longTimeTask is seed 45: the fifth task waits for a free worker.
func longTimeTask(ctx context.Context, w io.Writer) error {
	fmt.Fprintf(w, "Parent process %d.\n", os.Getpid())
	p, err := mp.NewPool(mp.PoolOptions{Processes: 4, Stdout: w})
	if err != nil {
		return err
	}
	for i := range 5 {
		mp.Submit(ctx, p, longTime, i)
	}
	fmt.Fprintln(w, "Waiting for all subprocesses done...")
	if err := closeWait(ctx, p); err != nil {
		return err
	}
	fmt.Fprintln(w, "All subprocesses done.")
	return nil
}

var work = mp.Register("examples.pool.work", func(ctx context.Context, n int) (int, error) {
	fmt.Printf("%d run\n", os.Getpid())
	examples.Sleep(ctx, time.Duration(rand.Float64()*float64(tick)))
	return n * n, nil
})

// applyAsyncResults is seed 48: the futures are read after Wait, in
// submission order, whatever order the tasks finished in.
func applyAsyncResults(ctx context.Context, w io.Writer) error {
	p, err := mp.NewPool(mp.PoolOptions{Processes: 3, Stdout: w})
	if err != nil {
		return err
	}
	var res []*mp.Future[int]
	for i := range 10 {
		res = append(res, mp.Submit(ctx, p, work, i))
	}
	if err := closeWait(ctx, p); err != nil {
		return err
	}
	for _, r := range res {
		v, err := r.Get(ctx)
		if err != nil {
			return err
		}
		fmt.Fprintln(w, v)
	}
	return nil
}

var workPid = mp.Register("examples.pool.workPid", func(ctx context.Context, n int) (int, error) {
	examples.Sleep(ctx, tick)
	fmt.Println(os.Getpid())
	return n * n, nil
})

// defaultSizeResults is seed 49: Processes zero means CPUCount workers.
func defaultSizeResults(ctx context.Context, w io.Writer) error {
	p, err := mp.NewPool(mp.PoolOptions{Stdout: w})
	if err != nil {
		return err
	}
	var res []*mp.Future[int]
	for i := range 10 {
		res = append(res, mp.Submit(ctx, p, workPid, i))
	}
	if err := closeWait(ctx, p); err != nil {
		return err
	}
	var nums []int
	for _, r := range res {
		v, err := r.Get(ctx)
		if err != nil {
			return err
		}
		nums = append(nums, v)
	}
	fmt.Fprintln(w, pyList(nums))
	return nil
}

// pyList formats numbers as Python prints a list.
func pyList[T any](xs []T) string {
	parts := make([]string, len(xs))
	for i, x := range xs {
		parts[i] = fmt.Sprint(x)
	}
	return "[" + strings.Join(parts, ", ") + "]"
}

var wahaha = mp.Register("examples.pool.wahaha", func(ctx context.Context, i int) (struct{}, error) {
	examples.Sleep(ctx, tick)
	fmt.Println(strings.Repeat("*", i))
	return struct{}{}, nil
})

// starsNoReturn is seed 50: the five tasks run at once, so their lines
// come in any order.
func starsNoReturn(ctx context.Context, w io.Writer) error {
	p, err := mp.NewPool(mp.PoolOptions{Processes: 5, Stdout: w})
	if err != nil {
		return err
	}
	for i := range 5 {
		mp.Submit(ctx, p, wahaha, i)
	}
	return closeWait(ctx, p)
}

var wahahaReturn = mp.Register("examples.pool.wahahaReturn", func(ctx context.Context, i int) (string, error) {
	examples.Sleep(ctx, tick)
	return strings.Repeat("*", i), nil
})

// starsReturn is seed 52: Get in submission order gives ordered output.
// The seed never closes its pool; Terminate plays the end of its program.
func starsReturn(ctx context.Context, w io.Writer) error {
	p, err := mp.NewPool(mp.PoolOptions{Processes: 5, Stdout: w})
	if err != nil {
		return err
	}
	defer p.Terminate()
	var res []*mp.Future[string]
	for i := 1; i < 5; i++ {
		res = append(res, mp.Submit(ctx, p, wahahaReturn, i))
	}
	for _, r := range res {
		v, err := r.Get(ctx)
		if err != nil {
			return err
		}
		fmt.Fprintln(w, v)
	}
	return nil
}
