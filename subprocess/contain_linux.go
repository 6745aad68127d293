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
		ts := signalMarked(mark, unix.SIGKILL, nil)
		if len(ts) == 0 {
			break
		}
		waitTargets(ts, deadline)
		closeTargets(ts)
	}
	// The killed processes' exits made their children ours first.
	reapStrangers()
}

// termMarked sends SIGTERM to every live process that carries mark and
// that signalled does not name, then waits until they have all exited, or
// until deadline.
func termMarked(mark string, deadline time.Time, signalled func(pid int) bool) {
	ts := signalMarked(mark, unix.SIGTERM, signalled)
	waitTargets(ts, deadline)
	closeTargets(ts)
}

// signalMarked sends sig to every live process in this process's tree that
// carries mark, except those that spare (if not nil) names, and returns
// them all as targets, which the caller closes. Each process is held as a
// target before its marker is read, so that a reused pid cannot misdirect
// the signal (see target).
func signalMarked(mark string, sig syscall.Signal, spare func(pid int) bool) []target {
	kids := map[int][]int{}
	for pid, ppid := range procParents() {
		kids[ppid] = append(kids[ppid], pid)
	}
	var ts []target
	queue := slices.Clone(kids[os.Getpid()])
	for len(queue) > 0 {
		pid := queue[0]
		queue = append(queue[1:], kids[pid]...)
		t, err := openTarget(pid)
		if err != nil {
			continue
		}
		send := spare == nil || !spare(pid)
		if !carriesMark(pid, mark) || send && t.signal(sig) != nil {
			closeTargets([]target{t})
			continue
		}
		ts = append(ts, t)
	}
	return ts
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
