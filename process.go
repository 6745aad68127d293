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
	"github.com/mpgo/mp/internal/descr"
	"github.com/mpgo/mp/internal/proc"
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
	// has created; a grandchild is "Process-N:M"). ps and top show it: the
	// child's command line is "<program>: mp <Name>" (with Forkserver,
	// "<program>: mp warm process") and its comm is Name, cut to 15 bytes.
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

	// settleMu is held while the outcome is recorded (see settle).
	settleMu sync.Mutex

	// mu guards everything below. Start does not hold it while the child
	// starts, so that Pid, Done and Alive answer meanwhile.
	mu       sync.Mutex
	starting chan struct{} // not nil while Start is under way; closed when it ends
	started  bool
	closed   bool
	pid      int
	runner   proc.Runner
	done     chan struct{} // closed when the process has ended and is reaped
	settled  bool          // its outcome is recorded (done is closed)
	exitCode int
	waitErr  error
	result   *proc.Result
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
// ErrAlreadyStarted on a second call (also while the first is under way),
// ErrDaemonChildren in a daemonic process, and ErrClosed after Close.
func (p *Process) Start() error {
	proc.CheckNotStrayChild()
	spec, err := p.beginStart()
	if err != nil {
		return err
	}
	r, err := p.launch(spec)
	p.mu.Lock()
	defer p.mu.Unlock()
	close(p.starting)
	p.starting = nil
	if err != nil {
		return err
	}
	p.started, p.runner, p.pid, p.done = true, r, r.Pid(), make(chan struct{})
	addActive(p)
	spec.Go(p.await)
	return nil
}

// beginStart checks that the process may start, marks it starting, and
// returns what to start.
func (p *Process) beginStart() (*proc.Spec, error) {
	p.mu.Lock()
	defer p.mu.Unlock()
	switch {
	case p.closed:
		return nil, ErrClosed
	case p.started || p.starting != nil:
		return nil, ErrAlreadyStarted
	case Current().Daemon:
		return nil, ErrDaemonChildren
	}
	method, err := p.StartMethod.resolve()
	if err != nil {
		return nil, err
	}
	if p.Dir != "" {
		if st, err := os.Stat(p.Dir); err != nil || !st.IsDir() {
			return nil, fmt.Errorf("mp: working directory %q: %w", p.Dir, errors.Join(err, notDirErr(st)))
		}
	}
	id, name := proc.NextChild()
	if p.Name == "" {
		p.Name = name
	}
	p.starting = make(chan struct{})
	return &proc.Spec{Func: p.fn, Name: p.Name, Identity: id, Daemon: p.Daemon, Env: p.Env, Dir: p.Dir,
		Stdout: p.Stdout, Stderr: p.Stderr, Method: method.proc(), Lifetime: background.IsLifetime(p)}, nil
}

// launch encodes the argument and starts the child.
func (p *Process) launch(spec *proc.Spec) (proc.Runner, error) {
	arg, fds, err := p.encode()
	if err != nil {
		return nil, err
	}
	defer descr.Close(fds)
	spec.Arg, spec.ArgFDs = arg, fds
	r, err := proc.Start(spec)
	var early *proc.EarlyExitError
	if errors.As(err, &early) {
		early.Outcome.Result.Close()
		if oerr := outcomeErr(spec.Name, early.Outcome); oerr != nil {
			return nil, fmt.Errorf("%w (start message: %v)", oerr, early.Send)
		}
		return nil, early.Send
	}
	return r, err
}

// await records the outcome once the process has ended, whether or not
// anyone waits for it.
func (p *Process) await() {
	<-p.runner.Ended()
	p.settle()
}

// settle records the outcome of a process that has ended, unless that is
// done already. Wait calls it too, from the goroutine that waits, rather
// than waiting for await to be woken in turn and to wake it: a goroutine
// woken on another thread costs tens of microseconds here on a busy
// machine, a tenth of a warm start and wait.
func (p *Process) settle() {
	p.settleMu.Lock()
	defer p.settleMu.Unlock()
	p.mu.Lock()
	settled := p.settled
	p.mu.Unlock()
	if settled {
		return
	}
	out := p.runner.Wait()
	err := outcomeErr(p.Name, out)
	p.mu.Lock()
	p.exitCode, p.result, p.waitErr = out.Code, out.Result, err
	p.settled = true
	p.mu.Unlock()
	removeActive(p)
	close(p.done)
}

