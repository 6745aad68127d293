package mp

import (
	"context"

	"github.com/mpgo/mp/internal/proc"
	"github.com/mpgo/mp/internal/queue"
)

// Main must be the first statement of main() and of every TestMain in a
// program that uses mp. In the parent it returns at once; in a child started
// by mp it runs the function the parent asked for and exits, never returning.
//
// It is the Go twin of Python's `if __name__ == "__main__":` guard: a child is
// a fresh run of the same binary, and it must reach the registered function
// after every package's init has run (so that every mp.Register has happened)
// but before main does anything else.
func Main() {
	// A child waits, before it reports its result, for its queues to
	// deliver what they buffered, as Python joins its queues' feeder
	// threads at exit.
	proc.Main(func() { queue.FlushAll(context.Background()) })
}
