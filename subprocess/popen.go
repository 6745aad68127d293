package subprocess

import (
	"context"
	"errors"
	"fmt"
	"io"
	"os"
	"sync"
	"syscall"
	"time"
)

// Popen is a started child process, Python's subprocess.Popen. Start makes
// one; its methods are safe for concurrent use.
//
// The child is reaped as soon as it exits, whether or not anyone waits for
// it, so it never lingers as a zombie. Signals go through Go's os.Process,
// so they reach this child or nobody, even if its pid has been reused: the
// pid of an unreaped child cannot be reused, and os.Process, which reaps
// it, refuses to signal it after (on Linux it also signals through a
// pidfd).
//
// Call Wait or Communicate once done with it: they release the pipes.
type Popen struct {
	// Args is the command as run: with Options.Shell it starts with
	// "/bin/sh", "-c".
	Args []string
	// Pid is the child's process id.
	Pid int
	// Stdin is the parent's end of the child's stdin when Options.Stdin is
	// Pipe, otherwise nil. Writes go straight to the pipe, with no
	// buffering in between. Close it to send end of file.
	Stdin io.WriteCloser
	// Stdout and Stderr are the parent's ends of the child's stdout and
	// stderr when they are Pipe, otherwise nil. Wait closes them once the
	// child has exited (as os/exec does), so read them before calling Wait,
	// or let Communicate read them. What they still hold then is kept, and
	// a Communicate after Wait returns it, as in Python.
	Stdout, Stderr io.ReadCloser

	proc      *os.Process
	pgid      int     // the group a stop signals (the child's own or its pipeline's), or 0
	mark      string  // the marker of its descendants under ContainSubreaper, or ""
	cg        *cgroup // its cgroup under ContainCgroup, or nil
	stdinPipe bool    // Options.Stdin was Pipe
	grace     time.Duration
	waitDelay time.Duration

	exited  chan struct{} // closed once the child has been reaped
	code    int           // return code, valid once exited is closed
	reapErr error         // error of the reaping wait, if any

	superDone  chan struct{} // closed when the supervisor ends; nil if none
	graceOver  chan struct{} // closed when a stop's grace period is over
	releasedCh chan struct{} // closed when Wait has finished
	cutCh      chan struct{} // closed when the pipes are cut

	// mu guards the fields below.
	mu          sync.Mutex
	pipes       [3]*os.File // the parent's ends of Pipe streams
	comm        *communicator
	stopCause   error         // the context error that stopped the child
	stopTimeout time.Duration // the Timeout that stopped it, if one did
	inGrace     bool          // a stop has begun a grace period
	released    bool          // Wait has finished
	cut         bool          // the watched pipes have been cut
	cutShort    bool          // a cut pipe was still open: output was lost
	watched     []*os.File    // pipes read or written by goroutines
	active      int           // tracked pipe goroutines running
	idle        chan struct{} // closed when active drops to zero
	feedDone    chan struct{} // closed when the stdin copy ends; nil if none
}

// Start starts args as a child process and returns without waiting for it,
// as Python's Popen does. ctx bounds the life of the process, as with
// exec.CommandContext: if ctx ends (or Options.Timeout expires) before the
// process has been waited for, the process, its group and what
// Options.Contain reaches are stopped (see Options.Grace), and Wait,
// Communicate and Run report a *TimeoutExpired.
// Use context.Background for a process that only the caller stops.
//
// Starting a process costs about half a millisecond on a small Linux
// machine, most of it in the kernel's fork and exec.
func Start(ctx context.Context, args []string, opts *Options) (*Popen, error) {
	p, err := start(ctx, args, opts, 0)
	if err != nil {
		return nil, err
	}
	go p.reap()
	return p, nil
}

