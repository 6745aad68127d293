// Package procinfo reads what the system says about a process: its state,
// its parent and process group, and its start time, which together with the
// pid names a process in a way that pid reuse cannot fool.
//
// Linux answers from /proc/<pid>/stat; macOS and FreeBSD from the kernel's
// process table through sysctl (kern.proc.pid). POSIX itself has no such
// call, so the portable mechanism set (build tag mpportable) reads /proc on
// Linux too: this package is per system, not per mechanism set.
package procinfo

import "errors"

// ErrNoProcess is the error of Read for a pid that names no process.
var ErrNoProcess = errors.New("mp: no such process")

// State is a process's scheduling state, as far as mp needs it.
type State byte

const (
	// Running is a process that runs, sleeps or waits: it is alive.
	Running State = 'R'
	// Stopped is a process stopped by a signal or a debugger: alive.
	Stopped State = 'T'
	// Zombie is a process that has ended and waits for its parent to
	// collect its status: it is not alive, but its pid is still taken.
	Zombie State = 'Z'
)

// Info is what Read tells of a process.
type Info struct {
	State  State
	Parent int // parent's pid
	Group  int // process group id
	// Start is the process's start time in a unit of the system's own
	// (clock ticks since boot on Linux, microseconds since boot on
	// FreeBSD, microseconds since the epoch on macOS, which records it
	// once). Only its equality means anything: a pid with the same start
	// time is the same process, whatever the wall clock did since.
	Start uint64
}

// Alive reports whether the process has not ended.
func (i Info) Alive() bool { return i.State != Zombie }
