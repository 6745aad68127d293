package chaos

import (
	"context"
	"os"
	"runtime"
	"runtime/debug"
	"slices"
	"time"

	"golang.org/x/sys/unix"

	"github.com/mpgo/mp/internal/procinfo"
)

// children returns the pids of pid's children, zombies among them.
func children(pid int) []int {
	var out []int
	for p, info := range processTable() {
		if info.Parent == pid {
			out = append(out, p)
		}
	}
	slices.Sort(out)
	return out
}

// processTable reads every process's entry in the system's process table.
func processTable() map[int]procinfo.Info {
	pids, _ := procinfo.List()
	table := make(map[int]procinfo.Info, len(pids))
	for _, p := range pids {
		if info, err := procinfo.Read(p); err == nil {
			table[p] = info
		}
	}
	return table
}

// descendants returns the pids of every descendant of pid.
func descendants(pid int) []int {
	kids := map[int][]int{}
	for p, info := range processTable() {
		kids[info.Parent] = append(kids[info.Parent], p)
	}
	var out []int
	for todo := kids[pid]; len(todo) > 0; {
		p := todo[0]
		todo = todo[1:]
		out = append(out, p)
		todo = append(todo, kids[p]...)
	}
	return out
}

// alive reports whether process pid exists and has not ended.
func alive(pid int) bool {
	info, err := procinfo.Read(pid)
	return err == nil && info.Alive()
}

// isStopped reports whether process pid is stopped (by a signal).
func isStopped(pid int) bool {
	info, err := procinfo.Read(pid)
	return err == nil && info.State == procinfo.Stopped
}

// zombies counts the children of this process that have exited and were
// not reaped.
func zombies() int {
	n := 0
	for _, info := range processTable() {
		if info.Parent == os.Getpid() && info.State == procinfo.Zombie {
			n++
		}
	}
	return n
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
		fds:        countFDs(),
		goroutines: runtime.NumGoroutine(),
		maps:       sharedMappings(),
		shm:        shmEntries(),
		children:   len(children(os.Getpid())),
		rssKiB:     rssKiB(os.Getpid()),
	}
}

// countFDs counts this process's open descriptors, or returns -1.
func countFDs() int {
	fds, err := procinfo.OpenFDs()
	if err != nil {
		return -1
	}
	return len(fds)
}

// settle calls cond until it is true or bound passes, and reports whether
// it became true. It is for state that only the process table shows,
// which nothing announces: a process reaped, a goroutine returned.
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
