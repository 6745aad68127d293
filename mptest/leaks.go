package mptest

import (
	"bytes"
	"fmt"
	"os"
	"path/filepath"
	"slices"
	"strconv"
	"strings"
	"testing"
	"time"

	"github.com/mpgo/mp/internal/background"
	"github.com/mpgo/mp/internal/stacks"
)

// settle is how long CheckLeaks waits for children to be reaped, fds to be
// closed and goroutines to end before it reports them.
var settle = 5 * time.Second

// snapshot is what a process holds at one moment.
type snapshot struct {
	children   []string // "pid state cmd" of each child process
	fds        map[string]string
	shm        []string
	goroutines map[string]string // id → stack
}

// CheckLeaks records what this process holds now and registers a cleanup
// that fails t if, once the test has ended, more is held: child processes
// (running or zombie), open file descriptors, named shared memory (in
// /dev/shm, or where package shm keeps it), or goroutines. It waits a few
// seconds for things to wind down before it reports them. Tests that call
// it must not run in parallel with others in the same process.
func CheckLeaks(t testing.TB) {
	t.Helper()
	base := take()
	t.Cleanup(func() {
		var report string
		deadline := time.Now().Add(settle)
		for {
			report = base.leaked(take())
			if report == "" || time.Now().After(deadline) {
				break
			}
			if os.Getenv("MPTEST_DEBUG") != "" {
				fmt.Fprintf(os.Stderr, "%v pending: %s\n", time.Now().Format("05.000"), report)
			}
			time.Sleep(20 * time.Millisecond)
		}
		if report != "" {
			t.Errorf("mptest: left behind after the test:\n%s", report)
		}
	})
}

func take() snapshot {
	return snapshot{
		children:   children(),
		fds:        openFDs(),
		shm:        shmEntries(),
		goroutines: goroutines(),
	}
}

// leaked describes what now holds beyond base, or returns "".
func (base snapshot) leaked(now snapshot) string {
	var b strings.Builder
	spares := background.Pids()
	for _, c := range now.children {
		if !slices.Contains(base.children, c) && !slices.ContainsFunc(spares, func(pid int) bool { return strings.HasPrefix(c, strconv.Itoa(pid)+" ") }) {
			fmt.Fprintf(&b, "child process: %s\n", c)
		}
	}
	held := heldForSpares()
	for fd, target := range now.fds {
		if n, _ := strconv.Atoi(fd); base.fds[fd] != target && !held[n] {
			fmt.Fprintf(&b, "file descriptor %s -> %s\n", fd, target)
		}
	}
	var fresh []string
	for _, s := range now.shm {
		if !slices.Contains(base.shm, s) {
			fresh = append(fresh, s)
		}
	}
	for _, s := range ownShm(fresh) {
		fmt.Fprintf(&b, "shared memory: %s\n", s)
	}
	for id, stack := range now.goroutines {
		if _, ok := base.goroutines[id]; !ok {
			fmt.Fprintf(&b, "goroutine %s:\n%s\n", id, stack)
		}
	}
	return b.String()
}

// heldForSpares returns the descriptors mp holds for its warm spare
// processes, including pidfds (the runtime's among them) that refer to them.
func heldForSpares() map[int]bool {
	held := map[int]bool{}
	for _, fd := range background.FDs() {
		held[fd] = true
	}
	spares := background.Pids()
	ents, _ := os.ReadDir("/proc/self/fdinfo")
	for _, e := range ents {
		data, err := os.ReadFile("/proc/self/fdinfo/" + e.Name())
		if err != nil {
			continue
		}
		for _, line := range strings.Split(string(data), "\n") {
			pid, ok := strings.CutPrefix(line, "Pid:")
			if !ok {
				continue
			}
			n, _ := strconv.Atoi(strings.TrimSpace(pid))
			if slices.Contains(spares, n) {
				fd, _ := strconv.Atoi(e.Name())
				held[fd] = true
			}
		}
	}
	return held
}

// children lists the live and zombie children of this process, from /proc.
func children() []string {
	self := strconv.Itoa(os.Getpid())
	dirs, _ := filepath.Glob("/proc/[0-9]*/stat")
	var out []string
	for _, d := range dirs {
		data, err := os.ReadFile(d)
		if err != nil {
			continue
		}
		// pid (comm) state ppid …; comm may hold spaces and parentheses.
		end := bytes.LastIndexByte(data, ')')
		if end < 0 {
			continue
		}
		f := strings.Fields(string(data[end+1:]))
		if len(f) > 1 && f[1] == self {
			out = append(out, fmt.Sprintf("%s state %s", string(data[:end+1]), f[0]))
		}
	}
	return out
}

// openFDs maps each open descriptor of this process to what it refers to.
func openFDs() map[string]string {
	ents, _ := os.ReadDir("/proc/self/fd")
	out := make(map[string]string, len(ents))
	for _, e := range ents {
		target, err := os.Readlink("/proc/self/fd/" + e.Name())
		if err != nil {
			continue // the descriptor ReadDir itself used
		}
		out[e.Name()] = target
	}
	return out
}

// ignoredFrames mark goroutines that belong to the process or to the test
// framework, not to a test.
var ignoredFrames = []string{
	"github.com/mpgo/mp/internal/background.run",
	"testing.(*T).Run",
	"testing.tRunner",
	"testing.runTests",
	"testing.(*M).",
	"os/signal.signal_recv",
	"runtime.ensureSigM",
	"main.main",
}

// goroutines maps the id of each goroutine but the caller's and the
// ignored ones to its stack.
func goroutines() map[string]string {
	out := map[string]string{}
	for i, g := range strings.Split(stacks.Dump(), "\n\n") {
		if i == 0 { // the calling goroutine
			continue
		}
		if ignoredGoroutine(g) {
			continue
		}
		id := strings.Fields(g)[1]
		out[id] = g
	}
	return out
}

func ignoredGoroutine(stack string) bool {
	for _, f := range ignoredFrames {
		if strings.Contains(stack, f) {
			return true
		}
	}
	return false
}
