package waker

import (
	"os"
	"syscall"
)

// Waker is a process-local waker. Its methods are safe to call
// concurrently, Close included: once closed, Set and Clear do nothing and
// FD returns -1.
type Waker struct {
	r, w *os.File // the same file for an eventfd
	rr   syscall.RawConn
	wr   syscall.RawConn
}

func newWaker(r, w *os.File) (*Waker, error) {
	rr, err := r.SyscallConn()
	if err != nil {
		return nil, err
	}
	wr, err := w.SyscallConn()
	if err != nil {
		return nil, err
	}
	return &Waker{r: r, w: w, rr: rr, wr: wr}, nil
}

// Set makes the waker readable.
func (k *Waker) Set() { k.wr.Control(func(fd uintptr) { setFD(int(fd)) }) }

// Clear makes the waker unreadable.
func (k *Waker) Clear() { k.rr.Control(func(fd uintptr) { clearFD(int(fd)) }) }

// FD returns the descriptor to poll for reading, or -1 once the waker is
// closed. It stays owned by the waker: a caller that polls it while
// another goroutine may close the waker polls a duplicate.
func (k *Waker) FD() int {
	fd := -1
	k.rr.Control(func(f uintptr) { fd = int(f) }) // fails once closed
	return fd
}

// Close closes the waker's descriptors.
func (k *Waker) Close() error {
	err := k.r.Close()
	if k.w != k.r {
		if werr := k.w.Close(); err == nil {
			err = werr
		}
	}
	return err
}
