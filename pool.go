package mp

import (
	"context"
	"fmt"
	"io"
	"sync"
	"sync/atomic"
	"time"
)

// PoolOptions configures a Pool; see NewPool. The zero value asks for
// CPUCount workers started with the program's default start method.
type PoolOptions struct {
	// Processes is the number of worker processes. Zero or less means
	// CPUCount().
	Processes int
	// Initializer, if not nil, runs once in each worker before its first
	// task (Python: initializer, initargs). If it fails, the pool is
	// broken: every task not yet done fails with its error.
	Initializer *Initializer
	// MaxTasksPerChild, if positive, is how many tasks a worker runs
	// before the pool replaces it with a fresh one (Python:
	// maxtasksperchild). A chunk of Map counts as one task, as in Python.
	MaxTasksPerChild int
	// TaskTimeout, if positive, bounds how long a task (each item of a
	// chunk) may run: the task's context ends then, and if the function
	// has not returned a short grace period later, the worker and its
	// process group are killed and the task fails with an error matching
	// ErrTimeout and context.DeadlineExceeded. A task's own context
	// deadline works the same way.
	TaskTimeout time.Duration
	// StartMethod says how workers are started; empty means the program's
	// default. Forkserver makes starting the pool and replacing workers
	// cheap. With Goroutine the workers are goroutines of this process:
	// deadlines and Terminate then only cancel contexts, and a task that
	// ignores its context keeps its worker, and the tasks sent to it,
	// until it returns.
	StartMethod StartMethod
	// Stdout and Stderr receive the workers' standard output and error, as
	// for Process. If nil, workers write to this process's own. What a
	// task printed reaches these writers before its result reaches the
	// caller (for a writer that is not an *os.File, the pool copies the
	// worker's pipe when results arrive).
	Stdout io.Writer
	Stderr io.Writer
}

// Initializer is a registered function and its argument, run once in every
// worker of a Pool. Make one with NewInitializer.
type Initializer struct {
	fn     string
	encode func() ([]byte, []int, error)
}

// NewInitializer returns an initializer that calls fn(ctx, arg) in each
// worker before its first task. The argument is encoded for each worker,
// so handles inside it reach every worker.
func NewInitializer[In, Out any](fn Func[In, Out], arg In) *Initializer {
	if fn.name == "" {
		panic("mp: NewInitializer with a zero Func: use the value mp.Register returned")
	}
	return &Initializer{fn: fn.name, encode: func() ([]byte, []int, error) { return encodeArg(arg) }}
}

// Pool is a set of worker processes that run registered functions (Python:
// multiprocessing.Pool). Give it work with Apply, Submit, Map, MapAsync,
// Imap and ImapUnordered; Python's starmap is Map over a struct argument.
//
// A worker that dies while it runs a task — killed by a signal, by the OOM
// killer, by os.Exit or a crash — fails that task alone, with a
// *WorkerDiedError; the tasks queued behind it run on the other workers,
// and the pool starts a replacement. A task past its deadline or its
// context's cancellation gets its worker killed, with the worker's process
// group, after a short grace period. Every worker dies with the pool's
// process, however that process ends.
//
// Tasks are sent to workers in batches over a Unix socket per worker, and
// results come back in batches: a trivial task costs a few microseconds.
// A Pool is safe for concurrent use. Close or Terminate it, then Wait, to
// release its processes.
type Pool struct {
	n        int
	timeout  time.Duration
	maxTasks int
	method   StartMethod
	init     *Initializer
	stdout   io.Writer
	stderr   io.Writer
	// copiesOutput says that a worker's output reaches stdout or stderr
	// through a copying goroutine: results then wait for it.
	copiesOutput bool
	wg           sync.WaitGroup // every goroutine of the pool
	exited       chan struct{}  // closed once stopped and every worker is gone
	cb           callbackRunner
	workerNames  int

	// mu guards everything below, and the executor fields of the tasks.
	mu       sync.Mutex
	state    poolState
	broken   error
	queue    taskQueue
	workers  []*worker
	starting int
	nextID   uint64
	avgNanos float64
	exitDone bool
	dirty    []*worker   // workers with something to send
	hasDirty atomic.Bool // dirty is not empty (read without the lock)
}

type poolState int

const (
	poolRunning poolState = iota
	poolClosed
	poolTerminated
)

// errTerminated fails the work a Terminate cut short.
var errTerminated = fmt.Errorf("%w: terminated", ErrPoolClosed)

