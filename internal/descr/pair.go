package descr

import (
	"fmt"
	"syscall"

	"golang.org/x/sys/unix"
)

// StreamPair returns a new pair of connected AF_UNIX SOCK_STREAM sockets,
// close-on-exec and blocking. macOS has no SOCK_CLOEXEC: the sockets are
// made, and marked, under syscall.ForkLock, as the syscall package does, so
// that no fork+exec of this program's takes a copy in between. The same
// code runs on every system, so that it is tested.
func StreamPair() ([2]int, error) {
	syscall.ForkLock.RLock()
	fds, err := unix.Socketpair(unix.AF_UNIX, unix.SOCK_STREAM, 0)
	if err == nil {
		unix.CloseOnExec(fds[0])
		unix.CloseOnExec(fds[1])
	}
	syscall.ForkLock.RUnlock()
	if err != nil {
		return fds, fmt.Errorf("mp: socketpair: %w", err)
	}
	return fds, nil
}

// Pipe returns a new pipe, read end first, close-on-exec and blocking,
// made as StreamPair makes its sockets (macOS has no pipe2).
func Pipe() ([2]int, error) {
	var p [2]int
	syscall.ForkLock.RLock()
	err := unix.Pipe(p[:])
	if err == nil {
		unix.CloseOnExec(p[0])
		unix.CloseOnExec(p[1])
	}
	syscall.ForkLock.RUnlock()
	if err != nil {
		return p, fmt.Errorf("mp: pipe: %w", err)
	}
	return p, nil
}
