package proc

import (
	"bytes"
	"io"
	"os"
	"sync"
	"sync/atomic"
	"syscall"
	"time"

	"golang.org/x/sys/unix"
)

// tailSize is how much of a child's standard error mp keeps for ExitError.
const tailSize = 2048

// drainTimeout bounds how long Wait waits, after the child exited, for its
// output pipes to reach end of file: a grandchild that inherited them may
// keep them open (the hang os/exec's WaitDelay exists for).
const drainTimeout = time.Second

// outputCopy copies what a child writes to a pipe into a writer, one whole
// line per Write, so that lines from many children sharing a writer never
// mix mid-line. It keeps the tail of what went through.
//
// The pipe is read without blocking, under mu, by the copying goroutine
// when the poller says it is readable, and by Sync, which copies at once
// what the pipe holds: everything the child wrote before Sync was called.
type outputCopy struct {
	r    *os.File
	rc   syscall.RawConn
	w    io.Writer
	done chan struct{}
	// mu serializes reading the pipe and writing out; it guards line,
	// chunk and tail.
	mu    sync.Mutex
	line  []byte // the start of a line whose end has not come yet
	chunk []byte
	tail  []byte
	// abandoned is set once finish gives up waiting: lines not yet
	// written are dropped, so that a slow writer cannot hold finish.
	abandoned atomic.Bool
}

// maxLine is the longest line kept whole: a longer one is written out in
// pieces of this size.
const maxLine = 64 << 10

// newOutputCopy returns a pipe whose write end the child gets, and starts
// copying its read end into w.
func newOutputCopy(w io.Writer, goFn func(func())) (*outputCopy, *os.File, error) {
	r, pw, err := os.Pipe()
	if err != nil {
		return nil, nil, err
	}
	rc, err := r.SyscallConn()
	if err != nil {
		r.Close()
		pw.Close()
		return nil, nil, err
	}
	oc := &outputCopy{r: r, rc: rc, w: w, done: make(chan struct{}), chunk: make([]byte, maxLine)}
	goFn(oc.run)
	return oc, pw, nil
}

// run copies until end of file, or until the read end is closed.
func (oc *outputCopy) run() {
	defer close(oc.done)
	for {
		more := false
		err := oc.rc.Read(func(fd uintptr) bool {
			oc.mu.Lock()
			defer oc.mu.Unlock()
			n, err := oc.readOnce(fd, len(oc.chunk))
			if err == unix.EAGAIN {
				return false // nothing yet: wait for the poller
			}
			more = n > 0 || err == unix.EINTR
			return true
		})
		if err != nil || !more {
			oc.mu.Lock()
			oc.flushLine()
			oc.mu.Unlock()
			return
		}
	}
}

// readOnce reads what the pipe holds, up to limit bytes, and writes out
// the whole lines it completes. mu is held.
func (oc *outputCopy) readOnce(fd uintptr, limit int) (int, error) {
	n, err := unix.Read(int(fd), oc.chunk[:min(limit, len(oc.chunk))])
	if n <= 0 {
		return 0, err
	}
	data := oc.chunk[:n]
	oc.keep(data)
	for len(data) > 0 && !oc.abandoned.Load() {
		i := bytes.IndexByte(data, '\n')
		if i < 0 {
			oc.line = append(oc.line, data...)
			if len(oc.line) >= maxLine {
				oc.flushLine()
			}
			break
		}
		if len(oc.line) > 0 {
			oc.line = append(oc.line, data[:i+1]...)
			oc.flushLine()
		} else {
			oc.w.Write(data[:i+1])
		}
		data = data[i+1:]
	}
	return n, nil
}

// flushLine writes out the partial line held, if any. mu is held.
func (oc *outputCopy) flushLine() {
	if len(oc.line) > 0 {
		oc.w.Write(oc.line)
		oc.line = oc.line[:0]
	}
}

// Sync copies at once what the pipe holds, so that every whole line the
// child wrote before Sync was called has reached the writer when it
// returns. A partial last line waits for its end. It copies no more than
// the pipe held when it was called: a child that goes on printing does not
// keep it.
func (oc *outputCopy) Sync() {
	oc.mu.Lock()
	defer oc.mu.Unlock()
	held := 0 // FIONREAD: what the pipe holds
	if oc.rc.Control(func(fd uintptr) { held, _ = unix.IoctlGetInt(int(fd), fionread) }) != nil {
		return
	}
	for held > 0 {
		n := 0
		var err error
		if oc.rc.Control(func(fd uintptr) { n, err = oc.readOnce(fd, held) }) != nil {
			return
		}
		if n == 0 && err != unix.EINTR {
			return
		}
		held -= n
	}
}

// keep adds p to the tail. mu is held.
func (oc *outputCopy) keep(p []byte) {
	oc.tail = append(oc.tail, p...)
	if len(oc.tail) > tailSize {
		oc.tail = append(oc.tail[:0], oc.tail[len(oc.tail)-tailSize:]...)
	}
}

// Tail returns the last bytes copied.
func (oc *outputCopy) Tail() []byte {
	oc.mu.Lock()
	defer oc.mu.Unlock()
	return append([]byte(nil), oc.tail...)
}

// finish waits for the copy to reach end of file, at most until deadline,
// then closes the read end (which ends the copy).
func (oc *outputCopy) finish(deadline time.Time) {
	select {
	case <-oc.done:
	case <-time.After(time.Until(deadline)):
		oc.abandoned.Store(true)
	}
	oc.r.Close()
	<-oc.done
}
