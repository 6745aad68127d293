// Package pool is the engine of mp's process pools: the scheduler that
// hands tasks to worker processes, the worker handles and their watchdog,
// the task/result protocol between a pool and its workers, the progress
// page through which a worker says what it runs, and the loop that a
// worker runs in its own process.
//
// It knows nothing of package mp: what it needs from above comes in a
// Config (how to start a worker process, how to turn a function's error and
// a worker's death into the errors callers get), and what it runs are
// Tasks with an Owner to report to.
package pool

import (
	"context"
	"fmt"
	"log/slog"
	"sync"
	"sync/atomic"
	"syscall"
	"time"

	"github.com/mpgo/mp/internal/diag"
	"github.com/mpgo/mp/internal/errs"
	"github.com/mpgo/mp/internal/transport"
)

// Config is what an Engine needs: its size and limits, and from the layer
// above, how to start a worker and how to describe failures.
type Config struct {
	// Workers is the number of worker processes kept running.
	Workers int
	// TaskTimeout, if positive, bounds how long a task (each item of a
	// chunk) may run.
	TaskTimeout time.Duration
	// MaxTasks, if positive, is how many tasks a worker runs before it is
	// replaced.
	MaxTasks int
	// InProcess says that workers are goroutines of this process: they
	// must not change their process group, and cannot be killed.
	InProcess bool
	// SyncOutput says that a worker's output reaches its writer through a
	// copy: results wait until the copy has caught up (Proc.SyncOutput).
	SyncOutput bool
	// Init, if not nil, is the initializer each worker runs first.
	Init *Init
	// Start starts a worker process named name that runs Work on the
	// other ends of tasks and cancels (which Start hands over: the engine
	// closes its copies once Start returns).
	Start func(name string, tasks, cancels *transport.Conn) (Proc, error)
	// RemoteError turns the encoded error a task's function returned (an
	// errs.Remote) into the error its caller gets.
	RemoteError func(r *errs.Remote) error
	// WorkerDied turns the report of a worker's death into the error of
	// the task it was running.
	WorkerDied func(Death) error
}

// Init is a pool's initializer: a registered function and the encoding of
// its argument, made anew for each worker (its handles reach every one).
type Init struct {
	Func   string
	Encode func() ([]byte, []int, error)
}

// Proc is a worker's process as the engine sees it.
type Proc interface {
	Pid() int
	// Done is closed once the process has ended and is reaped.
	Done() <-chan struct{}
	// Kill kills the process (for an in-process worker, cancels it).
	Kill() error
	// SyncOutput copies at once what it wrote to copied output.
	SyncOutput()
	// Exit reports how it ended, once Done is closed.
	Exit() Exit
	// Close releases what is held for it, once it has ended.
	Close() error
}

// Exit is how a worker process ended.
type Exit struct {
	// Code is Python's exitcode: the exit status, or -N after signal N.
	Code int
	// Signal is the signal that ended it, or 0.
	Signal syscall.Signal
	// Stderr is the tail of its standard error, when it was copied.
	Stderr []byte
}

// Death reports a worker that died while it held a task.
type Death struct {
	Pid  int
	Exit Exit
	// ResultLost is set when the task had run to its end but its result
	// died with the worker.
	ResultLost bool
}

// Engine runs tasks in worker processes. Its methods are safe for
// concurrent use.
type Engine struct {
	cfg    Config
	wg     sync.WaitGroup // every goroutine of the engine
	exited chan struct{}  // closed once stopped and every worker is gone
	done   chan struct{}  // closed once exited and wg is done
	names  atomic.Int64   // worker names given

	// mu guards everything below, and the engine's fields of the tasks
	// given to it (see Task).
	mu       sync.Mutex
	state    state
	broken   error
	queue    taskQueue
	workers  []*worker
	starting int
	avgNanos float64
	exitDone bool
	dirty    []*worker   // workers with something to send
	hasDirty atomic.Bool // dirty is not empty (read without the lock)
	notes    []note      // diagnostics to log once the lock is released
	hasNotes atomic.Bool // notes is not empty (read without the lock)
	counts   counts
}

type state int

const (
	running state = iota
	closed
	terminated
)

// errTerminated fails the work a Terminate cut short.
var errTerminated = fmt.Errorf("%w: terminated", errs.ErrPoolClosed)

// New starts an engine with cfg.Workers workers. It returns once the
// workers are started, without waiting for them to be ready: tasks given
// before then wait for them.
func New(cfg Config) (*Engine, error) {
	e := &Engine{cfg: cfg, exited: make(chan struct{}), done: make(chan struct{})}
	go e.awaitDone()
	var first []*worker
	for range e.cfg.Workers {
		w, err := e.newWorker()
		if err != nil {
			e.mu.Lock()
			for _, w := range first {
				w.killLocked()
			}
			e.state = terminated
			e.checkExitedLocked()
			e.mu.Unlock()
			e.wg.Wait()
			return nil, err
		}
		first = append(first, w)
		e.mu.Lock()
		e.addWorkerLocked(w)
		e.mu.Unlock()
		w.startGoroutines()
	}
	e.finish(nil)
	return e, nil
}

