package threading

import (
	"context"
	"fmt"
	"io"
	"time"

	"github.com/mpgo/mp/examples"
)

func init() {
	examples.Add(examples.Example{Seed: 88, Topic: "threading", Name: "thread-timer", Title: "run a function later: time.AfterFunc", Run: timer})
}

// timer is seed 88. Go's runtime has timers built in: time.AfterFunc runs
// a function in its own goroutine after a delay, with no thread of its own
// waiting meanwhile, and Stop cancels it (threading.Timer.cancel). A Go
// program does not wait for pending timers when main returns, so the
// example waits for the function explicitly.
func timer(ctx context.Context, w io.Writer) error {
	ran := make(chan struct{})
	t := time.AfterFunc(5*tick, func() {
		fmt.Fprintln(w, "is running...")
		close(ran)
	})
	cancelled := time.AfterFunc(time.Minute, func() { fmt.Fprintln(w, "the cancelled timer ran") })
	if cancelled.Stop() {
		fmt.Fprintln(w, "a second timer was cancelled before it fired")
	}
	select {
	case <-ran:
		return nil
	case <-ctx.Done():
		if !t.Stop() {
			<-ran // it fired already: let it finish writing
		}
		return ctx.Err()
	}
}
