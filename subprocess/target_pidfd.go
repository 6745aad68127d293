//go:build linux && !mpportable

package subprocess

import (
	"slices"
	"time"

	"golang.org/x/sys/unix"
)

// A target is a process this package signals that is not its own unreaped
// child (a marked descendant, a member of a cgroup), held by a pidfd: the
// pidfd names the process it was opened for, so a signal through it can
// never reach another process that reused the pid, and it is readable once
// the process has exited.
type target struct {
	pid, fd int
}

// openTarget holds process pid, which must be checked (its marker, its
// cgroup) after the pidfd is open: then the check is of the process the
// pidfd names.
func openTarget(pid int) (target, error) {
	fd, err := openTransient(pid)
	return target{pid: pid, fd: fd}, err
}

// signal sends sig to the target.
func (t target) signal(sig unix.Signal) error { return unix.PidfdSendSignal(t.fd, sig, nil, 0) }

// openTransient opens a pidfd for pid and records it in transient, so that
// reapStrangers does not take it for a pidfd of Go's os.Process.
func openTransient(pid int) (int, error) {
	reaping.Lock()
	defer reaping.Unlock()
	fd, err := unix.PidfdOpen(pid, 0)
	if err == nil {
		transient[fd] = true
	}
	return fd, err
}

// closeTargets lets the targets go.
func closeTargets(ts []target) {
	reaping.Lock()
	defer reaping.Unlock()
	for _, t := range ts {
		delete(transient, t.fd)
		unix.Close(t.fd)
	}
}

// waitTargets waits until every target has exited (its pidfd is readable),
// or until deadline.
func waitTargets(ts []target, deadline time.Time) {
	polls := make([]unix.PollFd, len(ts))
	for i, t := range ts {
		polls[i] = unix.PollFd{Fd: int32(t.fd), Events: unix.POLLIN}
	}
	for len(polls) > 0 {
		left := time.Until(deadline)
		if left <= 0 {
			return
		}
		n, err := unix.Poll(polls, int(left.Milliseconds())+1)
		if err != nil && err != unix.EINTR {
			return
		}
		if n <= 0 {
			continue
		}
		polls = slices.DeleteFunc(polls, func(pf unix.PollFd) bool { return pf.Revents != 0 })
	}
}
