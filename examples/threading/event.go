package threading

import (
	"context"
	"fmt"
	"io"
	"sync"

	"github.com/mpgo/mp/examples"
)

func init() {
	examples.Add(examples.Example{Topic: "threading", Name: "go-event-input", Title: "seed 89 in plain Go: a closed channel as an event", Run: eventInput})
}

// event is threading.Event the Go way, inside one process: a channel that
// is closed while the flag is set. Closing a channel wakes every receiver at
// once, so set is a broadcast; clear puts a fresh channel in place of a
// closed one. (Between processes, mp.Event.)
type event struct {
	// mu guards ch.
	mu sync.Mutex
	ch chan struct{}
}

func newEvent() *event { return &event{ch: make(chan struct{})} }

// set sets the flag, releasing everyone waiting on the current channel.
func (e *event) set() {
	e.mu.Lock()
	defer e.mu.Unlock()
	select {
	case <-e.ch:
	default:
		close(e.ch)
	}
}

// clear resets the flag; those waiting on an unset flag go on waiting.
func (e *event) clear() {
	e.mu.Lock()
	defer e.mu.Unlock()
	select {
	case <-e.ch:
		e.ch = make(chan struct{})
	default:
	}
}

// wait returns the channel to wait on: it is closed once the flag is set.
func (e *event) wait() <-chan struct{} {
	e.mu.Lock()
	defer e.mu.Unlock()
	return e.ch
}

// eventInput is seed 89 in plain Go (the sync topic runs the seed with
// mp.Event), with the user's typing simulated by a goroutine (see typist):
// ten rounds, one of them answered with something other than 1.
//
// In the seed, a thread that reaches wait() only after set() and clear()
// misses its round and waits forever. Here each goroutine is handed the
// channel of its round before it starts, so it cannot miss the set; and the
// owner releases and joins any goroutine still waiting at the end.
func eventInput(ctx context.Context, w io.Writer) error {
	in := newTypist(tick, "1", "1", "1", "2", "1", "1", "1", "1", "1", "1")
	defer in.Close()
	ev := newEvent()
	var waiting sync.WaitGroup // the goroutines started since the last set
	defer waiting.Wait()
	defer ev.set()
	for range 10 {
		released, started := ev.wait(), make(chan struct{})
		waiting.Go(func() {
			fmt.Fprintln(w, "start")
			close(started)
			select {
			case <-released:
				fmt.Fprintln(w, "done")
			case <-ctx.Done():
			}
		})
		<-started // keeps "start" before the prompt, for a steady output
		line, err := in.readLine(ctx)
		if err != nil {
			return err
		}
		fmt.Fprintf(w, ">>>:%s\n", line)
		if line == "1" {
			ev.set()
			waiting.Wait() // so that each round's output stays together
		}
		ev.clear()
	}
	return nil
}
