package mp

import (
	"bytes"
	"context"
	"fmt"
	"sync"

	"github.com/mpgo/mp/internal/descr"
	"github.com/mpgo/mp/internal/errs"
	"github.com/mpgo/mp/internal/wire"
)

// Outcome is what became of one item given to MapEach, Imap or
// ImapUnordered: the function's result, or the error that kept the item
// from one (then Value is the zero value).
type Outcome[T any] struct {
	Value T
	Err   error
}

// MapEach runs fn over every item of in, on ex, as Map does, and returns
// each item's outcome, in the order of in: one item that fails does not
// fail the others, so a caller can report and retry just the failures.
//
// An error or panic in fn fails its item alone, with a *RemoteError. A
// worker that dies, or a task killed at its deadline, fails the items of
// its chunk (with a *WorkerDiedError, or an error matching ErrTimeout): a
// smaller chunk bounds what one death costs. Chunks are sized as for Map.
// If ctx ends, the items not done by then fail with an error matching
// ctx's error (and ErrTimeout for a deadline), and MapEach returns at once.
// An empty in gives an empty result.
//
// For results as they come, and progress, range over
// ImapUnordered(ctx, ex, fn, slices.Values(in), ImapOptions{}) instead: it
// yields each item's index with its outcome.
func MapEach[In, Out any](ctx context.Context, ex Executor, fn Func[In, Out], in []In, chunk int) []Outcome[Out] {
	checkCall(ex, fn.name)
	checkChunk(chunk)
	out := make([]Outcome[Out], len(in))
	if len(in) == 0 {
		return out
	}
	if chunk <= 0 {
		chunk = defaultChunk(len(in), ex.Parallelism())
	}
	var wg sync.WaitGroup
	var ts []*Task
	size := 0
	for a := 0; a < len(in); a += chunk {
		b := min(a+chunk, len(in))
		dst := out[a:b:b]
		wg.Add(1)
		t, err := newEachTask(ctx, fn.name, in[a:b], func(r TaskResult) {
			decodeEach(fn.name, r, dst)
			wg.Done()
		})
		if err != nil {
			failAll(dst, err)
			wg.Done()
			continue
		}
		ts = append(ts, t)
		if size += len(t.Arg); size >= sendBytes || len(ts) >= sendTasks {
			execute(ctx, ex, ts...)
			ts, size = nil, 0
		}
	}
	if len(ts) > 0 {
		execute(ctx, ex, ts...)
	}
	wg.Wait()
	return out
}

// eachMark starts the argument of a chunk whose items report each its own
// outcome: the head of CBOR tag 28016 ("mp"), around the array of items.
// The array of a plain chunk starts with an array's head, so the two never
// meet.
var eachMark = []byte{0xd9, 0x6d, 0x70}

// eachResult is the result of such a chunk: every item's value (the zero
// value for those that failed) and the failures.
type eachResult[Out any] struct {
	_      struct{} `cbor:",toarray"`
	Values []Out
	Errs   []itemError
}

// itemError is the failure of one item of a chunk.
type itemError struct {
	_    struct{} `cbor:",toarray"`
	Item int
	Err  *errs.Remote
}

// newEachTask makes the task of a chunk under ctx whose items report each
// its own outcome.
func newEachTask[In any](ctx context.Context, fn string, items []In, done func(TaskResult)) (*Task, error) {
	data, fds, err := encodeArg(items)
	if err != nil {
		return nil, err
	}
	arg := make([]byte, 0, len(eachMark)+len(data))
	arg = append(append(arg, eachMark...), data...)
	deadline, _ := ctx.Deadline()
	return NewTask(fn, arg, fds, len(items), deadline, done), nil
}

// cutEachMark reports whether a chunk's argument asks for each item's
// outcome, and returns the array of its items.
func cutEachMark(arg []byte) ([]byte, bool) { return bytes.CutPrefix(arg, eachMark) }

// runEach runs fn over the items of a chunk, in a worker, and encodes
// every item's outcome. An item's error or panic is kept with its index,
// marked as a timeout if the item's own context ended; the chunk fails as
// a whole only when its context ends (the pool cancelled it, or its
// deadline passed), as a task does.
func runEach[In, Out any](ctx context.Context, name string, fn func(context.Context, In) (Out, error), in []In, item func(int) (context.Context, func())) ([]byte, []int, error) {
	res := eachResult[Out]{Values: make([]Out, len(in))}
	for i := range in {
		ictx, done := item(i)
		if err := ctx.Err(); err != nil {
			done()
			return nil, nil, err
		}
		v, err := callRecover(ictx, fn, in[i])
		timedOut := ictx.Err() == context.DeadlineExceeded
		done()
		switch {
		case err == nil:
			res.Values[i] = v
			continue
		case ctx.Err() != nil:
			return nil, nil, err
		case timedOut:
			err = errs.WithContext(errs.ErrTimeout, err)
		}
		res.Errs = append(res.Errs, itemError{Item: i, Err: errs.Describe(name, err)})
	}
	return wire.Marshal(res)
}

// decodeEach sets the outcomes of a chunk's items, dst, from the result of
// its task. An error of the task is the error of every item.
func decodeEach[Out any](fn string, r TaskResult, dst []Outcome[Out]) {
	if r.Err != nil {
		descr.Close(r.FDs)
		failAll(dst, r.Err)
		return
	}
	var res eachResult[Out]
	if err := wire.Unmarshal(r.Value, r.FDs, &res); err != nil {
		failAll(dst, fmt.Errorf("mp: decode the results of %s: %w", fn, err))
		return
	}
	if len(res.Values) != len(dst) {
		failAll(dst, fmt.Errorf("%w: %d results for a chunk of %d items of %s", ErrProtocol, len(res.Values), len(dst), fn))
		return
	}
	for _, e := range res.Errs {
		if e.Item < 0 || e.Item >= len(dst) || e.Err == nil {
			failAll(dst, fmt.Errorf("%w: a bad item error in the results of %s", ErrProtocol, fn))
			return
		}
	}
	for i, v := range res.Values {
		dst[i] = Outcome[Out]{Value: v}
	}
	for _, e := range res.Errs {
		dst[e.Item] = Outcome[Out]{Err: remoteError(e.Err)}
	}
}

// failAll gives every item of dst the error err.
func failAll[Out any](dst []Outcome[Out], err error) {
	for i := range dst {
		dst[i] = Outcome[Out]{Err: err}
	}
}
