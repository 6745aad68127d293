package chaos

import (
	"context"
	"slices"
	"time"

	"golang.org/x/sys/unix"
)

// watch holds a pidfd for each process: it reads ready once the process
// has ended.
type watch struct{ pidfds []int }

func watchProcesses(pids []int) *watch {
	w := &watch{}
	for _, pid := range pids {
		if fd, err := unix.PidfdOpen(pid, 0); err == nil {
			w.pidfds = append(w.pidfds, fd)
		}
	}
	return w
}

func (w *watch) count() int { return len(w.pidfds) }

func (w *watch) waitGone(ctx context.Context) int {
	left := slices.Clone(w.pidfds)
	for len(left) > 0 && ctx.Err() == nil {
		fds := make([]unix.PollFd, len(left))
		for i, fd := range left {
			fds[i] = unix.PollFd{Fd: int32(fd), Events: unix.POLLIN}
		}
		ms := 100
		if d, ok := ctx.Deadline(); ok {
			ms = max(0, min(ms, int(time.Until(d).Milliseconds())))
		}
		if _, err := unix.Poll(fds, ms); err != nil && err != unix.EINTR {
			break
		}
		left = left[:0]
		for _, f := range fds {
			if f.Revents == 0 {
				left = append(left, int(f.Fd))
			}
		}
	}
	return len(left)
}

func (w *watch) kill() {
	for _, fd := range w.pidfds {
		unix.PidfdSendSignal(fd, unix.SIGKILL, nil, 0)
	}
}

func (w *watch) close() {
	for _, fd := range w.pidfds {
		unix.Close(fd)
	}
	w.pidfds = nil
}
