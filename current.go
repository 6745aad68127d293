package mp

import (
	"os"
	"runtime"
	"slices"
	"sync"

	"github.com/mpgo/mp/internal/proc"
)

// ProcessInfo describes the current process (Python: current_process()).
type ProcessInfo struct {
	// Name is "MainProcess" in a program's first process, and the Name of
	// the Process in a child.
	Name string
	// Pid is the process id.
	Pid int
	// Daemon is true in a daemonic child.
	Daemon bool
	// AuthKey is the process's authentication key: 32 random bytes in the
	// first process, inherited by every child. Managers use it by default.
	AuthKey []byte
	// Identity is the position of the process in the tree: empty in the
	// first process, [2] for its second child, [2 1] for that one's first.
	Identity []int
}

// Current describes the current process.
func Current() ProcessInfo {
	info := proc.Self()
	return ProcessInfo{Name: info.Name, Pid: info.Pid, Daemon: info.Daemon, AuthKey: info.AuthKey, Identity: info.Identity}
}

// ParentPID returns the process id of the parent of this process (Python:
// os.getppid(), parent_process().pid).
func ParentPID() int { return os.Getppid() }

// CPUCount returns the number of CPUs this process may use.
func CPUCount() int { return runtime.NumCPU() }

// active holds the processes started by this process that have not been
// seen to end.
var active struct {
	sync.Mutex
	procs []*Process
}

func addActive(p *Process) {
	active.Lock()
	active.procs = append(active.procs, p)
	active.Unlock()
}

func removeActive(p *Process) {
	active.Lock()
	active.procs = slices.DeleteFunc(active.procs, func(q *Process) bool { return q == p })
	active.Unlock()
}

// ActiveChildren returns the processes started by this process that are
// still running (Python: active_children()). Every child is reaped by mp
// as soon as it exits, so none is ever left a zombie.
func ActiveChildren() []*Process {
	active.Lock()
	defer active.Unlock()
	var out []*Process
	for _, p := range active.procs {
		if p.Alive() {
			out = append(out, p)
		}
	}
	return out
}
