package mp

import (
	"context"
	"errors"
	"fmt"
	"sync"
	"sync/atomic"
	"time"

	"github.com/mpgo/mp/internal/descr"
	"github.com/mpgo/mp/internal/errs"
)

// Executor runs tasks: Apply, Submit, Map, MapAsync, Imap and ImapUnordered
// turn typed calls into Tasks and give them to an Executor, which runs them
// wherever it runs them and reports each one's outcome with Task.Finish.
// A *Pool is an Executor that runs tasks in its worker processes; a type in
// another package can implement Executor to run the same tasks elsewhere —
// on other machines, say — since a task is a self-contained message: a
// registered function's name, its encoded argument, a deadline.
//
// The contract an implementation keeps:
//
//   - Outcomes. Each task is finished once, with its encoded result or an
//     error. Finish may be called more than once for a task (an engine that
//     delivers at least once may see a result twice): the first call wins
//     and the others are dropped, their descriptors closed. Results may
//     come in any order; Map and Imap put them in input order.
//   - Errors. A function's error should arrive as a *RemoteError (with the
//     sentinel names it matched, so errors.Is works), a task whose worker
//     died as an error matching ErrWorkerDied, a task stopped at its
//     deadline as one matching ErrTimeout and context.DeadlineExceeded, a
//     task given to a stopped executor as one matching ErrPoolClosed.
//   - Wanted tasks only. A task stops being wanted once it is finished,
//     its context ends, or its caller stops waiting (a Map that failed, an
//     Imap loop that ended). An executor may drop such a task without
//     finishing it, and should not start one.
//   - Cancellation and deadlines. mp itself finishes a task whose context
//     ends, with the context's error, and then calls Cancel: the executor
//     should stop the task if it runs (a Pool cancels the function's
//     context and kills its worker after a short grace). Deadline, if set,
//     is the task's context deadline: the function should see it as its
//     own context's deadline wherever it runs.
//   - Handles. A task's FDs are the descriptors of the handles (Conns,
//     queues, locks, shared memory, Files) inside its argument; they belong
//     to the executor from Execute on, and it closes them once it no longer
//     needs them. An executor that cannot carry descriptors (one that
//     crosses machines) finishes such a task at once with an error that
//     matches ErrHandles, and closes them. A result's FDs belong to mp once
//     passed to Finish.
//   - Callbacks. RunCallback runs a Future's callbacks in this process, one
//     at a time, in the order given, and eventually even after the
//     executor has stopped; its Wait (if it has one) should wait for those
//     already given, as Pool.Wait does.
//
// Execute, Cancel and RunCallback must not block for long: they are called
// from the goroutines of callers and of results.
type Executor interface {
	// Execute takes tasks to run. It returns at once.
	Execute(tasks ...*Task)
	// Cancel tells the executor that t is no longer wanted: mp has
	// finished it because its context ended. It may come before, during
	// or after Execute of t.
	Cancel(t *Task)
	// Parallelism returns how many tasks the executor runs at once; Map
	// and Imap size their chunks and read-ahead by it.
	Parallelism() int
	// RunCallback runs fn, a Future's callbacks, as said above.
	RunCallback(fn func())
}

// Task is one unit of work for an Executor: a registered function and its
// encoded argument, or a chunk of a Map's items.
type Task struct {
	// ID identifies the task among every task of this process; an
	// executor that crosses machines adds its own identity to it.
	ID uint64
	// Func is the name the function was registered under.
	Func string
	// Arg is the CBOR encoding of the argument. For a chunk (Items > 0) it
	// is the CBOR array of Items arguments, and the result the CBOR array
	// of as many results; for a chunk of MapEach or Imap, that array comes
	// under a CBOR tag, and the result holds each item's value or error.
	// Either way the bytes are the worker's to read, not the executor's.
	Arg   []byte
	Items int
	// FDs are the descriptors of the handles inside Arg (see Executor).
	FDs []int
	// Deadline, if not zero, is when the task's context ends.
	Deadline time.Time
	// Attempt counts the earlier attempts to run the task: 0 for a task
	// Apply, Submit, Map or Imap makes; an executor that delivers a task
	// again (to another machine) adds one, and a Pool counts it against
	// its limit of three attempts.
	Attempt int

	done     func(TaskResult)
	finished atomic.Bool
	watch    atomic.Pointer[func() bool] // ends the watch on the task's context
	group    *taskGroup                  // set before the task is executed

	// inPool is the task's form in the Pool it was given to, if any.
	inPool atomic.Pointer[pooledTask]
}

// TaskResult is the outcome of a Task: its encoded result with the
// result's descriptors, or an error.
type TaskResult struct {
	Value []byte
	FDs   []int
	Err   error
}

// taskIDs numbers the tasks of this process.
var taskIDs atomic.Uint64

