package mp

import (
	"context"
	"errors"
	"fmt"
	"io"
	"os"
	"sync"
	"syscall"

	"github.com/mpgo/mp/internal/background"
)

// Process is a function running, or about to run, in another process — the
// Go form of Python's multiprocessing.Process, shaped like os/exec's Cmd:
// set its exported fields, then Start and Wait (or Run).
//
// Every child is reaped by mp as soon as it exits, whether or not anyone
// calls Wait, and every child dies with its parent: when the parent exits
// or is killed, the child's function sees its context cancelled and the
// child exits within a fraction of a second.
//
// A Process's methods are safe for concurrent use.
type Process struct {
	// Name is the process's name, as the child sees it in Current().Name. If
	// empty, Start sets it to "Process-N" (N counts the processes this one
	// has created; a grandchild is "Process-N:M").
	Name string
	// Daemon marks a daemonic process: it may not start processes of its
	// own. Every child of mp dies with its parent, daemonic or not; unlike
	// Python, Go cannot join non-daemonic children when main returns, so
	// Wait for the ones you need before main returns.
	Daemon bool
	// Env is the child's environment, as "key=value" strings. If nil, the
	// child inherits this process's environment.
	Env []string
	// Dir is the child's working directory. If empty, it inherits this
	// process's.
	Dir string
	// Stdout and Stderr receive the child's standard output and error. If
	// nil, the child writes to this process's own. Any other writer gets the
	// output line by line, written from a goroutine of mp's: a writer shared
	// by several processes must be safe for concurrent use. The child's
	// standard input is the null device, as in Python.
	Stdout io.Writer
	Stderr io.Writer
	// StartMethod says how the child is started; empty means the program's
	// default (see SetStartMethod).
	StartMethod StartMethod

	fn     string
	encode func() ([]byte, []int, error)

	// mu guards everything below.
	mu       sync.Mutex
	started  bool
	closed   bool
	pid      int
	runner   runner
	done     chan struct{} // closed when the process has ended and is reaped
	exitCode int
	waitErr  error
	result   *resultMsg
	resFDs   []int
}

// runner is a started process, however it was started.
type runner interface {
	// signal sends sig (SIGTERM, SIGKILL) unless the process has ended.
	signal(sig syscall.Signal) error
	// finished blocks until the process has ended, then reports its exit
	// code, result and the error Wait returns.
	finished(name string) (code int, result *resultMsg, resFDs []int, err error)
	// setName gives the name under which the process's log records are
	// passed on.
	setName(name string)
	// syncOutput copies at once what the process wrote to the pipes that
	// mp copies into writers.
	syncOutput()
}

// Command returns a Process that will run fn(ctx, arg) in a new process.
// The argument is encoded when the process starts.
func Command[In, Out any](fn Func[In, Out], arg In) *Process {
	if fn.name == "" {
		panic("mp: Command with a zero Func: use the value mp.Register returned")
	}
	return &Process{fn: fn.name, encode: func() ([]byte, []int, error) { return encodeArg(arg) }}
}

// Start starts the process and returns without waiting for it. It returns
// ErrAlreadyStarted on a second call, ErrDaemonChildren in a daemonic
// process, and ErrClosed after Close.
func (p *Process) Start() error {
	checkNotStrayChild()
	p.mu.Lock()
	defer p.mu.Unlock()
	switch {
	case p.closed:
		return ErrClosed
	case p.started:
		return ErrAlreadyStarted
	case Current().Daemon:
		return ErrDaemonChildren
	}
	method, err := p.StartMethod.resolve()
	if err != nil {
		return err
	}
	if p.Dir != "" {
		if st, err := os.Stat(p.Dir); err != nil || !st.IsDir() {
			return fmt.Errorf("mp: working directory %q: %w", p.Dir, errors.Join(err, notDirErr(st)))
		}
	}
	id, name := nextIdentity()
	if p.Name == "" {
		p.Name = name
	}
	arg, fds, err := p.encode()
	if err != nil {
		return err
	}
	defer closeFDs(fds)
	sm := &startMsg{Func: p.fn, Arg: arg, ArgFDs: len(fds), Name: p.Name, Identity: id,
		Daemon: p.Daemon, AuthKey: Current().AuthKey, ParentPid: os.Getpid(), StdoutFD: -1, StderrFD: -1,
		LogLevel: int(minLevel())}
	r, pid, err := p.launch(method, sm, fds)
	if err == nil {
		r.setName(p.Name)
	}
	if err != nil {
		return err
	}
	p.started, p.runner, p.pid, p.done = true, r, pid, make(chan struct{})
	addActive(p)
	if background.IsLifetime(p) {
		if c, ok := r.(*child); ok {
			background.Track(pid, c.heldFDs()...)
		}
	}
	p.goFn()(p.await)
	return nil
}

