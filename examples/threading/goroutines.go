package threading

import (
	"context"
	"fmt"
	"io"
	"sync"
	"time"

	"golang.org/x/sync/errgroup"

	"github.com/mpgo/mp/examples"
)

func init() {
	examples.Add(examples.Example{Seed: 79, Topic: "threading", Name: "thread-sayhi", Title: "start two goroutines and wait for both", Run: sayHi})
	examples.Add(examples.Example{Seed: 81, Topic: "threading", Name: "thread-loop-name", Title: "a goroutine's name is whatever you pass it", Run: loopName})
	examples.Add(examples.Example{Seed: 82, Topic: "threading", Name: "thread-daemon", Title: "wait for goroutines with a timeout, then stop them", Run: daemon})
}

// sayHi is seed 79. Go starts a goroutine with the go statement and joins a
// group of them with a sync.WaitGroup. A goroutine is not an object: it has
// no name, no handle and no join method, because what a caller needs to wait
// for (a result, an error, a group) is better said by the value it waits on.
func sayHi(ctx context.Context, w io.Writer) error {
	var wg sync.WaitGroup
	for _, num := range []int{33, 22} {
		wg.Go(func() {
			fmt.Fprintln(w, "running on number", num)
			examples.Sleep(ctx, 3*tick)
		})
		fmt.Fprintf(w, "started sayhi(%d)\n", num)
	}
	wg.Wait()
	fmt.Fprintln(w, "-----end")
	return ctx.Err()
}

// loopName is seed 81. Go has no current_thread(): code that wants to know
// on whose behalf it runs is told so by an argument, which keeps functions
// testable and makes no goroutine special.
func loopName(ctx context.Context, w io.Writer) error {
	const self = "main"
	fmt.Fprintf(w, "goroutine %s is running...\n", self)
	var wg sync.WaitGroup
	wg.Go(func() { loop(ctx, w, "LoopThread") })
	wg.Wait()
	fmt.Fprintf(w, "goroutine %s ended.\n", self)
	return ctx.Err()
}

func loop(ctx context.Context, w io.Writer, name string) {
	fmt.Fprintf(w, "goroutine %s is running...\n", name)
	for n := 1; n <= 5; n++ {
		fmt.Fprintf(w, "goroutine %s >>> %d\n", name, n)
		if examples.Sleep(ctx, tick) != nil {
			return
		}
	}
	fmt.Fprintf(w, "goroutine %s ended.\n", name)
}

// daemon is seed 82. Every goroutine ends when main returns, so there are
// no daemon flags; but a goroutine nobody waits for is a leak in a library
// or a test. The Go way to wait "at most 3 s" is a select on the work's done
// channel and a context's deadline, and its owner still cancels and joins
// what it started before going on.
func daemon(ctx context.Context, w io.Writer) error {
	ctx, cancel := context.WithCancel(ctx)
	defer cancel()
	done := make(chan error, 1)
	go func() { done <- mainGoroutine(ctx, w) }()
	timeout, stop := context.WithTimeout(ctx, 3*time.Second) // join(timeout=3)
	defer stop()
	select {
	case err := <-done:
		fmt.Fprintln(w, "------end")
		return err
	case <-timeout.Done():
		fmt.Fprintln(w, "gave up waiting after 3 s; stopping the workers")
	}
	cancel()
	<-done // join even after giving up: nothing is left running
	fmt.Fprintln(w, "------end")
	return nil
}

// mainGoroutine starts four workers with an errgroup, which joins them and
// returns the first error.
func mainGoroutine(ctx context.Context, w io.Writer) error {
	fmt.Fprintln(w, "main goroutine starting")
	g, ctx := errgroup.WithContext(ctx)
	for i := range 4 {
		g.Go(func() error {
			fmt.Fprintln(w, "---starting", i)
			if err := examples.Sleep(ctx, 2*tick); err != nil {
				return err
			}
			fmt.Fprintln(w, "---done")
			return nil
		})
		fmt.Fprintln(w, "started worker", i)
	}
	err := g.Wait()
	fmt.Fprintln(w, "main goroutine ending")
	return err
}
