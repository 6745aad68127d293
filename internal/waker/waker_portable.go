//go:build !linux || mpportable

package waker

import (
	"os"

	"golang.org/x/sys/unix"
)

// New returns a new waker, not set. os.Pipe makes both ends close-on-exec
// (with pipe2 where the system has it; on macOS, which has not, under
// syscall.ForkLock) and non-blocking.
func New() (*Waker, error) {
	r, w, err := os.Pipe()
	if err != nil {
		return nil, err
	}
	k, err := newWaker(r, w)
	if err != nil {
		r.Close()
		w.Close()
		return nil, err
	}
	return k, nil
}

// setFD writes a byte; a full pipe (EAGAIN) is readable already.
func setFD(fd int) { unix.Write(fd, []byte{1}) }

func clearFD(fd int) {
	var b [512]byte
	for {
		n, err := unix.Read(fd, b[:])
		if err == unix.EINTR {
			continue
		}
		if err != nil || n < len(b) {
			return
		}
	}
}