// NewPool starts a pool of worker processes. It returns once the workers
// are started, without waiting for them to be ready: tasks given before
// then wait for them.
func NewPool(opts PoolOptions) (*Pool, error) {
	checkNotStrayChild()
	method, err := opts.StartMethod.resolve()
	if err != nil {
		return nil, err
	}
	if opts.Processes <= 0 {
		opts.Processes = CPUCount()
	}
	p := &Pool{
		n: opts.Processes, timeout: opts.TaskTimeout, maxTasks: opts.MaxTasksPerChild,
		method: method, init: opts.Initializer, stdout: opts.Stdout, stderr: opts.Stderr,
		exited: make(chan struct{}), copiesOutput: copied(opts.Stdout) || copied(opts.Stderr),
	}
	p.cb.init()
	go p.cb.run(p.exited) // not in p.wg: see waitCallbacks
	var first []*worker
	for range p.n {
		w, err := p.newWorker()
		if err != nil {
			p.mu.Lock()
			for _, w := range first {
				w.kill()
			}
			p.state = poolTerminated
			p.checkExitedLocked()
			p.mu.Unlock()
			p.wg.Wait()
			<-p.cb.stopped
			return nil, err
		}
		first = append(first, w)
		p.mu.Lock()
		p.workers = append(p.workers, w)
		p.mu.Unlock()
		w.startGoroutines()
	}
	return p, nil
}

// Processes returns the number of workers the pool keeps running.
func (p *Pool) Processes() int { return p.n }

// size implements executor.
func (p *Pool) size() int { return p.n }

// later implements executor.
func (p *Pool) later(fn func()) { p.cb.add(fn) }

// goroutine runs fn in a goroutine that Wait and Terminate join.
func (p *Pool) goroutine(fn func()) {
	p.wg.Add(1)
	go func() {
		defer p.wg.Done()
		fn()
	}()
}

// Close stops the pool from taking new work (Python: close): work already
// given still runs, then the workers exit. Giving work afterwards fails
// with ErrPoolClosed. Close is safe to call twice, and after Terminate.
func (p *Pool) Close() error {
	p.mu.Lock()
	if p.state == poolRunning {
		p.state = poolClosed
	}
	p.stopIdleLocked()
	p.checkExitedLocked()
	p.mu.Unlock()
	p.finish(nil)
	return nil
}

// Terminate stops the pool now (Python: terminate): every worker is killed
// with its process group, and every task not yet done fails with an error
// matching ErrPoolClosed. It returns once the workers are gone and the
// callbacks already due have run (when called from a callback, once the
// workers are gone). It is safe to call twice.
func (p *Pool) Terminate() error {
	p.mu.Lock()
	p.state = poolTerminated
	var ds []delivery
	for t := p.queue.pop(); t != nil; t = p.queue.pop() {
		ds = p.resolveLocked(ds, t, taskResult{err: errTerminated})
	}
	for _, w := range p.workers {
		for _, t := range w.inflight {
			ds = p.resolveLocked(ds, t, taskResult{err: errTerminated})
		}
		w.kill()
	}
	p.checkExitedLocked()
	p.mu.Unlock()
	p.finish(ds)
	<-p.exited
	p.wg.Wait()
	return p.waitCallbacks(context.Background())
}

// waitCallbacks waits for the callback goroutine to run the callbacks due
// and end, or for ctx's end. Called from a callback, it returns at once:
// the callback goroutine cannot end before the callback that waits for it.
func (p *Pool) waitCallbacks(ctx context.Context) error {
	if p.cb.current() {
		return nil
	}
	select {
	case <-p.cb.stopped:
		return nil
	case <-ctx.Done():
		return ctx.Err()
	}
}

// Wait waits for the workers of a closed or terminated pool to exit, and
// for the callbacks due to run (Python: join); called from a callback, it
// does not wait for the callbacks. On a pool that is still
// running it returns ErrPoolRunning at once. If ctx ends first, it returns
// ctx's error.
func (p *Pool) Wait(ctx context.Context) error {
	p.mu.Lock()
	state := p.state
	p.mu.Unlock()
	if state == poolRunning {
		return ErrPoolRunning
	}
	select {
	case <-p.exited:
	case <-ctx.Done():
		return ctx.Err()
	}
	p.wg.Wait()
	return p.waitCallbacks(ctx)
}

// checkExitedLocked closes exited once the pool is stopped and its last
// worker has gone.
func (p *Pool) checkExitedLocked() {
	if p.exitDone || p.state == poolRunning || len(p.workers) > 0 || p.starting > 0 {
		return
	}
	p.exitDone = true
	close(p.exited)
}

// stopIdleLocked tells the workers to exit once a closed pool has no work
// left.
func (p *Pool) stopIdleLocked() {
	if p.state != poolClosed || p.queue.len() > 0 {
		return
	}
	for _, w := range p.workers {
		for _, t := range w.inflight {
			if t.sent || !t.resolved { // resolved and unsent: the writer drops it
				return
			}
		}
	}
	for _, w := range p.workers {
		w.stopLocked()
	}
}
