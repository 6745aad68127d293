// Package lockcore holds the algorithms of mp's locks in shared memory:
// words that processes change with atomic instructions and wait on with
// futexes, and the recovery of what a dead process held.
//
// An owner is a process, named in shared memory by an identity: its pid in
// the low 32 bits and the low 32 bits of its start time in the high 32
// bits (as package procinfo reads it: clock ticks since boot on Linux,
// microseconds since boot on FreeBSD, since the epoch on macOS; none moves
// with the clock). A pid alone would be fooled by reuse; a pid with its
// start time is not. A process is alive
// while the system knows it, with the recorded start time and a state
// other than zombie.
package lockcore

import (
	"errors"
	"os"

	"github.com/mpgo/mp/internal/procinfo"
)

// pidBits is the mask of the pid inside a lock word's low half; Linux pids
// are below 1<<22, macOS and FreeBSD ones below 100000.
const pidBits = 1<<30 - 1

// self is this process's identity; procOK says whether the system can tell
// whether a process is alive (procinfo.Available). Without it (a Linux
// sandbox without /proc, an unknown system), owners are never declared
// dead: locks work, but a dead holder is not recovered.
var self, procOK = func() (uint64, bool) {
	pid := os.Getpid()
	st, _ := startTime(pid)
	return makeID(uint32(pid), uint32(st)), procinfo.Available
}()

func makeID(pid, tag uint32) uint64 { return uint64(tag)<<32 | uint64(pid) }

// Self returns this process's identity.
func Self() uint64 { return self }

// Pid returns the pid of an identity.
func Pid(id uint64) int { return int(id & pidBits) }

// startTime returns the start time of pid, and whether pid is a live
// process (neither gone, nor a zombie). A process whose state cannot be
// read for another reason than its absence (this process out of
// descriptors, say) counts as alive, with a start time of 0: declaring a
// live owner dead would hand its lock to another, which is worse than
// waiting.
func startTime(pid int) (uint64, bool) {
	info, err := procinfo.Read(pid)
	if errors.Is(err, procinfo.ErrNoProcess) {
		return 0, false
	}
	if err != nil {
		return 0, true
	}
	return info.Start, info.Alive()
}

// Alive reports whether the process named by id is running: not gone, not
// a zombie, and not another process that reuses its pid.
func Alive(id uint64) bool {
	if id == self || !procOK {
		return true
	}
	pid := Pid(id)
	if pid == 0 {
		return false
	}
	st, ok := startTime(pid)
	// A zero on either side is a start time that could not be read: the pid
	// alone has to do.
	tag := uint32(id >> 32)
	return ok && (st == 0 || tag == 0 || uint32(st) == tag)
}
