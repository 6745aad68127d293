package mp

import (
	"context"
	"errors"
	"fmt"
	"io"
	"os"
	"time"

	"github.com/mpgo/mp/internal/callbacks"
	"github.com/mpgo/mp/internal/errs"
	"github.com/mpgo/mp/internal/pool"
	"github.com/mpgo/mp/internal/proc"
	"github.com/mpgo/mp/internal/transport"
)

// PoolOptions configures a Pool; see NewPool. The zero value asks for
// CPUCount workers started with the program's default start method.
type PoolOptions struct {
	// Processes is the number of worker processes. Zero means
	// CPUCount(); a negative number is a programming error, and NewPool
	// panics (Python raises ValueError).
	Processes int
	// Initializer, if not nil, runs once in each worker before its first
	// task (Python: initializer, initargs). If it fails, the pool is
	// broken: every task not yet done fails with its error.
	Initializer *Initializer
	// MaxTasksPerChild, if positive, is how many tasks a worker runs
	// before the pool replaces it with a fresh one (Python:
	// maxtasksperchild). A chunk of Map counts as one task, as in Python.
	// Zero means no limit; NewPool panics on a negative number.
	MaxTasksPerChild int
	// TaskTimeout, if positive, bounds how long a task (each item of a
	// chunk) may run: the task's context ends then, and if the function
	// has not returned a short grace period later, the worker and its
	// process group are killed and the task fails with an error matching
	// ErrTimeout and context.DeadlineExceeded. A task's own context
	// deadline works the same way. Zero means no limit; NewPool panics on
	// a negative duration.
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

// check panics if a number in o is out of range: a misuse, like an
// unregistered function, rather than a condition a program can meet at run
// time.
func (o *PoolOptions) check() {
	switch {
	case o.Processes < 0:
		panic(fmt.Sprintf("mp: NewPool with Processes %d: want 0 (CPUCount) or more", o.Processes))
	case o.MaxTasksPerChild < 0:
		panic(fmt.Sprintf("mp: NewPool with MaxTasksPerChild %d: want 0 (no limit) or more", o.MaxTasksPerChild))
	case o.TaskTimeout < 0:
		panic(fmt.Sprintf("mp: NewPool with TaskTimeout %v: want 0 (no limit) or more", o.TaskTimeout))
	}
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
// release its processes. A Pool is an Executor.
type Pool struct {
	e         *pool.Engine
	method    StartMethod
	stdout    io.Writer
	stderr    io.Writer
	callbacks *callbacks.Runner
}

// pooledTask is a task's form in a Pool's engine, and the engine.
type pooledTask struct {
	e  *pool.Engine
	pt pool.Task
}

// NewPool starts a pool of worker processes. It returns once the workers
// are started, without waiting for them to be ready: tasks given before
// then wait for them. It panics if a number in opts is out of range (see
// PoolOptions), and returns an error for an unknown or unsupported start
// method.
func NewPool(opts PoolOptions) (*Pool, error) {
	opts.check()
	proc.CheckNotStrayChild()
	method, err := opts.StartMethod.resolve()
	if err != nil {
		return nil, err
	}
	if opts.Processes == 0 {
		opts.Processes = CPUCount()
	}
	p := &Pool{method: method, stdout: opts.Stdout, stderr: opts.Stderr}
	cfg := pool.Config{
		Workers: opts.Processes, TaskTimeout: opts.TaskTimeout, MaxTasks: opts.MaxTasksPerChild,
		InProcess: method == Goroutine, SyncOutput: copied(opts.Stdout) || copied(opts.Stderr),
		Start: p.startWorker, RemoteError: func(r *errs.Remote) error { return remoteError(r) },
		WorkerDied: workerDied,
	}
	if in := opts.Initializer; in != nil {
		cfg.Init = &pool.Init{Func: in.fn, Encode: in.encode}
	}
	if p.e, err = pool.New(cfg); err != nil {
		return nil, err
	}
	p.callbacks = callbacks.New(p.e.Done())
	return p, nil
}

// Processes returns the number of workers the pool keeps running.
func (p *Pool) Processes() int { return p.e.Size() }

// Parallelism implements Executor: the number of workers.
func (p *Pool) Parallelism() int { return p.e.Size() }

// Execute implements Executor: it queues the tasks for the workers. A task
// given to a worker that then dies before the task ran is run again, on
// another worker, up to three attempts in all (counting t.Attempt); a task
// whose argument holds more than 200 handles fails at once.
func (p *Pool) Execute(ts ...*Task) {
	pts := make([]*pool.Task, len(ts))
	for i, t := range ts {
		b := &pooledTask{e: p.e, pt: pool.Task{ID: t.ID, Func: t.Func, Arg: t.Arg, FDs: t.FDs, Items: t.Items,
			Deadline: t.Deadline, Attempt: t.Attempt, Owner: poolOwner{t}}}
		t.inPool.Store(b)
		pts[i] = &b.pt
	}
	p.e.Run(pts...)
}

// Cancel implements Executor. A task that is still wanted is first
// finished with an error matching context.Canceled (mp's own calls finish
// a task before they cancel it; an executor that forwards tasks made with
// NewTask may not). Then a task not yet sent to a worker is dropped, and a
// running one has its context cancelled, its worker killed with its
// process group if it does not return within a short grace period. Cancel
// of a task given to another executor, or to none yet, only finishes it.
func (p *Pool) Cancel(t *Task) {
	t.Finish(TaskResult{Err: fmt.Errorf("mp: task %s cancelled: %w", t.Func, context.Canceled)})
	if b := t.inPool.Load(); b != nil && b.e == p.e {
		p.e.Cancel(&b.pt)
	}
}

// RunCallback implements Executor: fn runs in a goroutine of the pool, after
// the callbacks given before it.
func (p *Pool) RunCallback(fn func()) { p.callbacks.Add(fn) }

// poolOwner is a Task as the owner of the engine's form of it.
type poolOwner struct{ t *Task }

func (o poolOwner) Wanted() bool { return o.t.Wanted() }

func (o poolOwner) Deliver(r pool.Result) {
	o.t.Finish(TaskResult{Value: r.Value, FDs: r.FDs, Err: r.Err})
}

// Close stops the pool from taking new work (Python: close): work already
// given still runs, then the workers exit. Giving work afterwards fails
// with ErrPoolClosed. Close is safe to call twice, and after Terminate.
func (p *Pool) Close() error {
	p.e.Close()
	return nil
}

// Terminate stops the pool now (Python: terminate): every worker is killed
// with its process group, and every task not yet done fails with an error
// matching ErrPoolClosed. It returns once the workers are gone. Callbacks
// still due run afterwards, one at a time as always: Wait waits for them.
// Terminate may be called from a callback, or from a goroutine that a
// callback waits for. It is safe to call twice.
func (p *Pool) Terminate() error {
	p.e.Terminate()
	return nil
}

// Wait waits for the workers of a closed or terminated pool to exit, and
// for the callbacks due to run (Python: join). On a pool that is still
// running it returns ErrPoolRunning at once. If ctx ends first, it returns
// ctx's error. Called from a callback, or from a goroutine that a callback
// waits for, Wait cannot return before ctx ends, since it waits for that
// callback too: a callback that must stop its pool calls Close or
// Terminate.
func (p *Pool) Wait(ctx context.Context) error {
	if err := p.e.Wait(ctx); err != nil {
		return err
	}
	return p.callbacks.Wait(ctx)
}

// startWorker starts a worker process running the engine's loop on tasks
// and cancels.
func (p *Pool) startWorker(name string, tasks, cancels *transport.Conn) (pool.Proc, error) {
	arg := poolWorkerArg{Tasks: &Conn{t: tasks, readable: true, writable: true},
		Cancels: &Conn{t: cancels, readable: true}, InProcess: p.method == Goroutine}
	wp := Command(poolWorker, arg)
	wp.Name, wp.StartMethod, wp.Stdout, wp.Stderr = name, p.method, p.stdout, p.stderr
	if err := wp.Start(); err != nil {
		return nil, err
	}
	return workerProc{wp}, nil
}

// poolWorker is the function every pool worker runs: the engine's loop.
var poolWorker = Register("mp.pool.worker", func(ctx context.Context, a poolWorkerArg) (struct{}, error) {
	if a.Tasks == nil || a.Cancels == nil {
		return struct{}{}, fmt.Errorf("%w: pool worker started without its sockets", ErrProtocol)
	}
	return struct{}{}, pool.Work(ctx, a.Tasks.t, a.Cancels.t, a.InProcess)
})

// poolWorkerArg is what a worker is started with.
type poolWorkerArg struct {
	// Tasks is the worker's end of its task socket; Cancels of the socket
	// on which the pool cancels tasks.
	Tasks   *Conn
	Cancels *Conn
	// InProcess is set for the Goroutine start method: the worker then
	// shares the pool's process and must not change its process group.
	InProcess bool
}

// workerProc is a worker's Process as the engine sees it.
type workerProc struct{ *Process }

func (w workerProc) Exit() pool.Exit {
	var ee *ExitError
	if err := w.Process.Wait(context.Background()); errors.As(err, &ee) {
		return pool.Exit{Code: ee.Code, Signal: ee.Signal, Stderr: ee.Stderr}
	}
	code, _ := w.Process.ExitCode()
	return pool.Exit{Code: code}
}

// workerDied turns the engine's report of a worker's death into the error
// of its task.
func workerDied(d pool.Death) error {
	return &WorkerDiedError{Pid: d.Pid, Exit: &ExitError{Code: d.Exit.Code, Signal: d.Exit.Signal, Stderr: d.Exit.Stderr}, ResultLost: d.ResultLost}
}

// copied reports whether output given to a Process as w reaches it through
// a copy of a pipe: w is a writer other than an *os.File.
func copied(w io.Writer) bool {
	if w == nil {
		return false
	}
	_, isFile := w.(*os.File)
	return !isFile
}
