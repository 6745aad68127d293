package sync

import (
	"context"
	"fmt"
	"io"
	"os"
	"sync"
	"time"

	"github.com/mpgo/mp"
	"github.com/mpgo/mp/examples"
	"github.com/mpgo/mp/shm"
)

func init() {
	examples.Add(examples.Example{Seed: 33, Topic: "sync", Name: "lock-output", Title: "a Mutex makes each process's running/done pair atomic", Run: lockOutput})
	examples.Add(examples.Example{Seed: 34, Topic: "sync", Name: "lock-hello-world", Title: "one process prints at a time, unlocking with defer", Run: lockHello})
	examples.Add(examples.Example{Seed: 83, Topic: "sync", Name: "lock-print-time", Title: "a Mutex held across a call: the second goroutine waits for the first", Run: lockPrintTime})
	examples.Add(examples.Example{Seed: 84, Topic: "sync", Name: "rlock", Title: "a ReentrantLock locked again by its owner", Run: rlock})
}

type workArg struct {
	N    int
	Lock *mp.Mutex
	// Count, if not nil, counts the processes inside the lock (now, most).
	Count *shm.Array[int32]
}

var work = mp.Register("examples.sync.work", func(ctx context.Context, a workArg) (struct{}, error) {
	defer a.Lock.Close()
	defer a.Count.Close()
	if err := a.Lock.Lock(ctx); err != nil {
		return struct{}{}, err
	}
	defer a.Lock.Unlock()
	inside := occupancy(a.Count.Slice())
	inside.enter()
	defer inside.leave()
	fmt.Printf("%d: %d is running\n", a.N, os.Getpid())
	randomSleep(ctx)
	fmt.Printf("%d:%d is done\n", a.N, os.Getpid())
	return struct{}{}, nil
})

// lockOutput is seed 33. Python does not join its children; a Go program
// waits for them before it returns.
//
// Each child's output reaches w through its own pipe, so a line of the next
// process to hold the lock may overtake the previous one's last line by a
// moment; a counter in shared memory checks what the lock guarantees: one
// process inside at a time.
func lockOutput(ctx context.Context, w io.Writer) error {
	lock, err := mp.NewMutex()
	if err != nil {
		return err
	}
	defer lock.Close()
	count, err := shm.NewRawArray(make([]int32, 2))
	if err != nil {
		return err
	}
	defer count.Close()
	ps, err := examples.StartN(5, w, work, func(i int) workArg { return workArg{i, lock, count} })
	if err := joinErr(err, waitAll(ctx, ps)); err != nil {
		return err
	}
	fmt.Fprintf(w, "at most %d process inside the lock at once\n", occupancy(count.Slice()).most())
	return nil
}

func joinErr(a, b error) error {
	if a != nil {
		return a
	}
	return b
}

var hello = mp.Register("examples.sync.hello", func(ctx context.Context, a workArg) (struct{}, error) {
	defer a.Lock.Close()
	if err := a.Lock.Lock(ctx); err != nil {
		return struct{}{}, err
	}
	defer a.Lock.Unlock() // Python's try/finally
	fmt.Println("hello world", a.N)
	return struct{}{}, nil
})

// lockHello is seed 34.
func lockHello(ctx context.Context, w io.Writer) error {
	lock, err := mp.NewMutex()
	if err != nil {
		return err
	}
	defer lock.Close()
	ps, err := examples.StartN(10, w, hello, func(i int) workArg { return workArg{N: i, Lock: lock} })
	return joinErr(err, waitAll(ctx, ps))
}

// lockPrintTime is seed 83, with goroutines for Python's threads (an
// mp.Mutex works between goroutines too; sync.Mutex is the plain idiom
// within one process).
func lockPrintTime(ctx context.Context, w io.Writer) error {
	lock, err := mp.NewMutex()
	if err != nil {
		return err
	}
	defer lock.Close()
	var wg sync.WaitGroup
	errs := make([]error, 2)
	for i, name := range []string{"thread1", "thread2"} {
		wg.Go(func() {
			fmt.Fprintln(w, "starting thread:", name)
			if errs[i] = lock.Lock(ctx); errs[i] != nil {
				return
			}
			printTime(ctx, w, float64(time.Now().UnixNano())/1e9, name)
			lock.Unlock()
		})
		time.Sleep(time.Millisecond) // thread1 starts first, as in Python
	}
	wg.Wait()
	fmt.Fprintln(w, "exiting the program")
	return joinErr(errs[0], errs[1])
}

func printTime(ctx context.Context, w io.Writer, t float64, name string) {
	for range 3 {
		examples.Sleep(ctx, 2*second)
		fmt.Fprintf(w, "%.7f,,,%s\n", t, name)
	}
}

// rlock is seed 84: run locks, then calls arithmetic, which locks again.
// The owner of a ReentrantLock is carried by the context that Lock returns:
// arithmetic gets it, so it is the same owner and may lock again; the other
// goroutine starts from a context without it, so it waits.
func rlock(ctx context.Context, w io.Writer) error {
	lock, err := mp.NewReentrantLock()
	if err != nil {
		return err
	}
	defer lock.Close()
	var wg sync.WaitGroup
	errs := make([]error, 2)
	for i, nums := range [][2]int{{3, 4}, {5, 6}} {
		wg.Go(func() { errs[i] = run(ctx, w, lock, fmt.Sprintf("Thread-%d", i+1), nums[0], nums[1]) })
		time.Sleep(time.Millisecond)
	}
	wg.Wait()
	fmt.Fprintln(w, "program finished!")
	return joinErr(errs[0], errs[1])
}

func run(ctx context.Context, w io.Writer, lock *mp.ReentrantLock, name string, a, b int) error {
	fmt.Fprintln(w, "starting thread", name)
	ctx, err := lock.Lock(ctx)
	if err != nil {
		return err
	}
	defer lock.Unlock(ctx)
	fmt.Fprintf(w, "run is: %.7f %d\n", float64(time.Now().UnixNano())/1e9, a+b)
	if err := arithmetic(ctx, w, lock, a, b); err != nil {
		return err
	}
	examples.Sleep(ctx, 2*second)
	return nil
}

func arithmetic(ctx context.Context, w io.Writer, lock *mp.ReentrantLock, a, b int) error {
	ctx, err := lock.Lock(ctx) // the same owner: does not wait
	if err != nil {
		return err
	}
	defer lock.Unlock(ctx)
	fmt.Fprintf(w, "arithmetic: %.7f %d\n", float64(time.Now().UnixNano())/1e9, a+b)
	examples.Sleep(ctx, 2*second)
	return nil
}
