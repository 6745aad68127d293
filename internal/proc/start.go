package proc

import (
	"fmt"
	"io"
	"os"
	"syscall"

	"github.com/mpgo/mp/internal/background"
	"github.com/mpgo/mp/internal/descr"
	"github.com/mpgo/mp/internal/diag"
	"github.com/mpgo/mp/internal/errs"
)

// Method says how a child is started; package mp's StartMethod chooses it.
type Method int

const (
	// Spawned: a fresh run of this binary.
	Spawned Method = iota
	// Warm: a spare child started ahead of time (mp's Forkserver), or a
	// spawned one when the spec's environment needs a fresh runtime.
	Warm
	// InProcess: a goroutine of this process (mp's Goroutine method).
	InProcess
)

// Spec says what a child runs, and how it is started.
type Spec struct {
	// Func is the registered name of the function, Arg its encoded
	// argument and ArgFDs the descriptors of the handles inside it (the
	// caller keeps them: the child gets duplicates).
	Func   string
	Arg    []byte
	ArgFDs []int
	// Name, Identity and Daemon are what the child knows of itself.
	Name     string
	Identity []int
	Daemon   bool
	// Env, Dir, Stdout and Stderr are mp.Process's fields of those names.
	Env            []string
	Dir            string
	Stdout, Stderr io.Writer
	Method         Method
	// Lifetime marks a child that lives as long as this process: the
	// goroutines that watch it are process-lifetime goroutines, and it is
	// tracked as such (see package background).
	Lifetime bool
}

// Runner is a started child, however it was started.
type Runner interface {
	// Pid returns its process id (this process's, for InProcess).
	Pid() int
	// Signal sends sig unless it has ended; for InProcess, any signal
	// cancels the function's context.
	Signal(sig syscall.Signal) error
	// Wait blocks until it has ended and is reaped, and returns how.
	// The result's descriptors are handed over to the first caller.
	Wait() Outcome
	// Ended returns a channel closed once it has ended and is reaped;
	// Wait then returns without waiting for the process (it may still
	// wait, at most briefly, for the copies of its output).
	Ended() <-chan struct{}
	// SetName gives the name under which its log records are passed on.
	SetName(name string)
	// SyncOutput copies at once what it wrote to the pipes that mp copies
	// into writers.
	SyncOutput()
}

// Outcome is how a child ended.
type Outcome struct {
	// Code is Python's exitcode: the exit status, or -N after signal N.
	Code int
	// Signal is the signal that ended it, or 0.
	Signal syscall.Signal
	// Hello is set once it reached Main, ready for its start message.
	Hello bool
	// Result is what the function returned, if it reported anything.
	Result *Result
	// Stderr is the tail of its standard error, when mp copied it.
	Stderr []byte
}

// Result is what a child's function returned: its encoded result and the
// result's descriptors, or the description of its error.
type Result struct {
	Value []byte
	FDs   []int
	Err   *errs.Remote
}

// Close closes the result's descriptors, if any (r may be nil).
func (r *Result) Close() {
	if r != nil {
		descr.Close(r.FDs)
		r.FDs = nil
	}
}

// EarlyExitError is returned by Start for a child that ended by itself
// before it took its start message (it never reached Main, say): its
// outcome explains the failure better than the error of the send. The
// descriptors of the outcome's result, if any, are the caller's to close.
type EarlyExitError struct {
	Outcome Outcome
	Send    error
}

func (e *EarlyExitError) Error() string {
	return fmt.Sprintf("mp: child exited with code %d before its start message (%v)", e.Outcome.Code, e.Send)
}

// Start starts a child as s says.
func Start(s *Spec) (Runner, error) {
	CheckNotStrayChild()
	sm := &startMsg{Func: s.Func, Arg: s.Arg, ArgFDs: len(s.ArgFDs), Name: s.Name, Identity: s.Identity,
		Daemon: s.Daemon, AuthKey: Self().AuthKey, ParentPid: os.Getpid(), StdoutFD: -1, StderrFD: -1,
		LogLevel: int(diag.MinLevel()), Diag: diag.IsSet()}
	var r Runner
	var err error
	switch {
	case s.Method == InProcess:
		r, err = startGoroutine(sm, s.ArgFDs)
	case s.Method == Warm && warmable(s.Env):
		r, err = startWarm(s, sm)
	default:
		r, err = startSpawned(s, sm)
	}
	if err != nil {
		return nil, err
	}
	r.SetName(s.Name)
	if c, ok := r.(*child); ok && s.Lifetime {
		background.Track(c.pid, c.heldFDs()...)
	}
	return r, nil
}

// Go runs fn in a goroutine that watches a child of s: a process-lifetime
// goroutine (package background) when s.Lifetime is set.
func (s *Spec) Go(fn func()) { s.goFn()(fn) }

// goFn returns how to start the goroutines that watch a child of s.
func (s *Spec) goFn() func(func()) {
	if s.Lifetime {
		return background.Go
	}
	return func(fn func()) { go fn() }
}

// startSpawned starts sm in a freshly spawned child.
func startSpawned(s *Spec, sm *startMsg) (Runner, error) {
	c, err := spawnWith(s.Name, s.Env, s.Dir, childStdio{s.Stdout, s.Stderr}, s.goFn())
	if err != nil {
		return nil, err
	}
	if err := c.start(sm, s.ArgFDs); err != nil {
		c.Signal(syscall.SIGKILL) // no effect on a child that has exited
		out := c.Wait()
		if out.Signal == 0 {
			return nil, &EarlyExitError{Outcome: out, Send: err}
		}
		out.Result.Close()
		return nil, err
	}
	return c, nil
}
