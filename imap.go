package mp

import (
	"context"
	"fmt"
	"iter"
	"sync"
	"time"

	"github.com/mpgo/mp/internal/errs"
)

// ImapOptions tunes Imap and ImapUnordered. The zero value suits most
// work.
type ImapOptions struct {
	// Chunk is how many items travel as one task. Zero adapts it
	// (see Imap); Python's default is 1, which costs a round trip to a
	// worker per item. A negative Chunk panics.
	Chunk int
	// ReadAhead bounds how many items are read from the input and given to
	// the pool before their results are taken. Zero means 64 per worker,
	// or four chunks per worker if that is more; a negative ReadAhead
	// panics. Python reads the whole input at once.
	ReadAhead int
	// Timeout, if positive, bounds each wait for the next result of Imap
	// (Python: next(timeout)): when it passes, the iteration yields the
	// awaited item's index with an error matching ErrTimeout and
	// context.DeadlineExceeded, and if the loop goes on, waits again for
	// the same item, which comes again with its outcome. ImapUnordered
	// ignores it.
	Timeout time.Duration
}

// Imap runs fn over the items of in, in the pool's workers, and yields
// each item's index in in with its outcome, in the order of in (Python:
// imap):
//
//	for i, r := range mp.Imap(ctx, p, f, slices.Values(xs), mp.ImapOptions{}) {
//		if r.Err != nil {
//			log.Printf("item %d: %v", i, r.Err)
//			continue
//		}
//		use(r.Value)
//	}
//
// An item's error is its own (a *RemoteError for fn's error or panic); a
// worker that dies, or a task killed at its deadline, fails the items of
// its chunk. The input is read lazily, in the goroutine that ranges over
// the results, at most ReadAhead items ahead of the result being waited
// for. By default the first items go one by one, so that the first
// results come at once, and then chunks grow while items are quick, up to
// about 5 ms of a worker's time each (at most 1024 items, 1 MiB encoded,
// and four chunks per worker within ReadAhead): a stream of small items
// then costs about what Map costs, and slow items still go one by one.
//
// If ctx ends, no more of the input is read but one item, and every item
// read is yielded: with its result if it was done, else with an error
// matching ctx's error (and ErrTimeout for a deadline). The one more item
// tells the loop where the input stopped, unless the input had ended.
// Stopping the loop drops the tasks not yet sent to a worker (those
// already sent run, their results unused).
func Imap[In, Out any](ctx context.Context, ex Executor, fn Func[In, Out], in iter.Seq[In], opts ImapOptions) iter.Seq2[int, Outcome[Out]] {
	checkCall(ex, fn.name)
	return imap[In, Out](ctx, ex, fn.name, in, opts, true)
}

// ImapUnordered is Imap yielding the outcomes as they come, in any order
// (Python: imap_unordered); the index says which item each one is.
func ImapUnordered[In, Out any](ctx context.Context, ex Executor, fn Func[In, Out], in iter.Seq[In], opts ImapOptions) iter.Seq2[int, Outcome[Out]] {
	checkCall(ex, fn.name)
	return imap[In, Out](ctx, ex, fn.name, in, opts, false)
}

// imapChunk is a chunk of an iteration: the index of its first item, and
// then its items' outcomes.
type imapChunk[Out any] struct {
	done  chan struct{}
	first int
	out   []Outcome[Out]
}

// imapRun is the state of one iteration, used by the goroutine that
// ranges over it, but for finished, which the goroutines finishing chunks
// fill.
type imapRun[In, Out any] struct {
	ctx       context.Context
	ex        Executor
	fn        string
	readAhead int // as asked for; 0 for the default
	ordered   bool
	size      chunkSizer
	group     *taskGroup
	pending   []*imapChunk[Out] // submitted, in input order (ordered)
	finished  finishedChunks[Out]
	read      int // items read from the input
	inFlight  int // items submitted and not yet yielded
	chunks    int // chunks submitted and not yet yielded
	exhausted bool
}