// launch starts the process by method.
func (p *Process) launch(method StartMethod, sm *startMsg, fds []int) (runner, int, error) {
	switch method {
	case Goroutine:
		return startGoroutine(sm, fds)
	case Forkserver:
		if warmable(p.Env) {
			return startWarm(p, sm, fds)
		}
	}
	return startSpawned(p, sm, fds)
}

// goFn returns how to start the goroutines that watch the process: as
// process-lifetime goroutines for a process marked so (see
// background.MarkLifetime), plain ones otherwise.
func (p *Process) goFn() func(func()) {
	if background.IsLifetime(p) {
		return background.Go
	}
	return func(fn func()) { go fn() }
}

// startSpawned starts sm in a freshly spawned child.
func startSpawned(p *Process, sm *startMsg, fds []int) (runner, int, error) {
	c, err := spawnWith(p.Env, p.Dir, childStdio{p.Stdout, p.Stderr}, p.goFn())
	if err != nil {
		return nil, 0, err
	}
	if err := c.start(sm, fds); err != nil {
		c.signal(syscall.SIGKILL) // no effect on a child that has exited
		<-c.done
		// A child that ended by itself before it took its start message
		// (it never reached Main, say) explains the failure better than
		// the send's EPIPE or ErrClosed.
		if ws, ok := exitStatus(c.state); ok && !ws.Signaled() {
			if _, _, rfds, oerr := c.outcome(sm.Name); oerr != nil {
				closeFDs(rfds)
				return nil, 0, fmt.Errorf("%w (start message: %v)", oerr, err)
			}
		}
		return nil, 0, err
	}
	return c, c.pid, nil
}

// await records the outcome once the process has ended.
func (p *Process) await() {
	code, res, resFDs, err := p.runner.finished(p.Name)
	p.mu.Lock()
	p.exitCode, p.result, p.resFDs, p.waitErr = code, res, resFDs, err
	p.mu.Unlock()
	removeActive(p)
	close(p.done)
}

// Wait waits for the process to end (Python: join). It returns nil if the
// function returned normally (or called os.Exit(0)); a *RemoteError if it
// returned an error or panicked; an *ExitError if the process exited with
// another code or was killed by a signal. If ctx ends first, Wait returns
// ctx's error and the process goes on running. Wait may be called any number
// of times, from any goroutine.
func (p *Process) Wait(ctx context.Context) error {
	done, err := p.doneChan()
	if err != nil {
		return err
	}
	select {
	case <-done:
	case <-ctx.Done():
		return ctx.Err()
	}
	p.mu.Lock()
	defer p.mu.Unlock()
	return p.waitErr
}

// Run starts the process and waits for it.
func (p *Process) Run(ctx context.Context) error {
	if err := p.Start(); err != nil {
		return err
	}
	return p.Wait(ctx)
}

func (p *Process) doneChan() (chan struct{}, error) {
	p.mu.Lock()
	defer p.mu.Unlock()
	switch {
	case p.closed:
		return nil, ErrClosed
	case !p.started:
		return nil, ErrNotStarted
	}
	return p.done, nil
}

