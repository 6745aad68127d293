package pool

import (
	"context"
	"errors"
	"fmt"
	"time"

	"github.com/mpgo/mp/internal/errs"
)

// Task is one unit of work: the registered function's name, its encoded
// argument (a single value, or the CBOR array of a chunk's items), the
// argument's descriptors, and its deadline. Its Owner hears of its outcome.
type Task struct {
	ID       uint64
	Func     string
	Arg      []byte
	FDs      []int // the engine's from Run on; closed once no longer needed
	Items    int   // >0: a chunk of that many items
	Deadline time.Time
	// Attempt counts the workers that died with the task waiting behind
	// another (Run may be given a count carried on from elsewhere).
	Attempt int
	Owner   Owner

	// The fields below belong to the engine, guarded by its mutex.
	resolved bool
	w        *worker
	sent     bool
	sending  int // senders holding the descriptors right now
	cancelAt time.Time
}

// Owner is who a Task reports to.
type Owner interface {
	// Wanted reports whether the task's outcome is still awaited. The
	// engine drops, without a report, a task not yet sent to a worker that
	// is no longer wanted.
	Wanted() bool
	// Deliver reports the task's outcome. The engine calls it at most
	// once per task, without holding its lock; it takes over r.FDs.
	Deliver(r Result)
}

// Result is the outcome of a task: the encoded result (and its
// descriptors) or an error.
type Result struct {
	Value []byte
	FDs   []int
	Err   error

	how ending // for the engine's counts: how the task ended
}

// errCancelled is the outcome of a task its owner cancelled: nobody sees
// it.
var errCancelled = errors.New("mp: task cancelled by its owner")

// timeoutErr is the error of a task stopped by its deadline or the pool's
// task timeout.
func timeoutErr(fn string) error {
	return fmt.Errorf("mp: task %s: %w", fn, errs.WithContext(errs.ErrTimeout, context.DeadlineExceeded))
}

// taskQueue is the engine's FIFO of tasks waiting for a worker.
type taskQueue struct {
	items []*Task
	head  int
}

func (q *taskQueue) len() int { return len(q.items) - q.head }

func (q *taskQueue) push(t *Task) { q.items = append(q.items, t) }

// pushFront puts tasks back at the head, in order: they were given before
// everything still queued.
func (q *taskQueue) pushFront(ts []*Task) {
	if len(ts) == 0 {
		return
	}
	if q.head >= len(ts) {
		q.head -= len(ts)
		copy(q.items[q.head:], ts)
		return
	}
	items := make([]*Task, 0, len(ts)+q.len())
	items = append(append(items, ts...), q.items[q.head:]...)
	q.items, q.head = items, 0
}

// pop returns the head, or nil.
func (q *taskQueue) pop() *Task {
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

// delivery is a resolved task whose owner is still to hear of it, outside
// the engine's lock.
type delivery struct {
	t *Task
	r Result
}

// finish does what an operation under the engine's lock left to do once
// the lock is released: it logs the diagnostics kept, sends to the workers
// given something to send, then delivers the results.
func (e *Engine) finish(ds []delivery) {
	if e.hasNotes.Load() {
		e.logNotes()
	}
	if e.hasDirty.Load() {
		for _, w := range e.takeDirty() {
			w.flush()
		}
	}
	for _, d := range ds {
		d.t.Owner.Deliver(d.r)
	}
}

// takeDirty takes the list of workers given something to send.
func (e *Engine) takeDirty() []*worker {
	e.mu.Lock()
	defer e.mu.Unlock()
	ws := e.dirty
	e.dirty = nil
	e.hasDirty.Store(false)
	for _, w := range ws {
		w.dirty = false
	}
	return ws
}
