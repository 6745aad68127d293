// Package callbacks runs an executor's callbacks: one at a time, in the
// order they were added, in a goroutine of their own (Python's result
// handler thread), so that a slow one delays the others, not the results
// they are about. Package mp's Pool and the cluster module's Pool use it.
package callbacks

import (
	"context"
	"sync"
)

// Runner runs a pool's callbacks. Nothing waits for them but Wait: in
// particular not the pool's Terminate, so that a callback may stop its
// pool, or hand that to another goroutine and wait for it, without waiting
// for itself. It has no notion of which goroutine calls it.
type Runner struct {
	wake    chan struct{}
	stopped chan struct{} // closed when the goroutine has ended

	// mu guards queue and done.
	mu    sync.Mutex
	queue []func()
	done  bool // the goroutine has ended: Add runs fn itself
}

// New starts the goroutine, which ends once stop is closed and no
// callback is left. stop is closed when the pool's engine has ended, so
// that every callback of a task the engine finished runs here; only
// callbacks of work given to a stopped pool (which fails at once) run in
// the goroutine that gave it.
func New(stop <-chan struct{}) *Runner {
	c := &Runner{wake: make(chan struct{}, 1), stopped: make(chan struct{})}
	go c.run(stop)
	return c
}

// Add queues fn, or runs it at once once the goroutine has ended.
func (c *Runner) Add(fn func()) {
	c.mu.Lock()
	if c.done {
		c.mu.Unlock()
		fn()
		return
	}
	c.queue = append(c.queue, fn)
	c.mu.Unlock()
	select {
	case c.wake <- struct{}{}:
	default:
	}
}

// Wait waits until the goroutine has run every callback and ended, or ctx
// ends. Called from a callback, or from a goroutine that one waits for, it
// can only end with ctx.
func (c *Runner) Wait(ctx context.Context) error {
	select {
	case <-c.stopped:
		return nil
	case <-ctx.Done():
		return ctx.Err()
	}
}

// run runs callbacks until stop is closed and none is left.
func (c *Runner) run(stop <-chan struct{}) {
	defer close(c.stopped)
	for {
		c.mu.Lock()
		fns := c.queue
		c.queue = nil
		c.mu.Unlock()
		for _, fn := range fns {
			fn()
		}
		if len(fns) > 0 {
			continue
		}
		select {
		case <-c.wake:
		case <-stop:
			c.mu.Lock()
			c.done = len(c.queue) == 0
			c.mu.Unlock()
			if c.done {
				return
			}
		}
	}
}
