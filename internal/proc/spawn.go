package proc

import (
	"context"
	"fmt"
	"io"
	"os"
	"os/exec"
	"slices"
	"strings"
	"sync"
	"syscall"
	"time"

	"github.com/mpgo/mp/internal/race"
	"github.com/mpgo/mp/internal/transport"
	"github.com/mpgo/mp/internal/wire"
	"golang.org/x/sys/unix"
)

// childStdio says where a spawned child's standard output and error go.
type childStdio struct {
	stdout, stderr io.Writer
}

// child is a running child process started by mp, with the goroutines that
// watch it: one reaps it, one reads its control socket.
type child struct {
	cmd    *exec.Cmd
	ctl    *transport.Conn
	pid    int
	copies []*outputCopy
	// stderrCopy is the copy of standard error, when mp makes one.
	stderrCopy *outputCopy
	done       chan struct{} // closed once reaped and drained
	ready      chan struct{} // closed when the child waits for its start message
	goFn       func(func())  // starts the watching goroutines
	// spareEnv and spareDir are the environment and working directory a
	// warm spare was spawned with ("" if not known).
	spareEnv []string
	spareDir string

	// mu guards the fields below, set by the watching goroutines.
	mu     sync.Mutex
	name   string
	state  *os.ProcessState
	hello  bool // it reported ready: it reached Main, and takes its start message
	result *transport.Msg
}

// spawnWith starts a fresh run of this binary as a child that waits for its
// start message on a control socket; goFn starts the goroutines that watch
// the child (background.Go for process-lifetime children). name is the
// child's process name, for its title; warmTitle for a warm spare.
func spawnWith(name string, env []string, dir string, stdio childStdio, goFn func(func())) (*child, error) {
	CheckNotStrayChild() // a child that never reached Main must not spawn its own
	exe, err := selfExe()
	if err != nil {
		return nil, err
	}
	fds, err := transport.SocketPair()
	if err != nil {
		return nil, fmt.Errorf("mp: control socket: %w", err)
	}
	childEnd := os.NewFile(uintptr(fds[1]), "mp-control")
	defer childEnd.Close()
	ctl, err := transport.NewConn(fds[0])
	if err != nil {
		return nil, err
	}
	c := &child{ctl: ctl, done: make(chan struct{}), ready: make(chan struct{}), goFn: goFn}
	cmd := &exec.Cmd{
		Path:       exe,
		Args:       []string{title(name)},
		Env:        append(childEnv(env), fmt.Sprintf("%s=v%d,fd=3", envChild, protoVersion), envArgv0+"="+argv0()),
		Dir:        dir,
		ExtraFiles: []*os.File{childEnd},
	}
	closeAfter, err := c.setStdio(cmd, stdio)
	if err == nil {
		err = cmd.Start()
	}
	for _, f := range closeAfter {
		f.Close()
	}
	if err != nil {
		ctl.Close()
		for _, oc := range c.copies {
			oc.finish(time.Now())
		}
		return nil, fmt.Errorf("mp: start child: %w", err)
	}
	c.cmd, c.pid = cmd, cmd.Process.Pid
	goFn(c.watch)
	return c, nil
}

// setStdio points the child's standard output and error where stdio says,
// and returns the pipe ends to close once the child has started. Standard
// error always goes through a copy (to os.Stderr when inherited), so that
// ExitError can report its tail.
func (c *child) setStdio(cmd *exec.Cmd, stdio childStdio) ([]*os.File, error) {
	var closeAfter []*os.File
	route := func(w io.Writer, keepTail bool) (io.Writer, error) {
		if f, ok := w.(*os.File); ok && !keepTail {
			return f, nil
		}
		oc, pw, err := newOutputCopy(w, c.goFn)
		if err != nil {
			return nil, err
		}
		c.copies = append(c.copies, oc)
		if keepTail {
			c.stderrCopy = oc
		}
		closeAfter = append(closeAfter, pw)
		return pw, nil
	}
	var err error
	if stdio.stdout == nil {
		cmd.Stdout = os.Stdout
	} else if cmd.Stdout, err = route(stdio.stdout, false); err != nil {
		return closeAfter, err
	}
	switch w := stdio.stderr.(type) {
	case nil:
		cmd.Stderr, err = route(os.Stderr, true)
	case *os.File:
		cmd.Stderr = w
	default:
		cmd.Stderr, err = route(w, true)
	}
	return closeAfter, err
}

// childEnv returns the environment of a new child: env (nil: this
// process's) without a stale child marker or real argv[0]. In a
// race-detector build, it turns off the race runtime's one-second pause at
// exit, unless GORACE says otherwise, so that short-lived children do not
// each cost a second.
func childEnv(env []string) []string {
	if env == nil {
		env = os.Environ()
	}
	env = slices.DeleteFunc(slices.Clone(env), func(kv string) bool {
		return strings.HasPrefix(kv, envChild+"=") || strings.HasPrefix(kv, envArgv0+"=")
	})
	if race.Enabled && !slices.ContainsFunc(env, func(kv string) bool { return strings.HasPrefix(kv, "GORACE=") }) {
		env = append(env, "GORACE=atexit_sleep_ms=0")
	}
	return env
}

