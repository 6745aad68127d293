// Package background runs mp's process-lifetime goroutines and keeps the
// list of its process-lifetime children: ones that live as long as the
// process (warm spare processes and the goroutines that watch them) and so
// have no join point of their own. Leak checks recognise such goroutines by
// this package's frame at the bottom of their stack (or that of the
// goroutine that created them), and such children by Pids.
package background

import (
	"sync"
	"sync/atomic"
)

// Go starts fn in a goroutine that leak checks treat as part of the process,
// not of any test.
func Go(fn func()) { go run(fn) }

func run(fn func()) { fn() }

// tracked guards the process-lifetime children and the descriptors this
// process holds for them.
var tracked struct {
	sync.Mutex
	fds map[int][]int // pid → descriptors
}

// Track records a process-lifetime child and descriptors held for it; it
// may be called again to add descriptors.
func Track(pid int, fds ...int) {
	tracked.Lock()
	defer tracked.Unlock()
	if tracked.fds == nil {
		tracked.fds = map[int][]int{}
	}
	tracked.fds[pid] = append(tracked.fds[pid], fds...)
}

// lifetime holds objects (processes) marked as living as long as this
// process.
var lifetime sync.Map

// MarkLifetime marks obj, a process about to be started, as living as long
// as this process: its watching goroutines run under Go, and it is tracked.
func MarkLifetime(obj any) { lifetime.Store(obj, true) }

// IsLifetime reports whether obj was marked with MarkLifetime.
func IsLifetime(obj any) bool {
	_, ok := lifetime.Load(obj)
	return ok
}

// Untrack forgets a child, which now belongs to someone.
func Untrack(pid int) {
	tracked.Lock()
	defer tracked.Unlock()
	delete(tracked.fds, pid)
}

// Pids returns the process-lifetime children.
func Pids() []int {
	tracked.Lock()
	defer tracked.Unlock()
	var out []int
	for pid := range tracked.fds {
		out = append(out, pid)
	}
	return out
}

// FDs returns the descriptors held for process-lifetime children.
func FDs() []int {
	tracked.Lock()
	defer tracked.Unlock()
	var out []int
	for _, fds := range tracked.fds {
		out = append(out, fds...)
	}
	return out
}

// fdsOf returns the descriptors of an object of a package above this one
// (a Conn of package mp, which sets it), for TrackObject.
var fdsOf atomic.Pointer[func(obj any) []int]

// SetFDsOf tells TrackObject how to find an object's descriptors.
func SetFDsOf(f func(obj any) []int) { fdsOf.Store(&f) }

// TrackObject is Track with the descriptors of obj (a Conn, which may hold
// several).
func TrackObject(pid int, obj any) {
	var fds []int
	if f := fdsOf.Load(); f != nil {
		fds = (*f)(obj)
	}
	Track(pid, fds...)
}