// start starts the process; the caller must see to it that p.reap runs,
// in a goroutine of its own or, when it would only wait for it anyway, in
// its own goroutine (Run does, which saves a goroutine switch per run).
// If pgid is not zero, the child joins that process group (RunPipeline's
// later commands join the first one's) instead of the one Options say.
func start(ctx context.Context, args []string, opts *Options, pgid int) (*Popen, error) {
	s, err := resolve(args, opts)
	if err != nil {
		return nil, err
	}
	own := pgid == 0 && s.ownGroup(ctx)
	c, err := s.containment(ctx)
	if err != nil {
		return nil, err
	}
	cmd := s.command(own, pgid, c)
	st, err := s.setup()
	if err != nil {
		if c.cg != nil {
			c.cg.remove()
		}
		return nil, err
	}
	cmd.Stdin, cmd.Stdout, cmd.Stderr = st.child[0], st.child[1], st.child[2]
	if err := cmd.Start(); err != nil {
		st.abort()
		if c.cg != nil {
			c.cg.remove()
		}
		return nil, fmt.Errorf("subprocess: start %s: %w", commandString(s.argv), startError(err, s.Dir))
	}
	for _, f := range st.closeAfterStart {
		f.Close()
	}
	p := newPopen(s, cmd.Process, own)
	if pgid != 0 {
		p.pgid = pgid
	}
	p.mark, p.cg = c.mark, c.cg
	if c.cg != nil {
		c.cg.started()
	}
	p.adopt(st)
	if s.mayStop(ctx) || s.WaitDelay > 0 {
		p.superDone = make(chan struct{})
		go p.supervise(ctx, s.Timeout)
	}
	return p, nil
}

func newPopen(s *settings, proc *os.Process, ownGroup bool) *Popen {
	p := &Popen{
		Args:       s.argv,
		Pid:        proc.Pid,
		proc:       proc,
		grace:      s.Grace,
		waitDelay:  s.WaitDelay,
		exited:     make(chan struct{}),
		releasedCh: make(chan struct{}),
		graceOver:  make(chan struct{}),
		cutCh:      make(chan struct{}),
		idle:       make(chan struct{}),
	}
	close(p.idle)
	if ownGroup {
		p.pgid = proc.Pid
	}
	return p
}

// adopt takes over the parent's ends of the pipes and starts the copies.
func (p *Popen) adopt(st *stdio) {
	p.pipes = st.parent
	if f := st.parent[0]; f != nil {
		p.Stdin, p.stdinPipe = f, true
	}
	if f := st.parent[1]; f != nil {
		p.Stdout = f
	}
	if f := st.parent[2]; f != nil {
		p.Stderr = f
	}
	if st.from != nil {
		st.from.giveStdout()
	}
	if st.feed != nil {
		p.startFeed(st.feed)
	}
	for _, d := range st.drains {
		p.startDrain(d)
	}
}

// giveStdout completes a StdoutOf hand-over: another child now holds the
// pipe, so the parent drops its copy.
func (p *Popen) giveStdout() {
	p.mu.Lock()
	defer p.mu.Unlock()
	if p.pipes[1] != nil {
		p.pipes[1].Close()
		p.pipes[1] = nil
	}
	p.Stdout = nil
}

// reap waits for the child to exit and records how it ended. It runs once
// per process, in the one goroutine that waits on the child: Start gives it
// a goroutine of its own, so the child is reaped even if nobody calls Wait.
// Under ContainCgroup, the child counts as exited once its cgroup is gone.
func (p *Popen) reap() {
	state, err := p.proc.Wait()
	if err != nil {
		p.reapErr = fmt.Errorf("subprocess: wait for %d: %w", p.Pid, err)
		p.code = -1
	} else {
		p.code = returnCode(state)
	}
	if p.cg != nil {
		// A stop's grace period lets the rest of the cgroup end by itself.
		p.mu.Lock()
		grace := p.inGrace
		p.mu.Unlock()
		if grace {
			<-p.graceOver
		}
		p.cg.end()
	}
	close(p.exited)
}

// returnCode is Python's returncode: the exit status, or -N when signal N
// killed the process.
func returnCode(state *os.ProcessState) int {
	if ws, ok := state.Sys().(syscall.WaitStatus); ok && ws.Signaled() {
		return -int(ws.Signal())
	}
	return state.ExitCode()
}

