package cluster_test

import (
	"syscall"
	"testing"
	"time"
)

// exitWatch is a pidfd: a descriptor of one process, readable once it
// ends, whatever process later takes its pid.
type exitWatch struct{ fd int }

// watchExit starts watching process pid for its end.
func watchExit(pid int) (*exitWatch, error) {
	const sysPidfdOpen = 434 // the same on every Linux architecture
	fd, _, errno := syscall.Syscall(sysPidfdOpen, uintptr(pid), 0, 0)
	if errno != 0 {
		return nil, errno
	}
	return &exitWatch{fd: int(fd)}, nil
}

// wait waits up to d for the process to end, and reports whether it did.
func (w *exitWatch) wait(t *testing.T, d time.Duration) bool {
	t.Helper()
	ep, err := syscall.EpollCreate1(syscall.EPOLL_CLOEXEC)
	if err != nil {
		t.Fatal(err)
	}
	defer syscall.Close(ep)
	if err := syscall.EpollCtl(ep, syscall.EPOLL_CTL_ADD, w.fd, &syscall.EpollEvent{Events: syscall.EPOLLIN, Fd: int32(w.fd)}); err != nil {
		t.Fatal(err)
	}
	deadline := time.Now().Add(d)
	events := make([]syscall.EpollEvent, 1)
	for {
		n, err := syscall.EpollWait(ep, events, int(time.Until(deadline).Milliseconds()))
		if err == syscall.EINTR {
			continue
		}
		if err != nil {
			t.Fatal(err)
		}
		return n > 0
	}
}

func (w *exitWatch) close() { syscall.Close(w.fd) }
