package mp

import (
	"context"
	"fmt"
	"sync/atomic"

	"github.com/mpgo/mp/internal/descr"
	"github.com/mpgo/mp/internal/wire"
)

// Apply runs fn(ctx, arg) on ex — a Pool's worker, or wherever the
// Executor runs tasks — and returns its result (Python: apply). An error or
// panic in fn comes back as a *RemoteError with the worker's stack; a
// worker that dies running it gives a *WorkerDiedError. When ctx ends
// first, Apply returns an error matching ctx's error (and ErrTimeout for a
// deadline), and the task is stopped: fn's context ends, and its worker is
// killed if fn does not return within a short grace period.
//
// A round trip on a Pool costs a few tens of microseconds; use Map for many
// small items.
func Apply[In, Out any](ctx context.Context, ex Executor, fn Func[In, Out], arg In) (Out, error) {
	f := Submit(ctx, ex, fn, arg)
	<-f.done
	return f.val, f.err
}

// Submit gives fn(ctx, arg) to ex and returns its Future at once (Python:
// apply_async). The callbacks, if any, run in this process when the task
// is done, before the Future becomes ready. ctx bounds the task as in
// Apply. The argument is encoded before Submit returns: handles in it may
// be closed then.
func Submit[In, Out any](ctx context.Context, ex Executor, fn Func[In, Out], arg In, cbs ...Callback[Out]) *Future[Out] {
	checkCall(ex, fn.name)
	f := newFuture[Out]()
	t, err := newTask(ctx, fn.name, arg, 0, func(r TaskResult) {
		v, err := decodeResult[Out](fn.name, r)
		f.complete(v, err, cbs, ex.RunCallback)
	})
	if err != nil {
		var zero Out
		f.complete(zero, err, cbs, ex.RunCallback)
		return f
	}
	execute(ctx, ex, t)
	return f
}

func decodeResult[Out any](fn string, r TaskResult) (Out, error) {
	var out Out
	if r.Err != nil {
		descr.Close(r.FDs)
		return out, r.Err
	}
	if err := wire.Unmarshal(r.Value, r.FDs, &out); err != nil {
		return out, fmt.Errorf("mp: decode the result of %s: %w", fn, err)
	}
	return out, nil
}

// Map runs fn over every item of in, on ex, and returns the results in the
// order of in (Python: map). The items travel in chunks of chunk items,
// each one task for a worker; chunk zero applies Python's rule (four
// chunks per worker), and a negative chunk panics (Python: ValueError). The first item to fail fails the whole Map
// with its error; chunks not yet sent to a worker are dropped (those
// already sent run, their results unused). An empty in gives an empty
// result.
//
// Python's starmap is Map over a struct: register a function taking a
// struct with one field per argument, and pass a slice of them.
func Map[In, Out any](ctx context.Context, ex Executor, fn Func[In, Out], in []In, chunk int) ([]Out, error) {
	f := MapAsync(ctx, ex, fn, in, chunk)
	<-f.done
	return f.val, f.err
}

