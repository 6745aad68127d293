package mp

import (
	"bytes"
	"runtime"
	"strconv"
	"sync"
	"sync/atomic"
)

// taskQueue is the pool's FIFO of tasks waiting for a worker.
type taskQueue struct {
	items []*task
	head  int
}

func (q *taskQueue) len() int { return len(q.items) - q.head }

func (q *taskQueue) push(t *task) { q.items = append(q.items, t) }

// pushFront puts tasks back at the head, in order: they were given before
// everything still queued.
func (q *taskQueue) pushFront(ts []*task) {
	if len(ts) == 0 {
		return
	}
	if q.head >= len(ts) {
		q.head -= len(ts)
		copy(q.items[q.head:], ts)
		return
	}
	items := make([]*task, 0, len(ts)+q.len())
	items = append(append(items, ts...), q.items[q.head:]...)
	q.items, q.head = items, 0
}

// pop returns the head, or nil.
func (q *taskQueue) pop() *task {
	if q.head == len(q.items) {
		return nil
	}
	t := q.items[q.head]
	q.items[q.head] = nil
	q.head++
	if q.head == len(q.items) {
		q.items, q.head = q.items[:0], 0
	} else if q.head > 1024 && q.head > len(q.items)/2 {
		q.items = append(q.items[:0], q.items[q.head:]...)
		q.head = 0
	}
	return t
}

// delivery is a resolved task whose done function is still to be called,
// outside the pool's lock.
type delivery struct {
	t *task
	r taskResult
}

// finish does what an operation under the pool's lock left to do once
// the lock is released: it sends to the workers given something to send,
// then delivers the results.
func (p *Pool) finish(ds []delivery) {
	if p.hasDirty.Load() {
		for _, w := range p.takeDirty() {
			w.flush()
		}
	}
	for _, d := range ds {
		d.t.done(d.r)
	}
}

// takeDirty takes the list of workers given something to send.
func (p *Pool) takeDirty() []*worker {
	p.mu.Lock()
	defer p.mu.Unlock()
	ws := p.dirty
	p.dirty = nil
	p.hasDirty.Store(false)
	for _, w := range ws {
		w.dirty = false
	}
	return ws
}

// callbackRunner runs the callbacks of futures, one at a time and in the
// order their tasks finished, in a goroutine of the pool (Python's result
// handler thread): a slow callback delays the other callbacks but not the
// results.
type callbackRunner struct {
	wake chan struct{}
	// stopped is closed when run returns.
	stopped chan struct{}
	// gid is the id of the goroutine that runs the callbacks.
	gid atomic.Uint64
	// mu guards queue and done.
	mu    sync.Mutex
	queue []func()
	done  bool // run has returned: add runs fn itself
}

func (c *callbackRunner) init() {
	c.wake = make(chan struct{}, 1)
	c.stopped = make(chan struct{})
}

// current reports whether the caller is the goroutine that runs the
// callbacks: a callback that stops or waits for its pool must not wait for
// the callbacks to end, its own among them (Python's terminate does not
// join its result handler from the handler either).
func (c *callbackRunner) current() bool { return c.gid.Load() == goroutineID() }

// goroutineID returns the id of the calling goroutine, read from the first
// line of its stack trace ("goroutine 42 [running]:"). Go hides goroutine
// identity on purpose; it is used here only to tell one goroutine, the
// callback runner, from every other.
func goroutineID() uint64 {
	var buf [64]byte
	line := buf[:runtime.Stack(buf[:], false)]
	line = bytes.TrimPrefix(line, []byte("goroutine "))
	if i := bytes.IndexByte(line, ' '); i > 0 {
		line = line[:i]
	}
	id, _ := strconv.ParseUint(string(line), 10, 64)
	return id
}

// add queues fn, or runs it at once once the pool has stopped.
func (c *callbackRunner) add(fn func()) {
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

// run runs callbacks until stop is closed and none is left.
func (c *callbackRunner) run(stop <-chan struct{}) {
	defer close(c.stopped)
	c.gid.Store(goroutineID())
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
