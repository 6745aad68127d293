package sync

import (
	"context"
	"fmt"
	"io"
	"strings"

	"github.com/mpgo/mp"
	"github.com/mpgo/mp/examples"
)

func init() {
	examples.Add(examples.Example{Seed: 90, Topic: "sync", Name: "condition-wait-for", Title: "Cond.WaitFor: proceed once the (simulated) user types 1", Run: condWaitFor})
}

// condWaitFor is seed 90, with goroutines for Python's threads (started and
// waited for one at a time) and the user's input simulated: a reader that
// types "1" ten times. The predicate itself reads the input, as in the seed.
func condWaitFor(ctx context.Context, w io.Writer) error {
	c, err := mp.NewCond(nil) // over a ReentrantLock, as Python's default
	if err != nil {
		return err
	}
	defer c.Close()
	input := simulatedInput(strings.Repeat("1\n", 10))
	for n := range 10 {
		done := make(chan error)
		go func() {
			done <- runCond(ctx, w, c, n, func() bool { line, _ := prompt(w, input, ">>>:"); return line == "1" })
		}()
		if err := <-done; err != nil {
			return err
		}
	}
	fmt.Fprintln(w, "exiting the program")
	return nil
}

func runCond(ctx context.Context, w io.Writer, c *mp.Cond, n int, pred func() bool) error {
	ctx, err := c.Lock(ctx)
	if err != nil {
		return err
	}
	if err := c.WaitFor(ctx, pred); err != nil {
		c.Unlock(ctx)
		return err
	}
	fmt.Fprintln(w, "running...", n)
	c.Unlock(ctx)
	fmt.Fprintln(w, "------------")
	return nil
}
