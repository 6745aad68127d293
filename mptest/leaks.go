package mptest

import (
	"fmt"
	"os"
	"slices"
	"strconv"
	"strings"
	"testing"
	"time"

	"github.com/mpgo/mp/internal/background"
	"github.com/mpgo/mp/internal/procinfo"
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
// processes, including pidfds (the runtime's among them, on Linux) that
// refer to them.
func heldForSpares() map[int]bool {
	held := map[int]bool{}
	for _, fd := range background.FDs() {
		held[fd] = true
	}
	for _, fd := range pidfdsOf(background.Pids()) {
		held[fd] = true
	}
	return held
}

// children lists the live and zombie children of this process, each as
// "pid (name) state letter", as ps would show it.
func children() []string {
	self := os.Getpid()
	pids, _ := procinfo.List()
	var out []string
	for _, pid := range pids {
		if info, err := procinfo.Read(pid); err != nil || info.Parent != self {
			continue
		}
		if d, err := procinfo.Describe(pid); err == nil {
			out = append(out, fmt.Sprintf("%d (%s) state %c", pid, d.Name, d.Letter))
		}
	}
	return out
}

// openFDs maps each open descriptor of this process to what it refers to.
func openFDs() map[string]string {
	fds, _ := procinfo.OpenFDs()
	out := make(map[string]string, len(fds))
	for fd, target := range fds {
		out[strconv.Itoa(fd)] = target
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