// NewTask returns a task of the function registered as fn, with an encoded
// argument and the descriptors of the handles in it (see Task), whose
// outcome goes to done, called once from the goroutine that finishes it —
// for a Pool, one of its own: done must not block, nor wait for that Pool.
// Its Attempt is 0; set it before Execute to carry on a count of earlier
// attempts. NewTask is how an executor that forwards tasks — a worker that
// takes them from another machine — gives them to a local Pool: Execute
// it there, send on what done gets, and Cancel it there if its sender
// stops wanting it.
func NewTask(fn string, arg []byte, fds []int, items int, deadline time.Time, done func(TaskResult)) *Task {
	if fn == "" || done == nil {
		panic("mp: NewTask needs a function name and a done function")
	}
	return &Task{ID: taskIDs.Add(1), Func: fn, Arg: arg, FDs: fds, Items: items, Deadline: deadline, done: done}
}

// Finish reports the task's outcome and returns true, unless the task is
// finished already: then it closes r.FDs and returns false.
func (t *Task) Finish(r TaskResult) bool {
	if !t.finished.CompareAndSwap(false, true) {
		descr.Close(r.FDs)
		return false
	}
	t.unwatch()
	t.done(r)
	return true
}

// Wanted reports whether the task's outcome is still awaited (see
// Executor).
func (t *Task) Wanted() bool {
	return !t.finished.Load() && (t.group == nil || !t.group.abandoned.Load())
}

// abandon marks the task finished without an outcome: its caller no
// longer waits for it.
func (t *Task) abandon() {
	if t.finished.CompareAndSwap(false, true) {
		t.unwatch()
	}
}

// unwatch ends the watch on the task's context, if it has one.
func (t *Task) unwatch() {
	if stop := t.watch.Load(); stop != nil {
		(*stop)()
		if t.group != nil {
			t.group.forget(t)
		}
	}
}

// newTask encodes arg for a task running fn under ctx. For a chunk, arg is
// the slice of its items.
func newTask(ctx context.Context, fn string, arg any, items int, done func(TaskResult)) (*Task, error) {
	data, fds, err := encodeArg(arg)
	if err != nil {
		return nil, err
	}
	deadline, _ := ctx.Deadline()
	return NewTask(fn, data, fds, items, deadline, done), nil
}

// execute gives ts to ex, having made each one end when ctx does: it is
// then finished with ctx's error and ex is told to cancel it.
func execute(ctx context.Context, ex Executor, ts ...*Task) {
	if ctx.Done() != nil {
		for _, t := range ts {
			watch(ctx, ex, t)
		}
	}
	ex.Execute(ts...)
}

// watch makes t end when ctx does.
func watch(ctx context.Context, ex Executor, t *Task) {
	if t.group != nil {
		t.group.remember(t)
	}
	stop := context.AfterFunc(ctx, func() {
		if t.Finish(TaskResult{Err: ctxTaskErr(t.Func, ctx)}) {
			ex.Cancel(t)
		}
	})
	t.watch.Store(&stop)
	if !t.Wanted() { // finished or abandoned meanwhile: its unwatch missed this
		t.abandon()
		stop()
	}
}

// ctxTaskErr is the error of a task whose context ended: it matches the
// context's error, and ErrTimeout for a deadline.
func ctxTaskErr(fn string, ctx context.Context) error {
	if err := ctx.Err(); errors.Is(err, context.DeadlineExceeded) {
		return fmt.Errorf("mp: task %s: %w", fn, errs.Deadline(err))
	}
	return fmt.Errorf("mp: task %s: %w", fn, context.Cause(ctx))
}

// taskGroup ties the tasks of one Map or Imap together: once the caller
// no longer wants their results (a task failed, or the loop stopped), the
// group is abandoned, its tasks are no longer wanted, and executors drop
// those not yet running. The tasks that watch a context are remembered, so
// that abandoning the group ends their watches at once.
type taskGroup struct {
	abandoned atomic.Bool

	// mu guards watched.
	mu      sync.Mutex
	watched map[*Task]struct{} // tasks watching a context, not finished
}

// add ties t, not yet executed, to the group.
func (g *taskGroup) add(t *Task) { t.group = g }

// remember records that t watches a context.
func (g *taskGroup) remember(t *Task) {
	g.mu.Lock()
	defer g.mu.Unlock()
	if g.watched == nil {
		g.watched = map[*Task]struct{}{}
	}
	g.watched[t] = struct{}{}
}

// forget is called once t's watch has ended.
func (g *taskGroup) forget(t *Task) {
	g.mu.Lock()
	defer g.mu.Unlock()
	delete(g.watched, t)
}

// abandon abandons the group, ending the watches of its tasks, and reports
// whether this call did it (the first).
func (g *taskGroup) abandon() bool {
	if g.abandoned.Swap(true) {
		return false
	}
	g.mu.Lock()
	watched := g.watched
	g.watched = nil
	g.mu.Unlock()
	for t := range watched {
		t.abandon()
	}
	return true
}