// Terminate asks the process to stop with SIGTERM (its exit code becomes
// -15 unless its function handles the signal). It does nothing if the
// process has ended.
func (p *Process) Terminate() error { return p.signal(syscall.SIGTERM) }

// Kill stops the process with SIGKILL (exit code -9). It does nothing if the
// process has ended.
func (p *Process) Kill() error { return p.signal(syscall.SIGKILL) }

func (p *Process) signal(sig syscall.Signal) error {
	p.mu.Lock()
	defer p.mu.Unlock()
	switch {
	case p.closed:
		return ErrClosed
	case !p.started:
		return ErrNotStarted
	}
	return p.runner.signal(sig)
}

// Pid returns the process id, or 0 before Start. A process started with the
// Goroutine method has this process's id.
func (p *Process) Pid() int {
	p.mu.Lock()
	defer p.mu.Unlock()
	return p.pid
}

// SyncOutput copies at once to Stdout and Stderr what the process has
// written to them so far, as whole lines (a partial last line waits for its
// end). When Stdout or Stderr is a writer other than an *os.File, the
// child's output reaches it through a goroutine that copies a pipe, which
// is not ordered against messages the child sends on other channels: call
// SyncOutput after receiving a message to see first what the child printed
// before sending it. Wait does this by itself. It does nothing before Start
// or for output that goes to an *os.File directly.
func (p *Process) SyncOutput() {
	p.mu.Lock()
	r := p.runner
	p.mu.Unlock()
	if r != nil {
		r.syncOutput()
	}
}

// Alive reports whether the process has started and not yet ended.
func (p *Process) Alive() bool {
	done := p.Done()
	return done != nil && !isClosed(done)
}

// ExitCode returns Python's exitcode once the process has ended: 0 after a
// normal return, 1 after an error or a panic, the code given to os.Exit, or
// -N after signal N. ok is false while the process has not ended.
func (p *Process) ExitCode() (code int, ok bool) {
	if !p.ended() {
		return 0, false
	}
	p.mu.Lock()
	defer p.mu.Unlock()
	return p.exitCode, true
}

func (p *Process) ended() bool {
	done := p.Done()
	return done != nil && isClosed(done)
}

func isClosed(ch <-chan struct{}) bool {
	select {
	case <-ch:
		return true
	default:
		return false
	}
}

// Done returns a channel that is closed when the process has ended (Python:
// sentinel). Before Start it returns nil, a channel that never becomes ready.
func (p *Process) Done() <-chan struct{} {
	p.mu.Lock()
	defer p.mu.Unlock()
	return p.done
}

// Close releases what the Process holds. It returns ErrStillRunning if the
// process has started and not ended; after a successful Close, the other
// methods return ErrClosed. Close is safe to call twice.
func (p *Process) Close() error {
	p.mu.Lock()
	defer p.mu.Unlock()
	if p.closed {
		return nil
	}
	if p.started {
		select {
		case <-p.done:
		default:
			return ErrStillRunning
		}
	}
	p.closed = true
	closeFDs(p.resFDs)
	p.resFDs = nil
	return nil
}

// takeResult returns the function's encoded result once the process has
// ended, handing over its descriptors.
func (p *Process) takeResult() (*resultMsg, []int) {
	p.mu.Lock()
	defer p.mu.Unlock()
	fds := p.resFDs
	p.resFDs = nil
	return p.result, fds
}

func notDirErr(st os.FileInfo) error {
	if st != nil && !st.IsDir() {
		return errors.New("not a directory")
	}
	return nil
}

var errNoResult = errors.New("mp: the process ended without returning a result")

// exitStatus returns the wait status of a process state, if there is one.
func exitStatus(st *os.ProcessState) (syscall.WaitStatus, bool) {
	if st == nil {
		return 0, false
	}
	ws, ok := st.Sys().(syscall.WaitStatus)
	return ws, ok
}
