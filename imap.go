package mp

import (
	"context"
	"iter"
	"time"

	"github.com/mpgo/mp/internal/errs"
)

// ImapOptions tunes Imap and ImapUnordered. The zero value gives Python's
// defaults.
type ImapOptions struct {
	// Chunk is how many items travel as one task. Zero or less means 1,
	// as in Python.
	Chunk int
	// ReadAhead bounds how many items are read from the input and given to
	// the pool before their results are taken. Zero or less means 64 per
	// worker (at least four chunks per worker). Python reads the whole
	// input at once.
	ReadAhead int
	// Timeout, if positive, bounds each wait for the next result of Imap
	// (Python: next(timeout)): when it passes, the iteration yields an
	// error matching ErrTimeout and context.DeadlineExceeded, and if the
	// loop goes on, waits again for the same item. ImapUnordered ignores
	// it.
	Timeout time.Duration
}

// Imap runs fn over the items of in, in the pool's workers, and yields the
// results in the order of in (Python: imap), each with its error: the
// error of its task (a *RemoteError, a *WorkerDiedError, …) or a timeout
// (see ImapOptions.Timeout). The input is read lazily, in the goroutine
// that ranges over the results, at most ReadAhead items ahead of the
// result being waited for. If ctx ends, the iteration yields ctx's error
// once and stops. Stopping the loop drops the tasks not yet sent
// to a worker (those already sent run, their results unused).
func Imap[In, Out any](ctx context.Context, ex Executor, fn Func[In, Out], in iter.Seq[In], opts ImapOptions) iter.Seq2[Out, error] {
	checkCall(ex, fn.name)
	return imap[In, Out](ctx, ex, fn.name, in, opts, true)
}

// ImapUnordered is Imap yielding the results as they come, in any order
// (Python: imap_unordered).
func ImapUnordered[In, Out any](ctx context.Context, ex Executor, fn Func[In, Out], in iter.Seq[In], opts ImapOptions) iter.Seq2[Out, error] {
	checkCall(ex, fn.name)
	return imap[In, Out](ctx, ex, fn.name, in, opts, false)
}

// imapChunk is a chunk of an iteration, and then its results.
type imapChunk[Out any] struct {
	done chan struct{}
	n    int
	out  []Out
	err  error
}

// imapRun is the state of one iteration.
type imapRun[In, Out any] struct {
	ctx       context.Context
	ex        Executor
	fn        string
	chunk     int
	readAhead int
	ordered   bool
	group     *taskGroup
	pending   []*imapChunk[Out] // submitted, in input order (ordered)
	finished  chan *imapChunk[Out]
	inFlight  int // items submitted and not yet yielded
	chunks    int // chunks submitted and not yet yielded
	exhausted bool
}

func imap[In, Out any](ctx context.Context, ex Executor, fn string, in iter.Seq[In], opts ImapOptions, ordered bool) iter.Seq2[Out, error] {
	chunk := max(1, opts.Chunk)
	readAhead := opts.ReadAhead
	if n := max(1, ex.Parallelism()); readAhead <= 0 {
		readAhead = max(64*n, 4*n*chunk)
	}
	readAhead = max(readAhead, chunk)
	return func(yield func(Out, error) bool) {
		r := &imapRun[In, Out]{ctx: ctx, ex: ex, fn: fn, chunk: chunk, readAhead: readAhead, ordered: ordered, group: new(taskGroup),
			finished: make(chan *imapChunk[Out], (readAhead+chunk-1)/chunk+1)}
		defer r.group.abandon()
		next, stop := iter.Pull(in)
		defer stop()
		for {
			r.fill(next)
			if r.chunks == 0 {
				return
			}
			c, ok := r.wait(opts.Timeout, yield)
			if !ok || !r.yieldChunk(c, yield) {
				return
			}
		}
	}
}

// fill reads items and submits chunks until ReadAhead items are out.
func (r *imapRun[In, Out]) fill(next func() (In, bool)) {
	var ts []*Task
	for !r.exhausted && (r.inFlight+r.chunk <= r.readAhead || r.chunks == 0) {
		items := make([]In, 0, r.chunk)
		for len(items) < r.chunk {
			v, ok := next()
			if !ok {
				r.exhausted = true
				break
			}
			items = append(items, v)
		}
		if len(items) == 0 {
			break
		}
		if t := r.newChunk(items); t != nil {
			ts = append(ts, t)
		}
	}
	if len(ts) > 0 {
		execute(r.ctx, r.ex, ts...)
	}
}

// newChunk makes the task of a chunk; a chunk that cannot be encoded is
// finished with its error at once, and newChunk returns nil.
func (r *imapRun[In, Out]) newChunk(items []In) *Task {
	c := &imapChunk[Out]{done: make(chan struct{}), n: len(items)}
	r.inFlight += c.n
	r.chunks++
	if r.ordered {
		r.pending = append(r.pending, c)
	}
	finish := func(res TaskResult) {
		out := make([]Out, c.n)
		if c.err = decodeChunk(r.fn, res, out); c.err == nil {
			c.out = out
		}
		close(c.done)
		if !r.ordered {
			r.finished <- c
		}
	}
	t, err := newTask(r.ctx, r.fn, items, len(items), finish)
	if err != nil {
		finish(TaskResult{Err: err})
		return nil
	}
	r.group.add(t)
	return t
}

// wait returns the next chunk to yield: the oldest (ordered) or the first
// finished. ok is false when the iteration must stop.
func (r *imapRun[In, Out]) wait(timeout time.Duration, yield func(Out, error) bool) (*imapChunk[Out], bool) {
	var zero Out
	if !r.ordered {
		select {
		case c := <-r.finished:
			return c, true
		case <-r.ctx.Done():
			yield(zero, errs.Deadline(r.ctx.Err()))
			return nil, false
		}
	}
	c := r.pending[0]
	var timer *time.Timer
	var tick <-chan time.Time
	if timeout > 0 {
		timer = time.NewTimer(timeout)
		defer timer.Stop()
		tick = timer.C
	}
	for {
		select {
		case <-c.done:
			r.pending[0] = nil
			r.pending = r.pending[1:]
			return c, true
		case <-r.ctx.Done():
			yield(zero, errs.Deadline(r.ctx.Err()))
			return nil, false
		case <-tick:
			if !yield(zero, errs.WithContext(ErrTimeout, context.DeadlineExceeded)) {
				return nil, false
			}
			timer.Reset(timeout)
		}
	}
}

// yieldChunk yields a chunk's results, or its error once per item.
func (r *imapRun[In, Out]) yieldChunk(c *imapChunk[Out], yield func(Out, error) bool) bool {
	r.inFlight -= c.n
	r.chunks--
	if c.err != nil && r.ctx.Err() != nil {
		var zero Out
		yield(zero, errs.Deadline(r.ctx.Err()))
		return false
	}
	for i := range c.n {
		var v Out
		if c.err == nil {
			v = c.out[i]
		}
		if !yield(v, c.err) {
			return false
		}
	}
	return true
}
