package subprocess

import (
	"bytes"
	"os"
	"slices"
	"strconv"
	"strings"
	"syscall"
	"time"

	"golang.org/x/sys/unix"
)

// containKillBound bounds how long a stop keeps killing the marked
// processes or waits for a cgroup to empty: a process stuck in the kernel
// (uninterruptible sleep) dies when it leaves it, and is reaped then.
const containKillBound = 5 * time.Second

// killMarked kills every process in this process's tree that carries mark.
// A process killed while it forks leaves no child; one that it had forked
// before is found by the next round, so the rounds end when one finds no
// live marked process.
func killMarked(mark string) {
	deadline := time.Now().Add(containKillBound)
	for time.Now().Before(deadline) {
		fds := signalMarked(mark, unix.SIGKILL, nil)
		if len(fds) == 0 {
			break
		}
		waitExited(fds, deadline)
		closeTransient(fds)
	}
	// The killed processes' exits made their children ours first.
	reapStrangers()
}

// termMarked sends SIGTERM to every live process that carries mark and
// that signalled does not name, then waits until they have all exited, or
// until deadline.
func termMarked(mark string, deadline time.Time, signalled func(pid int) bool) {
	fds := signalMarked(mark, unix.SIGTERM, signalled)
	waitExited(fds, deadline)
	closeTransient(fds)
}

// signalMarked sends sig to every live process in this process's tree that
// carries mark, except those that spare (if not nil) names, and returns a
// pidfd for each of them all (see openTransient). Each process is
// signalled through a pidfd opened before its marker is read, so that a
// reused pid cannot misdirect the signal.
func signalMarked(mark string, sig syscall.Signal, spare func(pid int) bool) []int {
	kids := map[int][]int{}
	for pid, ppid := range procParents() {
		kids[ppid] = append(kids[ppid], pid)
	}
	var fds []int
	queue := slices.Clone(kids[os.Getpid()])
	for len(queue) > 0 {
		pid := queue[0]
		queue = append(queue[1:], kids[pid]...)
		fd, err := openTransient(pid)
		if err != nil {
			continue
		}
		send := spare == nil || !spare(pid)
		if !carriesMark(pid, mark) || send && unix.PidfdSendSignal(fd, sig, nil, 0) != nil {
			closeTransient([]int{fd})
			continue
		}
		fds = append(fds, fd)
	}
	return fds
}

// carriesMark reports whether process pid carries mark in its environment.
// A zombie has none left.
func carriesMark(pid int, mark string) bool {
	env, err := os.ReadFile("/proc/" + strconv.Itoa(pid) + "/environ")
	if err != nil {
		return false
	}
	key := []byte(markKey + "=")
	for kv := range bytes.SplitSeq(env, []byte{0}) {
		if v, ok := bytes.CutPrefix(kv, key); ok && slices.Contains(strings.Fields(string(v)), mark) {
			return true
		}
	}
	return false
}

// waitExited waits until every pidfd in fds is readable (its process has
// exited), or until deadline.
func waitExited(fds []int, deadline time.Time) {
	polls := make([]unix.PollFd, len(fds))
	for i, fd := range fds {
		polls[i] = unix.PollFd{Fd: int32(fd), Events: unix.POLLIN}
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