// outcomeErr is the error Wait returns for a child that ended as out says.
func outcomeErr(name string, out proc.Outcome) error {
	ee := &ExitError{Code: out.Code, Signal: out.Signal, Stderr: out.Stderr}
	switch {
	case out.Result != nil && out.Result.Err != nil && out.Code == 1:
		return remoteError(out.Result.Err)
	case out.Signal != 0:
		return ee
	case !out.Hello:
		return fmt.Errorf("mp: child for %s exited with code %d before running it: it never reached mp.Main(), or it is another build of the program (see its stderr): %w",
			name, out.Code, ee)
	case out.Code != 0:
		return ee
	}
	return nil
}

// Wait waits for the process to end (Python: join). It returns nil if the
// function returned normally (or called os.Exit(0)); a *RemoteError if it
// returned an error or panicked; an *ExitError if the process exited with
// another code or was killed by a signal. If ctx ends first, Wait returns
// ctx's error and the process goes on running. Wait may be called any number
// of times, from any goroutine; called while Start is under way, it waits
// for Start first.
func (p *Process) Wait(ctx context.Context) error {
	done, err := p.doneChan(ctx)
	if err != nil {
		return err
	}
	p.mu.Lock()
	ended := p.runner.Ended()
	p.mu.Unlock()
	select {
	case <-done:
	case <-ended:
		p.settle()
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

// doneChan returns the channel closed when the process has ended, once a
// Start under way has ended, or ctx's error if ctx ends first.
func (p *Process) doneChan(ctx context.Context) (chan struct{}, error) {
	if err := p.awaitStart(ctx); err != nil {
		return nil, err
	}
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

// awaitStart waits for a Start under way to end, or for ctx to end.
func (p *Process) awaitStart(ctx context.Context) error {
	p.mu.Lock()
	starting := p.starting
	p.mu.Unlock()
	if starting == nil {
		return nil
	}
	select {
	case <-starting:
		return nil
	case <-ctx.Done():
		return ctx.Err()
	}
}

// Terminate asks the process to stop with SIGTERM (its exit code becomes
// -15 unless its function handles the signal). It does nothing if the
// process has ended; called while Start is under way, it waits for Start.
func (p *Process) Terminate() error { return p.signal(syscall.SIGTERM) }

// Kill stops the process with SIGKILL (exit code -9). It does nothing if the
// process has ended; called while Start is under way, it waits for Start.
func (p *Process) Kill() error { return p.signal(syscall.SIGKILL) }

func (p *Process) signal(sig syscall.Signal) error {
	p.awaitStart(context.Background())
	p.mu.Lock()
	defer p.mu.Unlock()
	switch {
	case p.closed:
		return ErrClosed
	case !p.started:
		return ErrNotStarted
	}
	return p.runner.Signal(sig)
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
		r.SyncOutput()
	}
}

// Alive reports whether the process has started and not yet ended.
func (p *Process) Alive() bool { return p.Done() != nil && !p.ended() }

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

// ended reports whether the process has started and ended.
func (p *Process) ended() bool {
	done := p.Done()
	if done == nil {
		return false
	}
	select {
	case <-done:
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
	if p.starting != nil {
		return ErrStillRunning
	}
	if p.started {
		select {
		case <-p.done:
		default:
			return ErrStillRunning
		}
	}
	p.closed = true
	p.result.Close()
	return nil
}

// takeResult returns the function's encoded result once the process has
// ended, handing over its descriptors.
func (p *Process) takeResult() *proc.Result {
	p.mu.Lock()
	defer p.mu.Unlock()
	r := p.result
	if r != nil {
		p.result = &proc.Result{Value: r.Value, Err: r.Err}
	}
	return r
}

func notDirErr(st os.FileInfo) error {
	if st != nil && !st.IsDir() {
		return errors.New("not a directory")
	}
	return nil
}

var errNoResult = errors.New("mp: the process ended without returning a result")
