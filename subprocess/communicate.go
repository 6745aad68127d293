package subprocess

import (
	"context"
	"os"
	"slices"
	"sync"
)

// communicator writes a child's stdin and reads its stdout and stderr into
// buffers that outlive a timeout, so that Communicate can return what was
// read so far and be called again.
type communicator struct {
	done chan struct{} // closed when all its goroutines have ended
	// late marks a communicator that Wait made from what the output pipes
	// still held: the child has exited, so input is dropped, as Python
	// does when writing it fails with a broken pipe.
	late bool

	// mu guards the fields below.
	mu      sync.Mutex
	out     []byte // stdout read so far
	errOut  []byte // stderr read so far
	pending int    // goroutines still running
}

// Communicate writes input to the child's stdin and closes it, reads its
// stdout and stderr until end of file, waits for it to exit, and returns
// the output. It never deadlocks on full pipes: all three are served at
// once. A stream that is not a Pipe gives nil. Python: Popen.communicate.
//
// If ctx ends first, Communicate returns a *TimeoutExpired carrying the
// output read so far (which it also returns) and leaves the child running.
// Communicate may then be called again, with nil input (the first input
// is still being written), to go on, typically after Kill:
//
//	out, _, err := p.Communicate(ctx, input)
//	if errors.Is(err, subprocess.ErrTimeout) {
//		p.Kill()
//		out, _, err = p.Communicate(context.Background(), nil)
//	}
//
// Once Communicate has been called, it owns Stdin, Stdout and Stderr: do
// not use them any more.
//
// After Wait, which closes the pipes, Communicate returns what the output
// pipes still held when Wait closed them, and Wait's error; input is
// dropped, since the child has exited (Python writes it, ignores the
// broken pipe, and returns the output the same way).
func (p *Popen) Communicate(ctx context.Context, input []byte) (stdout, stderr []byte, err error) {
	c, err := p.communicator(input)
	if err != nil {
		return nil, nil, err
	}
	select {
	case <-c.done:
	case <-ctx.Done():
		stdout, stderr = c.snapshot()
		return stdout, stderr, &TimeoutExpired{Args: p.Args, Stdout: stdout, Stderr: stderr, Err: ctx.Err()}
	}
	_, err = p.Wait(ctx)
	stdout, stderr = c.snapshot()
	if te, ok := err.(*TimeoutExpired); ok {
		te.Stdout, te.Stderr = stdout, stderr
	}
	return stdout, stderr, err
}

// communicator returns the process's communicator, starting it on the
// first call.
func (p *Popen) communicator(input []byte) (*communicator, error) {
	p.mu.Lock()
	defer p.mu.Unlock()
	if p.comm != nil {
		switch {
		case input != nil && p.comm.late && !p.stdinPipe:
			return nil, ErrNoStdinPipe
		case input != nil && !p.comm.late:
			return nil, ErrInputAfterStart
		}
		return p.comm, nil
	}
	if input != nil && p.pipes[0] == nil {
		return nil, ErrNoStdinPipe
	}
	c := &communicator{done: make(chan struct{})}
	p.comm = c
	var jobs []func()
	if f := p.pipes[0]; f != nil {
		jobs = append(jobs, func() { writeAll(f, input) })
	}
	if f := p.pipes[1]; f != nil {
		c.out = []byte{}
		jobs = append(jobs, func() { c.read(p, f, &c.out) })
	}
	if f := p.pipes[2]; f != nil {
		c.errOut = []byte{}
		jobs = append(jobs, func() { c.read(p, f, &c.errOut) })
	}
	c.pending = len(jobs)
	if c.pending == 0 {
		close(c.done)
	}
	n := 0
	for _, f := range p.pipes {
		if f != nil {
			c.goLocked(p, f, jobs[n])
			n++
		}
	}
	p.pipes = [3]*os.File{} // now the communicator's
	return c, nil
}

// goLocked runs fn as one of the communicator's goroutines, tracked by p.
// p.mu must be held, and fn counted in c.pending.
func (c *communicator) goLocked(p *Popen, f *os.File, fn func()) {
	p.goPipeLocked(f, func() {
		defer c.ended()
		fn()
	})
}

func (c *communicator) ended() {
	c.mu.Lock()
	defer c.mu.Unlock()
	c.pending--
	if c.pending == 0 {
		close(c.done)
	}
}

// read appends what f yields to *dst until end of file, then closes f.
func (c *communicator) read(p *Popen, f *os.File, dst *[]byte) {
	defer f.Close()
	p.pump(f, func(b []byte) {
		c.mu.Lock()
		*dst = append(*dst, b...)
		c.mu.Unlock()
	})
}

// snapshot returns copies of the output read so far; nil for a stream
// that was not read.
func (c *communicator) snapshot() (stdout, stderr []byte) {
	c.mu.Lock()
	defer c.mu.Unlock()
	return slices.Clone(c.out), slices.Clone(c.errOut)
}

// leftoverMax bounds what Wait keeps of the output a child left in its
// pipes, per pipe. A pipe holds 64 KiB by default, and at most
// /proc/sys/fs/pipe-max-size (1 MiB by default) unless privileged; more
// can only come from a descendant that keeps writing after the child
// exited.
const leftoverMax = 1 << 20

// leftoverLocked reads what the output pipes hold now, without waiting,
// into a communicator that has ended, so that a Communicate after Wait
// returns it. p.mu must be held, the child must have exited, and no
// communicator may exist yet.
func (p *Popen) leftoverLocked() *communicator {
	c := &communicator{done: make(chan struct{}), late: true}
	close(c.done)
	buf := make([]byte, copyBuf)
	keep := func(f *os.File) []byte {
		out := []byte{}
		drainNow(f, buf, leftoverMax, func(b []byte) { out = append(out, b...) })
		return out
	}
	if f := p.pipes[1]; f != nil {
		c.out = keep(f)
	}
	if f := p.pipes[2]; f != nil {
		c.errOut = keep(f)
	}
	return c
}
