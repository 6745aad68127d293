//go:build linux && mpportable

package subprocess

import (
	"slices"
	"syscall"
	"time"

	"github.com/mpgo/mp/internal/procinfo"
)

// A target is a process this package signals that is not its own unreaped
// child (a marked descendant, a member of a cgroup), named by its pid and
// start time, as POSIX allows: kill by pid, right after a look that the
// pid still names a live process with the start time seen when the target
// was opened. Only Linux's subreaper and cgroups reach such processes; on
// the portable set they use this in place of pidfds.
//
// What remains is a race of microseconds: the process may exit, be reaped
// and its pid be handed to a new process between the look and the kill,
// which then gets the signal. The pid would have to come round the whole
// pid space (4 million on 64-bit Linux) in that time; pidfds close it.
type target struct {
	pid   int
	start uint64
}

// openTarget holds process pid, which must be checked (its marker, its
// cgroup) after openTarget: a check after the start time is read is of the
// process that start time names, if signal finds it still alive.
func openTarget(pid int) (target, error) {
	info, err := procinfo.Read(pid)
	if err == nil && !info.Alive() {
		err = procinfo.ErrNoProcess
	}
	return target{pid: pid, start: info.Start}, err
}

// alive reports whether the target is still the live process it was.
func (t target) alive() bool {
	info, err := procinfo.Read(t.pid)
	return err == nil && info.Alive() && info.Start == t.start
}

// signal sends sig to the target if it is still the process it was.
func (t target) signal(sig syscall.Signal) error {
	if !t.alive() {
		return syscall.ESRCH
	}
	return syscall.Kill(t.pid, sig)
}

// closeTargets lets the targets go: they hold nothing.
func closeTargets([]target) {}

// targetPollMax is the longest pause between looks of waitTargets.
const targetPollMax = 20 * time.Millisecond

// waitTargets waits until every target has exited (gone, a zombie, or its
// pid reused), or until deadline. With no descriptor to wait on, it looks
// after 1 ms, then after pauses that double up to targetPollMax: a stop
// notices the end of a killed process within a few milliseconds, and a
// long grace period costs a look at each process 50 times a second.
func waitTargets(ts []target, deadline time.Time) {
	ts = slices.Clone(ts)
	pause := time.Millisecond
	for {
		ts = slices.DeleteFunc(ts, func(t target) bool { return !t.alive() })
		left := time.Until(deadline)
		if len(ts) == 0 || left <= 0 {
			return
		}
		time.Sleep(min(pause, left))
		pause = min(2*pause, targetPollMax)
	}
}
