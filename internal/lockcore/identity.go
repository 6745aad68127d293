// Package lockcore holds the algorithms of mp's locks in shared memory:
// words that processes change with atomic instructions and wait on with
// futexes, and the recovery of what a dead process held.
//
// An owner is a process, named in shared memory by an identity: its pid in
// the low 32 bits and the low 32 bits of its start time (clock ticks since
// boot, from /proc/<pid>/stat) in the high 32 bits. A pid alone would be
// fooled by reuse; a pid with its start time is not. A process is alive
// while /proc/<pid>/stat exists, shows the recorded start time and a state
// other than zombie or dead.
package lockcore

import (
	"bytes"
	"errors"
	"io/fs"
	"os"
	"strconv"
	"syscall"
)

// pidBits is the mask of the pid inside a lock word's low half; Linux pids
// are below 1<<22.
const pidBits = 1<<30 - 1

// self is this process's identity; procOK says whether /proc can tell
// whether a process is alive. Without /proc (an unusual sandbox), owners
// are never declared dead: locks work, but a dead holder is not recovered.
var self, procOK = func() (uint64, bool) {
	pid := os.Getpid()
	st, ok := startTime(pid)
	return makeID(uint32(pid), uint32(st)), ok
}()

func makeID(pid, tag uint32) uint64 { return uint64(tag)<<32 | uint64(pid) }

// Self returns this process's identity.
func Self() uint64 { return self }

// Pid returns the pid of an identity.
func Pid(id uint64) int { return int(id & pidBits) }

// startTime returns the start time of pid in clock ticks since boot, and
// whether pid is a live process (neither gone, nor a zombie). A process
// whose state cannot be read for another reason than its absence (this
// process out of descriptors, say) counts as alive: declaring a live owner
// dead would hand its lock to another, which is worse than waiting.
func startTime(pid int) (uint64, bool) {
	data, err := os.ReadFile("/proc/" + strconv.Itoa(pid) + "/stat")
	if errors.Is(err, fs.ErrNotExist) || errors.Is(err, syscall.ESRCH) {
		return 0, false
	}
	if err != nil {
		return 0, true
	}
	// pid (comm) state ppid … starttime is field 22; comm may hold spaces
	// and parentheses, so fields are counted from the last ')'.
	end := bytes.LastIndexByte(data, ')')
	if end < 0 {
		return 0, false
	}
	f := bytes.Fields(data[end+1:])
	if len(f) < 20 {
		return 0, false
	}
	switch f[0][0] {
	case 'Z', 'X', 'x':
		return 0, false
	}
	st, err := strconv.ParseUint(string(f[19]), 10, 64)
	return st, err == nil
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