// Poll reports whether the child has exited and, if so, its return code
// (negative for a signal). It never blocks. Python: Popen.poll.
func (p *Popen) Poll() (code int, exited bool) {
	select {
	case <-p.exited:
		return p.code, true
	default:
		return 0, false
	}
}

// Wait waits for the child to exit and returns its return code: the exit
// status, or -N if signal N killed it. It also waits for the copies to and
// from a Reader or Writer, then closes the pipes still open (see Stdout).
//
// If ctx ends first, Wait returns a *TimeoutExpired and leaves the child
// running, as Python's wait(timeout) does; call Kill, then Wait again. If
// the child was stopped because Start's context ended or Options.Timeout
// expired, Wait returns its return code and a *TimeoutExpired.
//
// Wait may be called any number of times, from any goroutine.
func (p *Popen) Wait(ctx context.Context) (int, error) {
	select {
	case <-p.exited:
	case <-ctx.Done():
		return 0, p.waitTimeout(ctx.Err())
	}
	if err := p.waitPipes(ctx); err != nil {
		return p.code, p.waitTimeout(err)
	}
	return p.code, p.finish()
}

// waitTimeout is the error of a wait that ctx cut short.
func (p *Popen) waitTimeout(ctxErr error) error {
	return &TimeoutExpired{Args: p.Args, Err: ctxErr}
}

// finish ends the process's life once it has exited and its pipes are
// done: the supervisor stops, the pipes close. It returns the reaping
// error or the stop error.
func (p *Popen) finish() error {
	p.mu.Lock()
	if !p.released {
		p.released = true
		close(p.releasedCh)
	}
	cause, timeout, cutShort := p.stopCause, p.stopTimeout, p.cutShort
	if p.comm == nil {
		p.comm = p.leftoverLocked()
	}
	p.closePipesLocked()
	p.mu.Unlock()
	if p.superDone != nil {
		<-p.superDone
	}
	switch {
	case p.reapErr != nil:
		return p.reapErr
	case cause != nil:
		return &TimeoutExpired{Args: p.Args, Timeout: timeout, Err: cause}
	case cutShort:
		return ErrWaitDelay
	}
	return nil
}

// closePipesLocked closes the parent's pipe ends that no goroutine owns
// (a communicator takes the ones it serves).
func (p *Popen) closePipesLocked() {
	for i, f := range p.pipes {
		if f != nil {
			f.Close()
			p.pipes[i] = nil
		}
	}
}

// SendSignal sends sig to the child. It does nothing if the child has
// already exited, as in Python.
func (p *Popen) SendSignal(sig os.Signal) error {
	select {
	case <-p.exited:
		return nil
	default:
	}
	err := p.proc.Signal(sig)
	if err != nil && !errors.Is(err, os.ErrProcessDone) {
		return fmt.Errorf("subprocess: signal process %d: %w", p.Pid, err)
	}
	return nil
}

// Terminate sends SIGTERM to the child. Python: Popen.terminate.
func (p *Popen) Terminate() error { return p.SendSignal(syscall.SIGTERM) }

// Kill sends SIGKILL to the child. Python: Popen.kill. To kill its
// descendants too, let a context or Options.Timeout stop it (see
// Options.Contain), or use KillGroup.
func (p *Popen) Kill() error { return p.SendSignal(syscall.SIGKILL) }

// KillGroup sends SIGKILL to the process group the child leads, which
// holds its descendants unless they left it. It returns ErrNoGroup if the
// child does not lead a group (see Options.Group).
func (p *Popen) KillGroup() error {
	if p.pgid == 0 {
		return ErrNoGroup
	}
	p.signalTree(syscall.SIGKILL)
	return nil
}

// String describes the process for debugging: its pid and command.
func (p *Popen) String() string {
	return fmt.Sprintf("process %d %s", p.Pid, commandString(p.Args))
}
