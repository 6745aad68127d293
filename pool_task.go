package mp

import (
	"context"
	"errors"
	"fmt"
	"sync/atomic"
	"time"
)

// executor runs tasks: the seam between the typed functions (Apply,
// Submit, Map, Imap) and whatever runs the tasks. A Pool runs them in its
// worker processes; an executor spread over several machines can run the
// same tasks, since a task is a self-contained message. An executor calls
// each task's done exactly once; when a task may be delivered more than
// once, the first result wins.
type executor interface {
	// run queues the tasks.
	run(ts ...*task)
	// size returns how many tasks it runs at once, for chunk sizing.
	size() int
	// later runs fn in the goroutine that runs callbacks, in order.
	later(fn func())
}

// task is one unit of work: the registered function's name, its encoded
// argument (a single value, or the CBOR array of a chunk's items), the
// argument's descriptors, its deadline and how many times it was tried.
type task struct {
	id       uint64
	fn       string
	arg      []byte
	fds      []int // owned by the task until it is resolved
	items    int   // >0: a chunk of that many items
	ctx      context.Context
	deadline time.Time
	attempt  int
	group    *taskGroup
	done     func(taskResult)

	// The fields below belong to the executor (a Pool guards them with its
	// mutex).
	resolved  bool
	w         *worker
	sent      bool
	sending   int // senders holding the descriptors right now
	stopWatch func() bool
	cancelAt  time.Time
}

// taskResult is the outcome of a task: the encoded result (and its
// descriptors, now the receiver's) or an error.
type taskResult struct {
	value []byte
	fds   []int
	err   error
}

// taskGroup ties the tasks of one Map or Imap together: once the caller
// no longer wants their results (a task failed, or the loop stopped), the
// tasks not yet sent to a worker are dropped.
type taskGroup struct {
	abandoned atomic.Bool
}

// errAbandoned resolves the dropped tasks of an abandoned group; nobody
// sees it.
var errAbandoned = errors.New("mp: task abandoned")

// newTask encodes arg for a task running fn under ctx.
func newTask(ctx context.Context, fn string, arg any, items int) (*task, error) {
	data, fds, err := encodeArg(arg)
	if err != nil {
		return nil, err
	}
	if len(fds) > maxBatchFDs {
		closeFDs(fds)
		return nil, fmt.Errorf("mp: a task's argument holds %d handles, at most %d", len(fds), maxBatchFDs)
	}
	t := &task{fn: fn, arg: data, fds: fds, items: items, ctx: ctx}
	t.deadline, _ = ctx.Deadline()
	return t, nil
}

// ctxTaskErr is the error of a task whose context ended: it matches the
// context's error, and ErrTimeout for a deadline.
func ctxTaskErr(fn string, ctx context.Context) error {
	err := ctx.Err()
	if errors.Is(err, context.DeadlineExceeded) {
		return fmt.Errorf("mp: task %s: %w", fn, ctxError(ErrTimeout, err))
	}
	return fmt.Errorf("mp: task %s: %w", fn, context.Cause(ctx))
}

// timeoutTaskErr is the error of a task stopped by its deadline or the
// pool's task timeout.
func timeoutTaskErr(fn string) error {
	return fmt.Errorf("mp: task %s: %w", fn, ctxError(ErrTimeout, context.DeadlineExceeded))
}
