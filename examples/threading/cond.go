package threading

import (
	"context"
	"fmt"
	"io"
	"sync"

	"github.com/mpgo/mp/examples"
)

func init() {
	examples.Add(examples.Example{Topic: "threading", Name: "go-condition-wait-for", Title: "seed 90 in plain Go: wait until a predicate holds with sync.Cond", Run: conditionWaitFor})
}

// gate is the state seed 90's goroutines wait on.
type gate struct {
	// mu guards open; cond is signalled when open changes.
	mu   sync.Mutex
	cond *sync.Cond
	open bool
}

// conditionWaitFor is seed 90 in plain Go (the sync topic runs the seed
// with mp.Cond), with the user's typing simulated by a goroutine (see
// typist). Go's sync.Cond has no wait_for: the idiom is the
// loop "for !predicate() { c.Wait() }" with the lock held, which is what
// wait_for does inside. The seed's predicate read the input itself and
// nobody ever notified; here the goroutine that reads the input changes
// the state and broadcasts, so an answer other than 1 just means waiting
// for the next line. (A channel is often simpler; mp.Cond, which works
// between processes, has WaitFor.)
func conditionWaitFor(ctx context.Context, w io.Writer) error {
	in := newTypist(tick, "1", "0", "1", "1", "1", "x", "1", "1", "1", "1", "1", "1")
	defer in.Close()
	g := &gate{}
	g.cond = sync.NewCond(&g.mu)
	for i := range 10 {
		var wg sync.WaitGroup
		wg.Go(func() { g.run(w, i) })
		err := g.openOnInput(ctx, w, in)
		wg.Wait()
		if err != nil {
			return err
		}
		g.mu.Lock()
		g.open = false
		g.mu.Unlock()
	}
	fmt.Fprintln(w, "exiting the program")
	return nil
}

// run waits until the gate is open.
func (g *gate) run(w io.Writer, n int) {
	g.mu.Lock()
	for !g.open {
		g.cond.Wait()
	}
	fmt.Fprintln(w, "running...", n)
	g.mu.Unlock()
	fmt.Fprintln(w, "------------")
}

// openOnInput reads lines until one is 1, then opens the gate. On an error
// it opens the gate too, so that the waiting goroutine ends.
func (g *gate) openOnInput(ctx context.Context, w io.Writer, in *typist) error {
	var err error
	for {
		var line string
		line, err = in.readLine(ctx)
		if err != nil {
			break
		}
		fmt.Fprintf(w, ">>>:%s\n", line)
		if line == "1" {
			break
		}
	}
	g.mu.Lock()
	g.open = true
	g.cond.Broadcast()
	g.mu.Unlock()
	return err
}
