package threading

import (
	"context"
	"fmt"
	"io"
	"sync"
	"sync/atomic"

	"github.com/mpgo/mp/examples"
)

func init() {
	examples.Add(examples.Example{Topic: "threading", Name: "go-semaphore", Title: "seed 87 in plain Go: at most 3 of 20 goroutines at once, a buffered channel", Run: semaphore})
}

// semaphore is seed 87 in plain Go (the sync topic runs the seed with
// mp.BoundedSemaphore). In Go a buffered channel of capacity N is a
// counting semaphore: a send takes a seat, a receive gives it back, and a
// select with ctx.Done makes the wait cancellable. (For weighted units,
// golang.org/x/sync/semaphore; between processes, mp.BoundedSemaphore.)
func semaphore(ctx context.Context, w io.Writer) error {
	seats := make(chan struct{}, 3)
	var inside, most atomic.Int32
	var wg sync.WaitGroup
	for i := range 20 {
		wg.Go(func() {
			select {
			case seats <- struct{}{}:
			case <-ctx.Done():
				return
			}
			defer func() { <-seats }()
			n := inside.Add(1)
			defer inside.Add(-1)
			for m := most.Load(); n > m && !most.CompareAndSwap(m, n); m = most.Load() {
			}
			fmt.Fprintln(w, "running the goroutine:", i+1)
			examples.Sleep(ctx, 2*tick)
		})
	}
	wg.Wait()
	fmt.Fprintln(w, "most inside at once:", most.Load())
	fmt.Fprintln(w, "---end")
	return ctx.Err()
}