// addWorkerLocked adds a worker just started to the engine's.
func (e *Engine) addWorkerLocked(w *worker) {
	e.workers = append(e.workers, w)
	e.counts.started++
	e.noteLocked(slog.LevelDebug, "mp: pool worker started", "worker", w.name, "worker_pid", w.pid)
}

// Size returns the number of workers the engine keeps running.
func (e *Engine) Size() int { return e.cfg.Workers }

// Done returns a channel closed once the engine has stopped, its workers
// are gone and its goroutines have ended: it delivers nothing more.
func (e *Engine) Done() <-chan struct{} { return e.done }

// awaitDone closes done once the engine is done.
func (e *Engine) awaitDone() {
	<-e.exited
	e.wg.Wait()
	close(e.done)
}

// goroutine runs fn in a goroutine that Wait and Terminate join.
func (e *Engine) goroutine(fn func()) {
	e.wg.Add(1)
	go func() {
		defer e.wg.Done()
		fn()
	}()
}

// Close stops the engine from taking new work: work already given still
// runs, then the workers exit. Close is safe to call twice, and after
// Terminate.
func (e *Engine) Close() {
	e.mu.Lock()
	if e.state == running {
		e.state = closed
	}
	e.stopIdleLocked()
	e.checkExitedLocked()
	e.mu.Unlock()
	e.finish(nil)
}

// Terminate stops the engine now: every worker is killed with its process
// group, and every task not yet done fails with an error matching
// errs.ErrPoolClosed. It returns once the workers are gone and the engine's
// goroutines have ended. It is safe to call twice.
func (e *Engine) Terminate() {
	e.mu.Lock()
	e.state = terminated
	var ds []delivery
	for t := e.queue.pop(); t != nil; t = e.queue.pop() {
		ds = e.resolveLocked(ds, t, Result{Err: errTerminated})
	}
	for _, w := range e.workers {
		for _, t := range w.inflight {
			ds = e.resolveLocked(ds, t, Result{Err: errTerminated})
		}
		w.killLocked()
	}
	e.checkExitedLocked()
	e.mu.Unlock()
	e.finish(ds)
	<-e.exited
	e.wg.Wait()
}

// Wait waits for the workers of a closed or terminated engine to exit and
// its goroutines to end. On an engine that is still running it returns
// errs.ErrPoolRunning at once. If ctx ends first, it returns ctx's error.
func (e *Engine) Wait(ctx context.Context) error {
	e.mu.Lock()
	st := e.state
	e.mu.Unlock()
	if st == running {
		return errs.ErrPoolRunning
	}
	select {
	case <-e.exited:
	case <-ctx.Done():
		return ctx.Err()
	}
	e.wg.Wait()
	return nil
}

// checkExitedLocked closes exited once the engine is stopped and its last
// worker has gone.
func (e *Engine) checkExitedLocked() {
	if e.exitDone || e.state == running || len(e.workers) > 0 || e.starting > 0 {
		return
	}
	e.exitDone = true
	close(e.exited)
}

// stopIdleLocked tells the workers to exit once a closed engine has no
// work left.
func (e *Engine) stopIdleLocked() {
	if e.state != closed || e.queue.len() > 0 {
		return
	}
	for _, w := range e.workers {
		for _, t := range w.inflight {
			if t.sent || (!t.resolved && t.Owner.Wanted()) { // unsent and unwanted: the writer drops it
				return
			}
		}
	}
	for _, w := range e.workers {
		w.stopLocked()
	}
}

// drainTimeout bounds how long the reader of a worker that has exited goes
// on reading what it sent before: a descriptor of the socket kept open
// elsewhere must not keep it waiting for ever.
const drainTimeout = time.Second

// Running returns how many workers are running a task now, as their
// progress pages say.
func (e *Engine) Running() int {
	e.mu.Lock()
	defer e.mu.Unlock()
	n := 0
	for _, w := range e.workers {
		if w.prog.read().Task != 0 {
			n++
		}
	}
	return n
}

// note is a diagnostic for the logger given to mp.SetLogger, kept until
// the engine's lock is released: the logger is the program's, and may be
// slow, or use the pool.
type note struct {
	level slog.Level
	msg   string
	args  []any
}

// noteLocked keeps a diagnostic for finish to log. The engine's mutex is
// held.
func (e *Engine) noteLocked(level slog.Level, msg string, args ...any) {
	e.notes = append(e.notes, note{level, msg, args})
	e.hasNotes.Store(true)
}

// logNotes logs the diagnostics kept, outside the lock.
func (e *Engine) logNotes() {
	e.mu.Lock()
	notes := e.notes
	e.notes = nil
	e.hasNotes.Store(false)
	e.mu.Unlock()
	for _, n := range notes {
		diag.Logger().Log(context.Background(), n.level, n.msg, n.args...)
	}
}
