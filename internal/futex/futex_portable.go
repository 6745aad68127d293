//go:build !(linux || freebsd || darwin) || mpportable

package futex

import (
	"sync/atomic"
	"time"
)

// The portable Wait polls the word (see poll.go).
func wait(addr *atomic.Uint32, val uint32, timeout time.Duration) (timedOut bool) {
	return poll([]Word{{Addr: addr, Val: val}}, timeout)
}

// The portable Wake wakes this process's pollers on addr at once and
// counts them; pollers in other processes are not known to it (they see
// the change at their next look), so they are not counted.
func wake(addr *atomic.Uint32, n int) int { return wakePollers(addr, n) }
