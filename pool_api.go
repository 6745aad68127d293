package mp

import (
	"context"
	"fmt"
	"sync/atomic"

	"github.com/mpgo/mp/internal/wire"
)

// Apply runs fn(ctx, arg) in a worker of the pool and returns its result
// (Python: apply). An error or panic in fn comes back as a *RemoteError
// with the worker's stack; a worker that dies running it gives a
// *WorkerDiedError. When ctx ends first, Apply returns an error matching
// ctx's error (and ErrTimeout for a deadline), and the task is stopped: fn's
// context ends, and its worker is killed if fn does not return within a
// short grace period.
//
// A round trip costs a few tens of microseconds; use Map for many small
// items.
func Apply[In, Out any](ctx context.Context, p *Pool, fn Func[In, Out], arg In) (Out, error) {
	f := Submit(ctx, p, fn, arg)
	<-f.done
	return f.val, f.err
}

// Submit gives fn(ctx, arg) to the pool and returns its Future at once
// (Python: apply_async). The callbacks, if any, run in this process when
// the task is done, before the Future becomes ready. ctx bounds the task as
// in Apply. The argument is encoded before Submit returns: handles in it
// may be closed then.
func Submit[In, Out any](ctx context.Context, p *Pool, fn Func[In, Out], arg In, cbs ...Callback[Out]) *Future[Out] {
	checkFunc(fn.name)
	return submit(ctx, p, fn.name, arg, cbs)
}

func submit[In, Out any](ctx context.Context, ex executor, fn string, arg In, cbs []Callback[Out]) *Future[Out] {
	f := newFuture[Out]()
	t, err := newTask(ctx, fn, arg, 0)
	if err != nil {
		var zero Out
		f.complete(zero, err, cbs, ex.later)
		return f
	}
	t.done = func(r taskResult) {
		v, err := decodeResult[Out](fn, r)
		f.complete(v, err, cbs, ex.later)
	}
	ex.run(t)
	return f
}

func decodeResult[Out any](fn string, r taskResult) (Out, error) {
	var out Out
	if r.err != nil {
		closeFDs(r.fds)
		return out, r.err
	}
	if err := wire.Unmarshal(r.value, r.fds, &out); err != nil {
		return out, fmt.Errorf("mp: decode the result of %s: %w", fn, err)
	}
	return out, nil
}

// Map runs fn over every item of in, in the pool's workers, and returns the
// results in the order of in (Python: map). The items travel in chunks of
// chunk items, each one task for a worker; chunk zero or less applies
// Python's rule (four chunks per worker). The first item to fail fails the
// whole Map with its error; chunks not yet sent to a worker are dropped
// (those already sent run, their results unused). An empty in
// gives an empty result.
//
// Python's starmap is Map over a struct: register a function taking a
// struct with one field per argument, and pass a slice of them.
func Map[In, Out any](ctx context.Context, p *Pool, fn Func[In, Out], in []In, chunk int) ([]Out, error) {
	f := MapAsync(ctx, p, fn, in, chunk)
	<-f.done
	return f.val, f.err
}

// MapAsync is Map returning at once with a Future (Python: map_async).
// The callbacks, if any, get the whole result or the first error.
func MapAsync[In, Out any](ctx context.Context, p *Pool, fn Func[In, Out], in []In, chunk int, cbs ...Callback[[]Out]) *Future[[]Out] {
	checkFunc(fn.name)
	return mapAsync(ctx, p, fn.name, in, chunk, cbs)
}

func mapAsync[In, Out any](ctx context.Context, ex executor, fn string, in []In, chunk int, cbs []Callback[[]Out]) *Future[[]Out] {
	f := newFuture[[]Out]()
	out := make([]Out, len(in))
	if len(in) == 0 {
		f.complete(out, nil, cbs, ex.later)
		return f
	}
	if chunk <= 0 {
		chunk = defaultChunk(len(in), ex.size())
	}
	g := new(taskGroup)
	var left atomic.Int64
	left.Store(int64((len(in) + chunk - 1) / chunk))
	finish := func(err error) {
		if err == nil && left.Add(-1) != 0 {
			return
		}
		if err == nil {
			f.complete(out, nil, cbs, ex.later)
		} else if !g.abandoned.Swap(true) {
			f.complete(nil, err, cbs, ex.later)
		}
	}
	// Chunks go to the pool as soon as a datagram's worth is encoded, so
	// that the workers start while the rest is being encoded.
	var ts []*task
	size := 0
	for a := 0; a < len(in); a += chunk {
		b := min(a+chunk, len(in))
		t, err := newTask(ctx, fn, in[a:b], b-a)
		if err != nil {
			for _, t := range ts {
				closeFDs(t.fds)
			}
			if g.abandoned.Swap(true) {
				return f // an earlier chunk has failed the map already
			}
			f.complete(nil, err, cbs, ex.later)
			return f
		}
		t.group = g
		dst := out[a:b:b]
		t.done = func(r taskResult) { finish(decodeChunk(fn, r, dst)) }
		ts = append(ts, t)
		if size += len(t.arg); size >= batchBytes || len(ts) >= maxBatchTasks {
			ex.run(ts...)
			ts, size = nil, 0
		}
	}
	if len(ts) > 0 {
		ex.run(ts...)
	}
	return f
}

// decodeChunk decodes the results of a chunk into dst, which has the
// chunk's length.
func decodeChunk[Out any](fn string, r taskResult, dst []Out) error {
	if r.err != nil {
		closeFDs(r.fds)
		return r.err
	}
	got := dst[:0:len(dst)]
	if err := wire.Unmarshal(r.value, r.fds, &got); err != nil {
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

func checkFunc(name string) {
	if name == "" {
		panic("mp: a pool was given a zero Func: use the value mp.Register returned")
	}
}
