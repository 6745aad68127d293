package mp

import (
	"crypto/rand"
	"fmt"
	"os"
	"runtime"
	"slices"
	"strconv"
	"strings"
	"sync"
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

// self guards the current process's description.
var self struct {
	sync.Mutex
	info     ProcessInfo
	children int // how many Processes this process has created
}

func init() {
	self.info = ProcessInfo{Name: "MainProcess", Pid: os.Getpid()}
}

// Current describes the current process.
func Current() ProcessInfo {
	self.Lock()
	defer self.Unlock()
	if self.info.AuthKey == nil {
		self.info.AuthKey = make([]byte, 32)
		rand.Read(self.info.AuthKey)
	}
	info := self.info
	info.AuthKey = slices.Clone(info.AuthKey)
	info.Identity = slices.Clone(info.Identity)
	return info
}

// setCurrent records what the parent told a child about itself.
func setCurrent(m *startMsg) {
	self.Lock()
	defer self.Unlock()
	self.info = ProcessInfo{Name: m.Name, Pid: os.Getpid(), Daemon: m.Daemon, AuthKey: m.AuthKey, Identity: m.Identity}
}

// nextIdentity returns the identity and default name of the next child.
func nextIdentity() ([]int, string) {
	self.Lock()
	defer self.Unlock()
	self.children++
	id := append(slices.Clone(self.info.Identity), self.children)
	parts := make([]string, len(id))
	for i, n := range id {
		parts[i] = strconv.Itoa(n)
	}
	return id, fmt.Sprintf("Process-%s", strings.Join(parts, ":"))
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