// watch reaps the child and reads its control socket until both are done.
func (c *child) watch() {
	readDone := make(chan struct{})
	c.goFn(func() {
		defer close(readDone)
		c.readControl()
	})
	c.cmd.Wait()
	c.mu.Lock()
	c.state = c.cmd.ProcessState
	c.mu.Unlock()
	deadline := time.Now().Add(drainTimeout)
	select {
	case <-readDone:
	case <-time.After(drainTimeout):
	}
	c.ctl.Close()
	<-readDone
	for _, oc := range c.copies {
		oc.finish(deadline)
	}
	close(c.done)
}

// readControl reads the child's messages until its control socket closes.
func (c *child) readControl() {
	for {
		m, err := c.ctl.Recv(context.Background())
		if err != nil {
			return
		}
		if m.Kind == ctlReady {
			c.mu.Lock()
			c.hello = true
			c.mu.Unlock()
			if !isClosed(c.ready) { // only this goroutine closes it
				close(c.ready)
			}
			continue
		}
		if m.Kind == ctlLog {
			c.mu.Lock()
			name := c.name
			c.mu.Unlock()
			handleLog(m.Data, c.pid, name)
			m.Close()
			continue
		}
		c.mu.Lock()
		if m.Kind == ctlResult && c.result == nil {
			c.result = &m
			c.mu.Unlock()
			continue
		}
		c.mu.Unlock()
		m.Close()
	}
}

// start sends the child its start message.
func (c *child) start(sm *startMsg, fds []int) error {
	return sendCtl(context.Background(), c.ctl, ctlStart, sm, fds)
}

// Pid returns the child's process id.
func (c *child) Pid() int { return c.pid }

// Signal sends sig to the child unless it has exited. The signal cannot
// reach another process that reused the pid: the child is this process's
// own, and its pid stays taken (as a zombie once it ends) until it is
// waited for, which only its os.Process does, and os.Process refuses to
// signal a process it has waited for (os.ErrProcessDone). On Linux it
// signals through a pidfd besides; elsewhere through kill, safe for that
// reason.
func (c *child) Signal(sig syscall.Signal) error {
	if c.exited() {
		return nil
	}
	err := c.cmd.Process.Signal(sig)
	if err == os.ErrProcessDone {
		return nil
	}
	return err
}

// stderrTail returns what mp captured of the child's standard error.
func (c *child) stderrTail() []byte {
	if c.stderrCopy == nil {
		return nil
	}
	return c.stderrCopy.Tail()
}

// outcome reports what the watching goroutines saw, handing over the
// result's descriptors.
func (c *child) outcome() Outcome {
	c.mu.Lock()
	defer c.mu.Unlock()
	ws := c.state.Sys().(syscall.WaitStatus)
	out := Outcome{Code: ws.ExitStatus(), Hello: c.hello, Stderr: c.stderrTail()}
	if ws.Signaled() {
		out.Code, out.Signal = -int(ws.Signal()), ws.Signal()
	}
	if c.result != nil {
		var rm resultMsg
		if derr := wire.Unmarshal(c.result.Data, nil, &rm); derr == nil {
			out.Result = &Result{Value: rm.Value, FDs: c.result.FDs, Err: rm.Err}
			c.result.FDs = nil
		} else {
			c.result.Close()
		}
		c.result = nil
	}
	return out
}

// Wait waits for the child to end and be reaped, and reports how.
func (c *child) Wait() Outcome {
	<-c.done
	return c.outcome()
}

// Ended returns a channel closed once the child has ended and is reaped.
func (c *child) Ended() <-chan struct{} { return c.done }

// exited reports whether the child has ended.
func (c *child) exited() bool { return isClosed(c.done) }

// outputFD returns a descriptor to give a child as its output to w: a
// duplicate of w's own if w is an *os.File, or the write end of a pipe whose
// read end is copied into w. The caller closes the descriptor once sent.
func outputFD(w io.Writer) (int, *outputCopy, error) {
	if f, ok := w.(*os.File); ok {
		dup, err := dupFile(f)
		return dup, nil, err
	}
	oc, pw, err := newOutputCopy(w, func(fn func()) { go fn() })
	if err != nil {
		return -1, nil, err
	}
	defer pw.Close()
	dup, err := dupFile(pw)
	if err != nil {
		oc.finish(time.Now())
		return -1, nil, err
	}
	return dup, oc, nil
}

// dupFile duplicates f's descriptor without changing its blocking mode.
func dupFile(f *os.File) (int, error) {
	rc, err := f.SyscallConn()
	if err != nil {
		return -1, err
	}
	dup := -1
	cerr := rc.Control(func(fd uintptr) {
		dup, err = unix.FcntlInt(fd, unix.F_DUPFD_CLOEXEC, 0)
	})
	if cerr != nil {
		return -1, cerr
	}
	return dup, err
}

// heldFDs returns the descriptors this process holds for the child.
func (c *child) heldFDs() []int {
	var fds []int
	c.ctl.Control(func(fd int) { fds = append(fds, fd) })
	for _, oc := range c.copies {
		if rc, err := oc.r.SyscallConn(); err == nil {
			rc.Control(func(fd uintptr) { fds = append(fds, int(fd)) })
		}
	}
	return fds
}

// SyncOutput copies at once what the child wrote to the pipes mp copies.
func (c *child) SyncOutput() { syncCopies(c.copies) }

// syncCopies syncs every copy of a process's output.
func syncCopies(copies []*outputCopy) {
	for _, oc := range copies {
		oc.Sync()
	}
}

// SetName gives the name under which the child's log records are passed
// on.
func (c *child) SetName(name string) {
	c.mu.Lock()
	defer c.mu.Unlock()
	c.name = name
}
