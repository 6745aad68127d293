package pool

import (
	"context"
	"sync"
)

// Callbacks runs functions one at a time, in the order they were added, in
// a goroutine of its own (Python's result handler thread): a slow one
// delays the others, not the results they are about.
//
// Nothing waits for the functions but Wait: in particular not Engine's
// Terminate, so that a function may stop the pool, or hand that to another
// goroutine and wait for it, without waiting for itself. It has no notion
// of which goroutine calls it.
type Callbacks struct {
	wake    chan struct{}
	stopped chan struct{} // closed when the goroutine has ended

	// mu guards queue and done.
	mu    sync.Mutex
	queue []func()
	done  bool // the goroutine has ended: Add runs fn itself
}

// NewCallbacks starts the goroutine, which ends once stop is closed and no
// function is left.
func NewCallbacks(stop <-chan struct{}) *Callbacks {
	c := &Callbacks{wake: make(chan struct{}, 1), stopped: make(chan struct{})}
	go c.run(stop)
	return c
}

// Add queues fn, or runs it at once once the goroutine has ended.
func (c *Callbacks) Add(fn func()) {
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

// Wait waits until the goroutine has run every function and ended, or ctx
// ends. Called from one of the functions, or from a goroutine that one of
// them waits for, it can only end with ctx.
func (c *Callbacks) Wait(ctx context.Context) error {
	select {
	case <-c.stopped:
		return nil
	case <-ctx.Done():
		return ctx.Err()
	}
}

// run runs functions until stop is closed and none is left.
func (c *Callbacks) run(stop <-chan struct{}) {
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
