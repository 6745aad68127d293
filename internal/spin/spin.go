// Package spin is mp's one rule for waiting a little before going to
// sleep. A waiter that expects its reply, item or lock within microseconds
// (the other side is running and about to answer) polls for it for up to
// Window, yielding the processor between polls, before it parks in the
// kernel or in Go's poller: waking a parked process costs tens of
// microseconds here, most of a round trip.
//
// The rule, and the measurements that chose it, are in
// docs/architecture.md ("Waiting"). In short: a window in time, not a
// number of tries (a try's cost varies from a load of shared memory to a
// system call); no polling where only one processor can run the program's
// goroutines, since it only delays the side that would answer; and a
// waiter whose last wait was long does not poll the next time, until
// answers come quickly again, so that a server with many idle clients does
// not spend its processors polling for them.
package spin

import (
	"runtime"
	"time"
)

const (
	// Window is how long a waiter polls before it parks.
	Window = 50 * time.Microsecond
	// Cold is how long a wait must have lasted for the waiter to skip
	// polling the next time.
	Cold = 10 * time.Millisecond
)

// enabled reports whether polling can help: another processor may be
// running the side that answers.
func enabled() bool { return runtime.GOMAXPROCS(0) > 1 }

// Until calls ready until it reports true, yielding the processor between
// calls, for at most Window; it returns ready's last answer. It calls
// ready once when polling cannot help.
func Until(ready func() bool) bool {
	if ready() {
		return true
	}
	if !enabled() {
		return false
	}
	deadline := time.Now().Add(Window)
	for {
		runtime.Gosched()
		if ready() {
			return true
		}
		if time.Now().After(deadline) {
			return false
		}
	}
}

// Waiter is Until with a memory of its last wait: one whose last wait was
// long (Cold or more, parking included) does not poll, until a wait is
// short again. Its zero value polls. A Waiter is used by one goroutine at
// a time.
type Waiter struct {
	cold bool // the last wait was long
	off  bool // never poll
}

// Until is the package's Until, except that a cold or switched-off waiter
// calls ready only once.
func (w *Waiter) Until(ready func() bool) bool {
	if w.cold || w.off {
		return ready()
	}
	return Until(ready)
}

// Waited records how long a whole wait lasted, from its start to its
// answer.
func (w *Waiter) Waited(d time.Duration) { w.cold = d >= Cold }

// SetPolling switches polling on (the default) or off: off for a waiter
// whose polling would take the processor the answering side needs.
func (w *Waiter) SetPolling(on bool) { w.off = !on }
