package subprocess

import (
	"fmt"
	"os"
	"os/signal"
	"path/filepath"
	"slices"
	"strconv"
	"strings"
	"sync"
	"sync/atomic"
	"syscall"
	"time"

	"golang.org/x/sys/unix"

	"github.com/mpgo/mp/internal/background"
	"github.com/mpgo/mp/internal/procinfo"
)

// The subreaper is a Linux kernel feature with no counterpart elsewhere
// (FreeBSD's procctl(PROC_REAP_ACQUIRE) is near, and not used yet), so it
// serves both mechanism sets on Linux. Its reaping rests on the pidfds that
// Go's os.Process holds for its children (they tell a child Go code waits
// for from an adopted orphan), which Go uses on Linux whatever mp's
// mechanisms; the pidfds mp opens itself, to signal a process that is not
// its child and wait for its exit, are a mechanism (target_pidfd.go,
// target_portable.go).
//
// This process becomes a child subreaper (prctl PR_SET_CHILD_SUBREAPER)
// the first time it starts a child under ContainSubreaper: from then on, a
// descendant of any of its children that is orphaned becomes its child
// instead of init's. That keeps every process a run started in this
// process's subtree, where a stop finds it, and lets this process reap what
// it kills. The attribute is process-wide, so orphans of children started
// by other code (mp's own, os/exec's) come here too; reapStrangers reaps
// them once they exit, and never touches a child that Go code waits for.

// subreaper records whether this process became a subreaper.
var subreaper struct {
	once sync.Once
	err  error
	on   atomic.Bool // set once it has succeeded
}

// isSubreaper reports whether becomeSubreaper has succeeded.
func isSubreaper() bool { return subreaper.on.Load() }

// becomeSubreaper makes this process a child subreaper and starts the
// goroutine that reaps the orphans it adopts, once. It fails where Go's
// os.Process does not hold a pidfd for its children (Linux before 5.4, or
// pidfds blocked): without one, a child that Go code waits for cannot be
// told from an adopted orphan.
func becomeSubreaper() error {
	subreaper.once.Do(func() {
		if subreaper.err = checkPidfd(); subreaper.err != nil {
			return
		}
		sigchld := make(chan os.Signal, 1)
		signal.Notify(sigchld, syscall.SIGCHLD)
		if err := unix.Prctl(unix.PR_SET_CHILD_SUBREAPER, 1, 0, 0, 0); err != nil {
			signal.Stop(sigchld)
			subreaper.err = err
			return
		}
		// The attribute lasts as long as the process, and so does this
		// goroutine. It lets a burst of exits pass before it looks: by
		// then Go code has reaped its own children, so that a look finds
		// only strangers, and one look serves the whole burst.
		subreaper.on.Store(true)
		background.Go(func() {
			for range sigchld {
				time.Sleep(strangerDelay)
				reapStrangers()
			}
		})
	})
	return subreaper.err
}

// checkPidfd checks, as Go's os package does before it uses them, that
// pidfds work: pidfd_open, waitid(P_PIDFD) and pidfd_send_signal.
func checkPidfd() error {
	fd, err := unix.PidfdOpen(os.Getpid(), 0)
	if err != nil {
		return err
	}
	defer unix.Close(fd)
	var info unix.Siginfo
	// This process is not its own child.
	if err := unix.Waitid(unix.P_PIDFD, fd, &info, unix.WEXITED|unix.WNOHANG, nil); err != unix.ECHILD {
		return fmt.Errorf("waitid(P_PIDFD) = %v, want ECHILD", err)
	}
	return unix.PidfdSendSignal(fd, 0, nil, 0)
}

// strangerDelay is how long after a SIGCHLD adopted orphans are looked for.
const strangerDelay = 10 * time.Millisecond

// reaping serializes reapStrangers, and guards transient.
var reaping sync.Mutex

// transient holds the pidfds this package opens for a moment (to signal or
// reap a process safely), which say nothing about who waits for it; see
// openTransient.
var transient = map[int]bool{}

// reapStrangers reaps the zombie children of this process that no Go code
// waits for: adopted orphans. A child that os.Process (and so os/exec and
// mp) started has a pidfd in this process from its birth until it is
// reaped; a zombie child without one is a stranger. Each zombie is reaped
// through a pidfd opened while it was seen as a zombie, so a reused pid can
// never be reaped by mistake.
func reapStrangers() {
	reaping.Lock()
	defer reaping.Unlock()
	var fds []int
	for _, pid := range zombieChildren() {
		if fd, err := unix.PidfdOpen(pid, 0); err == nil {
			fds = append(fds, fd)
		}
	}
	if len(fds) == 0 {
		return
	}
	owned := pidfdTargets(fds)
	for _, fd := range fds {
		if pid, ok := pidfdPid(fd); ok && !owned[pid] {
			var info unix.Siginfo
			// ECHILD: its owner reaped it meanwhile.
			_ = unix.Waitid(unix.P_PIDFD, fd, &info, unix.WEXITED|unix.WNOHANG, nil)
		}
		unix.Close(fd)
	}
}

// zombieChildren lists the children of this process that have exited and
// wait to be reaped.
func zombieChildren() []int {
	var out []int
	for _, pid := range children() {
		if info, err := procinfo.Read(pid); err == nil && info.State == procinfo.Zombie {
			out = append(out, pid)
		}
	}
	return out
}

// children lists this process's children, zombies included, from each
// thread's list (a child belongs to the thread that forked it, an adopted
// orphan to the main thread), or from the whole process table where the
// kernel keeps no lists.
func children() []int {
	tasks, _ := filepath.Glob("/proc/self/task/[0-9]*/children")
	if len(tasks) == 0 {
		self := os.Getpid()
		var out []int
		for pid, ppid := range procParents() {
			if ppid == self {
				out = append(out, pid)
			}
		}
		return out
	}
	var out []int
	for _, t := range tasks {
		data, _ := os.ReadFile(t)
		for _, f := range strings.Fields(string(data)) {
			if pid, err := strconv.Atoi(f); err == nil {
				out = append(out, pid)
			}
		}
	}
	return out
}

// procParents maps every process on the system to its parent.
func procParents() map[int]int {
	pids, _ := procinfo.List()
	out := make(map[int]int, len(pids))
	for _, pid := range pids {
		if info, err := procinfo.Read(pid); err == nil {
			out[pid] = info.Parent
		}
	}
	return out
}

// pidfdTargets returns the processes that this process holds a pidfd for,
// leaving out the descriptors in skip and in transient.
func pidfdTargets(skip []int) map[int]bool {
	out := map[int]bool{}
	ents, _ := os.ReadDir("/proc/self/fd")
	for _, e := range ents {
		fd, err := strconv.Atoi(e.Name())
		if err != nil || transient[fd] || slices.Contains(skip, fd) {
			continue
		}
		target, err := os.Readlink("/proc/self/fd/" + e.Name())
		if err != nil || !strings.Contains(target, "pidfd") {
			continue
		}
		if pid, ok := pidfdPid(fd); ok {
			out[pid] = true
		}
	}
	return out
}

// pidfdPid returns the process a pidfd refers to, from its fdinfo.
func pidfdPid(fd int) (int, bool) {
	data, err := os.ReadFile("/proc/self/fdinfo/" + strconv.Itoa(fd))
	if err != nil {
		return 0, false
	}
	for line := range strings.SplitSeq(string(data), "\n") {
		if v, ok := strings.CutPrefix(line, "Pid:"); ok {
			pid, err := strconv.Atoi(strings.TrimSpace(v))
			return pid, err == nil && pid > 0
		}
	}
	return 0, false
}
