//go:build linux && !mpportable

package futex

import (
	"sync/atomic"
	"time"
	"unsafe"

	"golang.org/x/sys/unix"
)

const (
	opWait = 0 // FUTEX_WAIT, shared between processes
	opWake = 1 // FUTEX_WAKE, shared between processes
)

// wait is FUTEX_WAIT with a relative timeout.
func wait(addr *atomic.Uint32, val uint32, timeout time.Duration) (timedOut bool) {
	var tsp unsafe.Pointer
	var ts unix.Timespec
	if timeout >= 0 {
		ts = unix.NsecToTimespec(int64(timeout))
		tsp = unsafe.Pointer(&ts)
	}
	_, _, errno := unix.Syscall6(unix.SYS_FUTEX, uintptr(unsafe.Pointer(addr)), opWait, uintptr(val), uintptr(tsp), 0, 0)
	return errno == unix.ETIMEDOUT
}

// wake is FUTEX_WAKE, which returns how many waiters it woke.
func wake(addr *atomic.Uint32, n int) int {
	r, _, errno := unix.Syscall6(unix.SYS_FUTEX, uintptr(unsafe.Pointer(addr)), opWake, uintptr(n), 0, 0, 0)
	if errno != 0 {
		return 0
	}
	return int(r)
}
