package cluster

import (
	"context"
	"sync"
)

// callbacks runs a Pool's callbacks one at a time, in the order given, in
// a goroutine of its own, so that neither the goroutines that deliver
// results nor the callers wait for them. The goroutine ends once stop is
// closed and no callback is left; a callback given after that runs in the
// goroutine that gives it.
type callbacks struct {
	wake    chan struct{}
	stopped chan struct{} // closed when the goroutine has ended

	// mu guards queue and ended.
	mu    sync.Mutex
	queue []func()
	ended bool
}

func newCallbacks(stop <-chan struct{}) *callbacks {
	c := &callbacks{wake: make(chan struct{}, 1), stopped: make(chan struct{})}
	go c.run(stop)
	return c
}

// add queues fn, or runs it if the goroutine has ended.
func (c *callbacks) add(fn func()) {
	c.mu.Lock()
	if c.ended {
		c.mu.Unlock()
		fn()
		return
	}
	c.queue = append(c.queue, fn)
	c.mu.Unlock()
	notify(c.wake)
}

// wait waits for the goroutine to end, or ctx.
func (c *callbacks) wait(ctx context.Context) error {
	select {
	case <-c.stopped:
		return nil
	case <-ctx.Done():
		return ctx.Err()
	}
}

func (c *callbacks) run(stop <-chan struct{}) {
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
			c.ended = len(c.queue) == 0
			c.mu.Unlock()
			if c.ended {
				return
			}
		}
	}
}
