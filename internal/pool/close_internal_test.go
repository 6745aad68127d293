package pool

import (
	"context"
	"testing"
	"time"
)

// The interleaving: Run(T) dispatches T to an idle worker (the worker goes
// on the dirty list); T's owner stops wanting it and Cancel resolves T
// (unsent, so it stays in w.inflight); a finish() takes the dirty list;
// Close runs (stopIdleLocked sees w.inflight non-empty and does nothing);
// the finish flushes w, and takeBatchLocked drops T. w.inflight is now
// empty, but no one calls stopIdleLocked again. The resolved, unsent T must
// not count as work, so that Close stops the worker and Wait returns. The
// same holds for a task that is unwanted but not yet resolved.
func TestCloseAfterUnsentCancel(t *testing.T) {
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
		o.drop()
		if cancel {
			// Cancel(tk), its locked part: tk is not sent yet.
			e.mu.Lock()
			e.dropLocked(tk)
			e.mu.Unlock()
		}
		// finish(), first half: takes the dirty list.
		ws := e.takeDirty()
		// Close, from another goroutine.
		e.Close()
		// finish(), second half.
		for _, w := range ws {
			w.flush()
		}
		ctx, stop := context.WithTimeout(context.Background(), 10*time.Second)
		if err := e.Wait(ctx); err != nil {
			t.Fatalf("Wait after Close (cancelled %v): %v", cancel, err)
		}
		stop()
	}
}

// The other order: Close comes while T is unsent and still wanted, so it
// cannot stop the worker; T is then cancelled, or abandoned by its owner,
// and dropped when the writer runs. The drop must tell the idle worker of
// the closed engine to stop.
func TestCloseBeforeUnsentCancel(t *testing.T) {
	for _, cancel := range []bool{true, false} {
		e := newEngine(t, Config{Workers: 1})
		o := newOwner()
		e.Run(newTask(t, "pool_test.square", 2, o))
		await(t, o)
		o = newOwner()
		tk := newTask(t, "pool_test.square", 3, o)
		e.mu.Lock()
		e.queue.push(tk)
		e.dispatchLocked()
		e.mu.Unlock()
		ws := e.takeDirty()
		e.Close()
		o.drop()
		if cancel {
			e.Cancel(tk)
		}
		for _, w := range ws {
			w.flush()
		}
		ctx, stop := context.WithTimeout(context.Background(), 10*time.Second)
		if err := e.Wait(ctx); err != nil {
			t.Fatalf("Wait after Close (cancelled %v): %v", cancel, err)
		}
		stop()
	}
}
