package mp

import (
	"context"
	"errors"
	"testing"
	"time"
)

var closeSq = Register("test.pool.closeSq", func(_ context.Context, x int) (int, error) { return x * x, nil })

// The interleaving: run(T) dispatches T to an idle worker (the worker goes on
// the dirty list); T's context is cancelled and onCtxDone resolves T (unsent,
// so it stays in w.inflight); a finish() takes the dirty list; Close runs
// (stopIdleLocked sees w.inflight non-empty and does nothing); the finish
// flushes w, and takeBatchLocked drops T. w.inflight is now empty, but no one
// calls stopIdleLocked again. The resolved, unsent T must not count as work,
// so that Close stops the worker and Wait returns.
func TestPoolCloseAfterUnsentCancel(t *testing.T) {
	ctx := context.Background()
	p, err := NewPool(PoolOptions{Processes: 1})
	if err != nil {
		t.Fatal(err)
	}
	defer p.Terminate()
	if _, err := Apply(ctx, p, closeSq, 2); err != nil {
		t.Fatal(err)
	}
	cctx, cancel := context.WithCancel(ctx)
	tk, err := newTask(cctx, closeSq.name, 3, 0)
	if err != nil {
		t.Fatal(err)
	}
	got := make(chan taskResult, 1)
	tk.done = func(r taskResult) { got <- r }

	// run(tk), its locked part.
	p.mu.Lock()
	p.nextID++
	tk.id = p.nextID
	p.queue.push(tk)
	ds := p.dispatchLocked(nil)
	p.mu.Unlock()
	// onCtxDone(tk), its locked part: tk is not sent yet.
	cancel()
	p.mu.Lock()
	ds = p.resolveLocked(ds, tk, taskResult{err: ctxTaskErr(tk.fn, tk.ctx)})
	p.mu.Unlock()
	// finish(), first half: takes the dirty list.
	ws := p.takeDirty()
	// Close, from another goroutine.
	p.Close()
	// finish(), second half.
	for _, w := range ws {
		w.flush()
	}
	for _, d := range ds {
		d.t.done(d.r)
	}
	if r := <-got; !errors.Is(r.err, context.Canceled) {
		t.Fatalf("task: %v", r.err)
	}
	wctx, wcancel := context.WithTimeout(ctx, 5*time.Second)
	defer wcancel()
	if err := p.Wait(wctx); err != nil {
		t.Fatalf("Wait after Close: %v", err)
	}
}
