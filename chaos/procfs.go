package chaos

import (
	"bytes"
	"context"
	"fmt"
	"os"
	"path/filepath"
	"runtime"
	"runtime/debug"
	"slices"
	"strconv"
	"strings"
	"time"

	"golang.org/x/sys/unix"
)

// children returns the pids of pid's children, read from /proc.
func children(pid int) []int {
	tasks, _ := filepath.Glob(fmt.Sprintf("/proc/%d/task/*/children", pid))
	var out []int
	for _, t := range tasks {
		b, err := os.ReadFile(t)
		if err != nil {
			continue
		}
		for _, f := range strings.Fields(string(b)) {
			if n, err := strconv.Atoi(f); err == nil {
				out = append(out, n)
			}
		}
	}
	slices.Sort(out)
	return slices.Compact(out)
}

// descendants returns the pids of every descendant of pid.
func descendants(pid int) []int {
	var out []int
	for todo := children(pid); len(todo) > 0; {
		p := todo[0]
		todo = todo[1:]
		out = append(out, p)
		todo = append(todo, children(p)...)
	}
	return out
}

// procState returns the state letter of a process ('R', 'S', 'Z', …), or
// 0 if it does not exist.
func procState(pid int) byte {
	b, err := os.ReadFile(fmt.Sprintf("/proc/%d/stat", pid))
	if err != nil {
		return 0
	}
	// The command name is in parentheses and may hold anything.
	i := bytes.LastIndexByte(b, ')')
	if i < 0 || i+2 >= len(b) {
		return 0
	}
	return b[i+2]
}

// comm returns a process's command name, or "" if it does not exist.
func comm(pid int) string {
	b, _ := os.ReadFile(fmt.Sprintf("/proc/%d/comm", pid))
	return strings.TrimSpace(string(b))
}

// zombies counts the children of this process that have exited and were
// not reaped.
func zombies() int {
	n := 0
	for _, c := range children(os.Getpid()) {
		if procState(c) == 'Z' {
			n++
		}
	}
	return n
}

// rssKiB returns a process's resident set in KiB (VmRSS), or -1.
func rssKiB(pid int) int {
	return statusKiB(pid, "VmRSS:")
}

// peakRSSKiB returns a process's peak resident set in KiB (VmHWM), or -1.
func peakRSSKiB(pid int) int {
	return statusKiB(pid, "VmHWM:")
}

func statusKiB(pid int, field string) int {
	b, err := os.ReadFile(fmt.Sprintf("/proc/%d/status", pid))
	if err != nil {
		return -1
	}
	for line := range strings.Lines(string(b)) {
		if rest, ok := strings.CutPrefix(line, field); ok {
			f := strings.Fields(rest)
			if len(f) > 0 {
				n, _ := strconv.Atoi(f[0])
				return n
			}
		}
	}
	return -1
}

// usage is what this process holds of each kind of resource that a leak
// would make grow.
type usage struct {
	fds, goroutines, maps, shm, children int
	rssKiB                               int
}

// measure takes this process's usage, after a garbage collection that
// returns what it can to the system.
func measure() usage {
	runtime.GC()
	debug.FreeOSMemory()
	return usage{
		fds:        countDir("/proc/self/fd"),
		goroutines: runtime.NumGoroutine(),
		maps:       sharedMappings(),
		shm:        shmEntries(),
		children:   len(children(os.Getpid())),
		rssKiB:     rssKiB(os.Getpid()),
	}
}

func countDir(dir string) int {
	es, err := os.ReadDir(dir)
	if err != nil {
		return -1
	}
	return len(es)
}

// sharedMappings counts this process's shared mappings: mp's objects in
// shared memory. The private ones are the Go runtime's, which maps and
// splits its heap as it likes.
func sharedMappings() int {
	b, err := os.ReadFile("/proc/self/maps")
	if err != nil {
		return -1
	}
	n := 0
	for line := range strings.Lines(string(b)) {
		// "start-end perms offset dev inode path"; perms is "rw-s" for a
		// shared mapping.
		if f := strings.Fields(line); len(f) > 1 && strings.HasSuffix(f[1], "s") {
			n++
		}
	}
	return n
}

// shmEntries counts the distinct /dev/shm entries this process maps or
// holds open. /dev/shm is shared with every other program, so its
// listing says nothing about this one.
func shmEntries() int {
	seen := map[string]bool{}
	if b, err := os.ReadFile("/proc/self/maps"); err == nil {
		for line := range strings.Lines(string(b)) {
			if i := strings.Index(line, "/dev/shm/"); i >= 0 {
				seen[strings.TrimSpace(line[i:])] = true
			}
		}
	}
	fds, _ := os.ReadDir("/proc/self/fd")
	for _, fd := range fds {
		if t, err := os.Readlink("/proc/self/fd/" + fd.Name()); err == nil && strings.HasPrefix(t, "/dev/shm/") {
			seen[t] = true
		}
	}
	return len(seen)
}

// settle calls cond until it is true or bound passes, and reports whether
// it became true. It is for state that only /proc shows, which nothing
// announces: a process reaped, a goroutine returned.
func settle(ctx context.Context, bound time.Duration, cond func() bool) bool {
	ctx, cancel := context.WithTimeout(ctx, bound)
	defer cancel()
	t := time.NewTicker(time.Millisecond)
	defer t.Stop()
	for !cond() {
		select {
		case <-ctx.Done():
			return cond()
		case <-t.C:
		}
	}
	return true
}

// monotonic returns CLOCK_MONOTONIC in nanoseconds: one clock for every
// process of the machine, so that times taken in two processes compare.
func monotonic() int64 {
	var ts unix.Timespec
	unix.ClockGettime(unix.CLOCK_MONOTONIC, &ts)
	return ts.Nano()
}

// waitGone waits until every process of pidfds has exited (a zombie
// counts as exited) or ctx ends, and returns how many are still running.
func waitGone(ctx context.Context, pidfds []int) int {
	left := slices.Clone(pidfds)
	for len(left) > 0 && ctx.Err() == nil {
		fds := make([]unix.PollFd, len(left))
		for i, fd := range left {
			fds[i] = unix.PollFd{Fd: int32(fd), Events: unix.POLLIN}
		}
		ms := 100
		if d, ok := ctx.Deadline(); ok {
			ms = max(0, min(ms, int(time.Until(d).Milliseconds())))
		}
		if _, err := unix.Poll(fds, ms); err != nil && err != unix.EINTR {
			break
		}
		left = left[:0]
		for _, f := range fds {
			if f.Revents == 0 {
				left = append(left, int(f.Fd))
			}
		}
	}
	return len(left)
}

// percentile returns the p-th percentile (0 < p ≤ 100) of ds, which it
// sorts.
func percentile(ds []time.Duration, p float64) time.Duration {
	if len(ds) == 0 {
		return 0
	}
	slices.Sort(ds)
	i := int(float64(len(ds))*p/100+0.5) - 1
	return ds[max(0, min(i, len(ds)-1))]
}

// tempDir returns cfg.Dir, or a new directory and a function that removes
// it.
func tempDir(cfg Config) (string, func(), error) {
	if cfg.Dir != "" {
		return cfg.Dir, func() {}, nil
	}
	d, err := os.MkdirTemp("", "mpchaos")
	if err != nil {
		return "", nil, err
	}
	return d, func() { os.RemoveAll(d) }, nil
}
