package mp

import (
	"context"

	"github.com/mpgo/mp/internal/errs"
)

// Future is the result of a task that may not have finished yet (Python:
// AsyncResult), returned by Submit and MapAsync. Its methods are safe for
// concurrent use, and its result can be read any number of times.
type Future[T any] struct {
	done chan struct{}
	// val and err are written once, before done is closed.
	val T
	err error
}

// Callback holds functions a Future calls in this process once its task is
// done (Python: callback, error_callback): Result with the result, or Error
// with the error; and, for MapAsync, Progress as its items finish. Any may
// be nil. They run one at a time, in a goroutine of the pool, before the
// Future becomes ready; a slow callback delays the other callbacks of the
// pool, not its results. A callback may Close or Terminate its pool,
// itself or through a goroutine it waits for; a Wait for its pool waits
// for the callback too, so it can only end with its context. A callback
// that panics crashes the program, as a panic in a function given to
// time.AfterFunc does.
type Callback[T any] struct {
	Result func(T)
	Error  func(error)
	// Progress is called by MapAsync each time a chunk of items is done,
	// with how many items are done and how many there are in all: done
	// grows from call to call, and the calls come before Result, the last
	// one with done equal to total. After a failure there are no more.
	// With a Progress callback, MapAsync's default chunk is small enough
	// for at least 100 calls (a chunk costs a few tens of microseconds).
	// Submit does not call it.
	Progress func(done, total int)
}

func newFuture[T any]() *Future[T] { return &Future[T]{done: make(chan struct{})} }

// complete sets the outcome; with callbacks, it becomes ready once they
// have run, in the executor's callback goroutine.
func (f *Future[T]) complete(v T, err error, cbs []Callback[T], later func(func())) {
	f.val, f.err = v, err
	if len(cbs) == 0 {
		close(f.done)
		return
	}
	later(func() {
		defer close(f.done)
		for _, cb := range cbs {
			switch {
			case err == nil && cb.Result != nil:
				cb.Result(v)
			case err != nil && cb.Error != nil:
				cb.Error(err)
			}
		}
	})
}

// Get waits for the task and returns its result or error (Python: get). An
// error or panic in the task comes as a *RemoteError carrying the child's
// stack. If ctx ends first, Get returns an error matching ctx's error (and
// ErrTimeout for a deadline); the task goes on.
func (f *Future[T]) Get(ctx context.Context) (T, error) {
	if err := f.Wait(ctx); err != nil {
		var zero T
		return zero, err
	}
	return f.val, f.err
}

// Wait waits until the result is ready (Python: wait). It returns nil then,
// whether the task succeeded or not, or, if ctx ends first, an error
// matching ctx's error (and ErrTimeout for a deadline).
func (f *Future[T]) Wait(ctx context.Context) error {
	select {
	case <-f.done:
		return nil
	default:
	}
	select {
	case <-f.done:
		return nil
	case <-ctx.Done():
		return errs.Deadline(ctx.Err())
	}
}

// Ready reports whether the result is ready (Python: ready).
func (f *Future[T]) Ready() bool {
	select {
	case <-f.done:
		return true
	default:
		return false
	}
}

// Successful reports whether the task returned without error (Python:
// successful). Before the result is ready it returns ErrNotReady.
func (f *Future[T]) Successful() (bool, error) {
	if !f.Ready() {
		return false, ErrNotReady
	}
	return f.err == nil, nil
}

// Done returns a channel that is closed once the result is ready.
func (f *Future[T]) Done() <-chan struct{} { return f.done }