func imap[In, Out any](ctx context.Context, ex Executor, fn string, in iter.Seq[In], opts ImapOptions, ordered bool) iter.Seq2[int, Outcome[Out]] {
	checkChunk(opts.Chunk)
	if opts.ReadAhead < 0 || opts.Timeout < 0 {
		panic(fmt.Sprintf("mp: ImapOptions ReadAhead %d, Timeout %v: want 0 (the default) or more", opts.ReadAhead, opts.Timeout))
	}
	workers := max(1, ex.Parallelism())
	return func(yield func(int, Outcome[Out]) bool) {
		r := &imapRun[In, Out]{ctx: ctx, ex: ex, fn: fn, readAhead: max(0, opts.ReadAhead), ordered: ordered,
			size: chunkSizer{fixed: max(0, opts.Chunk), workers: workers}, group: new(taskGroup),
			finished: finishedChunks[Out]{ready: make(chan struct{}, 1)}}
		if r.readAhead > 0 {
			// Adapted chunks leave room for four per worker.
			r.size.ceil = max(1, r.readAhead/(4*workers))
		}
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

// limit is how many items may be in flight.
func (r *imapRun[In, Out]) limit() int {
	if r.readAhead > 0 {
		return max(r.readAhead, r.size.fixed)
	}
	return max(64*r.size.workers, 4*r.size.workers*r.size.next())
}

// fill reads items and submits chunks until ReadAhead items are out. Once
// ctx has ended, it reads one item more, which fails with ctx's error, and
// no more.
func (r *imapRun[In, Out]) fill(next func() (In, bool)) {
	var ts []*Task
	for !r.exhausted && (r.chunks == 0 || r.inFlight+r.size.next() <= r.limit()) {
		n := r.size.next()
		if r.ctx.Err() != nil {
			n, r.exhausted = 1, true
		}
		items := make([]In, 0, n)
		for len(items) < n {
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

// newChunk makes the task of a chunk; a chunk that cannot be encoded, or
// that comes after ctx ended, is finished with its error at once, and
// newChunk returns nil.
func (r *imapRun[In, Out]) newChunk(items []In) *Task {
	c := &imapChunk[Out]{done: make(chan struct{}), first: r.read, out: make([]Outcome[Out], len(items))}
	r.read += len(items)
	r.inFlight += len(items)
	r.chunks++
	if r.ordered {
		r.pending = append(r.pending, c)
	}
	finish := func(res TaskResult) {
		decodeEach(r.fn, res, c.out)
		close(c.done)
		if !r.ordered {
			r.finished.add(c)
		}
	}
	if r.ctx.Err() != nil {
		finish(TaskResult{Err: ctxTaskErr(r.fn, r.ctx)})
		return nil
	}
	t, err := newEachTask(r.ctx, r.fn, items, finish)
	if err != nil {
		finish(TaskResult{Err: err})
		return nil
	}
	r.size.encoded(len(items), len(t.Arg))
	r.group.add(t)
	return t
}

// wait returns the next chunk to yield: the oldest (ordered) or the first
// finished. ok is false when the iteration must stop. It need not watch
// ctx: every task submitted watches it, and is finished when it ends.
func (r *imapRun[In, Out]) wait(timeout time.Duration, yield func(int, Outcome[Out]) bool) (*imapChunk[Out], bool) {
	if !r.ordered {
		return r.finished.take(), true
	}
	c := r.pending[0]
	if timeout > 0 && !waitTimed(c, timeout, yield) {
		return nil, false
	}
	<-c.done
	r.pending[0] = nil
	r.pending = r.pending[1:]
	return c, true
}

// waitTimed waits for c, yielding a timeout for its first item each time
// timeout passes, until c is done (true) or the loop stops (false).
func waitTimed[Out any](c *imapChunk[Out], timeout time.Duration, yield func(int, Outcome[Out]) bool) bool {
	timer := time.NewTimer(timeout)
	defer timer.Stop()
	for {
		select {
		case <-c.done:
			return true
		case <-timer.C:
			if !yield(c.first, Outcome[Out]{Err: errs.WithContext(ErrTimeout, context.DeadlineExceeded)}) {
				return false
			}
			timer.Reset(timeout)
		}
	}
}

// yieldChunk yields the outcomes of a chunk's items.
func (r *imapRun[In, Out]) yieldChunk(c *imapChunk[Out], yield func(int, Outcome[Out]) bool) bool {
	r.inFlight -= len(c.out)
	r.chunks--
	r.size.finished(len(c.out), time.Now())
	for i, o := range c.out {
		if !yield(c.first+i, o) {
			return false
		}
	}
	return true
}

// finishedChunks is the list of chunks finished and not yet taken, for
// ImapUnordered.
type finishedChunks[Out any] struct {
	// mu guards list.
	mu    sync.Mutex
	list  []*imapChunk[Out]
	ready chan struct{} // holds a token while list may not be empty
}

func (f *finishedChunks[Out]) add(c *imapChunk[Out]) {
	f.mu.Lock()
	f.list = append(f.list, c)
	f.mu.Unlock()
	select {
	case f.ready <- struct{}{}:
	default:
	}
}

// take waits for a finished chunk and returns it.
func (f *finishedChunks[Out]) take() *imapChunk[Out] {
	for {
		f.mu.Lock()
		if len(f.list) > 0 {
			c := f.list[0]
			f.list[0] = nil
			f.list = f.list[1:]
			f.mu.Unlock()
			return c
		}
		f.mu.Unlock()
		<-f.ready
	}
}
