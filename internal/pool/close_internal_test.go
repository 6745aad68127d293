package pool

import (
	"context"
	"testing"
	"time"
)

// A task T is dispatched to an idle worker (the worker goes on the dirty
// list) and then dropped before it is sent: its owner stops wanting it,
// with or without a Cancel. Close comes either before the drop, while T
// still counts as work and Close cannot stop the worker, or after it, when
// stopIdleLocked must not count T as work. Either way the idle worker of
// the closed engine must be told to stop, or Wait never returns.
func TestCloseAndUnsentDrop(t *testing.T) {
	for _, closeFirst := range []bool{false, true} {
		for _, cancel := range []bool{true, false} {
			e := newEngine(t, Config{Workers: 1})
			o := newOwner()
			e.Run(newTask(t, "pool_test.square", 2, o))
			await(t, o)
			o = newOwner()
			tk := newTask(t, "pool_test.square", 3, o)
			// Run(tk), its locked part.
			e.mu.Lock()
			e.queue.push(tk)
			e.dispatchLocked()
			e.mu.Unlock()
			if !closeFirst {
				o.drop()
				if cancel { // Cancel(tk), its locked part: tk is not sent yet
					e.mu.Lock()
					e.dropLocked(tk, cancelled, nil)
					e.mu.Unlock()
				}
			}
			// finish(), first half: takes the dirty list.
			ws := e.takeDirty()
			// Close, from another goroutine.
			e.Close()
			if closeFirst {
				o.drop()
				if cancel {
					e.Cancel(tk)
				}
			}
			// finish(), second half: the writer drops tk.
			for _, w := range ws {
				w.flush()
			}
			ctx, stop := context.WithTimeout(context.Background(), 10*time.Second)
			if err := e.Wait(ctx); err != nil {
				t.Fatalf("Wait after Close (Close first %v, cancelled %v): %v", closeFirst, cancel, err)
			}
			stop()
		}
	}
}
