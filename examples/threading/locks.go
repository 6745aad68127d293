package threading

import (
	"context"
	"fmt"
	"io"
	"sync"
	"time"

	"github.com/mpgo/mp/examples"
)

func init() {
	examples.Add(examples.Example{Topic: "threading", Name: "go-lock-print-time", Title: "seed 83 in plain Go: a sync.Mutex held across a call", Run: lockPrintTime})
	examples.Add(examples.Example{Topic: "threading", Name: "go-no-rlock", Title: "seed 84 in plain Go: no re-entrant locks, a …Locked helper instead", Run: rlock})
	examples.Add(examples.Example{Topic: "threading", Name: "go-balance-lock", Title: "seed 86 in plain Go: the balance with a sync.Mutex, always 0", Run: balanceLock})
}

// lockPrintTime is seed 83 in plain Go (the sync topic runs the seed with
// mp.Mutex). Goroutines of one process share memory, so a sync.Mutex is
// their lock; defer Unlock plays try/finally. mp.Mutex is the lock that
// other processes share too; its Lock takes a context and returns an error,
// because waiting on another process can fail.
func lockPrintTime(ctx context.Context, w io.Writer) error {
	var mu sync.Mutex
	var wg sync.WaitGroup
	for _, name := range []string{"thread1", "thread2"} {
		wg.Go(func() {
			fmt.Fprintln(w, "starting goroutine:", name)
			mu.Lock()
			defer mu.Unlock()
			printTime(ctx, w, time.Now(), name)
		})
	}
	wg.Wait()
	fmt.Fprintln(w, "exiting the program")
	return ctx.Err()
}

func printTime(ctx context.Context, w io.Writer, t time.Time, name string) {
	for range 3 {
		if examples.Sleep(ctx, 2*tick) != nil {
			return
		}
		fmt.Fprintf(w, "%.4f,,,%s\n", float64(t.UnixNano())/1e9, name)
	}
}

// account is seed 84's shared state: a lock and what it guards.
type account struct {
	// mu guards the arithmetic below, so that each result is printed whole.
	mu sync.Mutex
	w  io.Writer
}

// rlock is seed 84 in plain Go (the sync topic runs the seed with
// mp.ReentrantLock). Go's sync.Mutex is not re-entrant on purpose: a
// function that takes a lock its caller may already hold has unclear
// invariants. The Go idiom splits the work: run takes the lock once and
// calls arithmeticLocked, whose name says that the caller holds it.
func rlock(ctx context.Context, w io.Writer) error {
	a := &account{w: w}
	var wg sync.WaitGroup
	for i, nums := range [][2]int{{3, 4}, {5, 6}} {
		wg.Go(func() { a.run(ctx, fmt.Sprintf("goroutine-%d", i+1), nums[0], nums[1]) })
	}
	wg.Wait()
	fmt.Fprintln(w, "program finished!")
	return ctx.Err()
}

func (a *account) run(ctx context.Context, name string, n1, n2 int) {
	fmt.Fprintln(a.w, "starting", name)
	a.mu.Lock()
	defer a.mu.Unlock()
	fmt.Fprintf(a.w, "run is: %.4f %d\n", now(), n1+n2)
	a.arithmeticLocked(ctx, n1, n2)
	examples.Sleep(ctx, 2*tick)
}

// arithmeticLocked must be called with a.mu held.
func (a *account) arithmeticLocked(ctx context.Context, n1, n2 int) {
	fmt.Fprintf(a.w, "arithmetic: %.4f %d\n", now(), n1+n2)
	examples.Sleep(ctx, 2*tick)
}

func now() float64 { return float64(time.Now().UnixNano()) / 1e9 }

// balanceLock is seed 86 in plain Go: seed 85's balance, shared by two
// goroutines, with a sync.Mutex around each change (the sync topic runs the
// seed with two processes, an shm.Value and its mp.Mutex). For a lone
// counter, sync/atomic is the lighter Go answer.
func balanceLock(ctx context.Context, w io.Writer) error {
	var (
		mu      sync.Mutex
		balance int
		wg      sync.WaitGroup
	)
	for _, n := range []int{5, 8} {
		wg.Go(func() {
			for range iterations {
				mu.Lock()
				balance = balance + n
				balance = balance - n
				mu.Unlock()
			}
		})
	}
	wg.Wait()
	fmt.Fprintln(w, balance)
	return nil
}