// MapAsync is Map returning at once with a Future (Python: map_async).
// The callbacks, if any, get the whole result or the first error, and
// the progress of the items (see Callback.Progress).
func MapAsync[In, Out any](ctx context.Context, ex Executor, fn Func[In, Out], in []In, chunk int, cbs ...Callback[[]Out]) *Future[[]Out] {
	checkCall(ex, fn.name)
	checkChunk(chunk)
	f := newFuture[[]Out]()
	out := make([]Out, len(in))
	if len(in) == 0 {
		f.complete(out, nil, cbs, ex.RunCallback)
		return f
	}
	g := new(taskGroup)
	progress := progressFunc(cbs, len(in), ex.RunCallback, g.abandoned.Load)
	if chunk <= 0 {
		chunk = defaultChunk(len(in), ex.Parallelism())
		if progress != nil {
			chunk = min(chunk, (len(in)+progressSteps-1)/progressSteps)
		}
	}
	var left atomic.Int64
	left.Store(int64((len(in) + chunk - 1) / chunk))
	finish := func(n int, err error) {
		if err == nil && progress != nil {
			// Before left changes, so that the last chunk's Result
			// callback comes after every chunk's progress.
			progress(n)
		}
		if err == nil && left.Add(-1) != 0 {
			return
		}
		if err == nil {
			f.complete(out, nil, cbs, ex.RunCallback)
		} else if g.abandon() {
			f.complete(nil, err, cbs, ex.RunCallback)
		}
	}
	// Chunks go to the executor as soon as a datagram's worth is encoded,
	// so that the workers start while the rest is being encoded.
	var ts []*Task
	size := 0
	for a := 0; a < len(in); a += chunk {
		b := min(a+chunk, len(in))
		dst := out[a:b:b]
		t, err := newTask(ctx, fn.name, in[a:b], b-a, func(r TaskResult) { finish(len(dst), decodeChunk(fn.name, r, dst)) })
		if err != nil {
			for _, t := range ts {
				descr.Close(t.FDs)
			}
			finish(0, err)
			return f
		}
		g.add(t)
		ts = append(ts, t)
		if size += len(t.Arg); size >= sendBytes || len(ts) >= sendTasks {
			execute(ctx, ex, ts...)
			ts, size = nil, 0
		}
	}
	if len(ts) > 0 {
		execute(ctx, ex, ts...)
	}
	return f
}

// progressSteps is how many Progress calls a MapAsync with the default
// chunk makes at least (if it has as many items).
const progressSteps = 100

// progressFunc returns the function a MapAsync of total items calls with
// the number of items of each chunk done, which calls the Progress
// callbacks of cbs through run, unless stopped reports true by then (the
// Map failed); nil if there are none. The count is kept by the callbacks
// themselves, which run one at a time in the order given, so that done
// only grows.
func progressFunc[T any](cbs []Callback[T], total int, run func(func()), stopped func() bool) func(n int) {
	var fns []func(done, total int)
	for _, cb := range cbs {
		if cb.Progress != nil {
			fns = append(fns, cb.Progress)
		}
	}
	if len(fns) == 0 {
		return nil
	}
	done := 0 // only the callbacks use it
	return func(n int) {
		run(func() {
			if stopped() {
				return
			}
			done += n
			for _, fn := range fns {
				fn(done, total)
			}
		})
	}
}

// sendBytes and sendTasks bound the chunks of a Map given to the executor
// at once: about what one message to a worker carries.
const (
	sendBytes = 56 << 10
	sendTasks = 256
)

// decodeChunk decodes the results of a chunk into dst, which has the
// chunk's length.
func decodeChunk[Out any](fn string, r TaskResult, dst []Out) error {
	if r.Err != nil {
		descr.Close(r.FDs)
		return r.Err
	}
	got := dst[:0:len(dst)]
	if err := wire.Unmarshal(r.Value, r.FDs, &got); err != nil {
		return fmt.Errorf("mp: decode the results of %s: %w", fn, err)
	}
	if len(got) != len(dst) {
		return fmt.Errorf("%w: %d results for a chunk of %d items of %s", ErrProtocol, len(got), len(dst), fn)
	}
	if len(dst) > 0 && &got[0] != &dst[0] {
		copy(dst, got)
	}
	return nil
}

// defaultChunk is Python's rule for map's chunk size: the items are spread
// over four chunks per worker, rounding up.
func defaultChunk(items, workers int) int {
	if items == 0 {
		return 0
	}
	workers = max(workers, 1)
	chunk, extra := items/(workers*4), items%(workers*4)
	if extra != 0 {
		chunk++
	}
	return chunk
}

func checkCall(ex Executor, name string) {
	if name == "" {
		panic("mp: a zero Func: use the value mp.Register returned")
	}
	if ex == nil {
		panic("mp: a nil Executor (Pool)")
	}
}

// checkChunk panics for a negative chunk size: a mistake, where zero asks
// for the default.
func checkChunk(chunk int) {
	if chunk < 0 {
		panic(fmt.Sprintf("mp: chunk size %d: want 0 (the default) or more", chunk))
	}
}
