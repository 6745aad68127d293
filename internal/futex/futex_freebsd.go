//go:build freebsd && !mpportable

package futex

import (
	"sync/atomic"
	"time"
	"unsafe"

	"golang.org/x/sys/unix"
)

// FreeBSD's _umtx_op(2), as its manual page describes it, and the request
// codes of sys/sys/umtx.h. UMTX_OP_WAIT_UINT and UMTX_OP_WAKE, not their
// _PRIVATE variants: they pick the sleep queue from the mapping, the
// process-shared one for a word in shared memory (keyed by the physical
// page, so that every process that maps it meets there) and the private one
// otherwise.
const (
	umtxOpWake     = 3  // UMTX_OP_WAKE: wake up to val waiters on obj
	umtxOpWaitUint = 11 // UMTX_OP_WAIT_UINT: sleep while the u_int at obj == val
)

// umtxTime is struct _umtx_time, the extended timeout of _umtx_op: with no
// UMTX_ABSTIME in flags, timeout is relative, measured on clockid. The
// call tells it from a bare struct timespec by its size, passed in uaddr.
type umtxTime struct {
	timeout unix.Timespec
	flags   uint32
	clockid uint32
}

// wait is UMTX_OP_WAIT_UINT with a relative timeout on CLOCK_MONOTONIC. It
// returns 0 when woken or when the word differs, ETIMEDOUT, or EINTR on a
// signal. Any other error (which the manual does not list for a valid
// word) falls back to polling, so that the caller never spins.
func wait(addr *atomic.Uint32, val uint32, timeout time.Duration) (timedOut bool) {
	var ut *umtxTime
	var size uintptr
	if timeout >= 0 {
		ut = &umtxTime{timeout: unix.NsecToTimespec(int64(timeout)), clockid: unix.CLOCK_MONOTONIC}
		size = unsafe.Sizeof(*ut)
	}
	_, _, errno := unix.Syscall6(unix.SYS__UMTX_OP, uintptr(unsafe.Pointer(addr)), umtxOpWaitUint, uintptr(val),
		size, uintptr(unsafe.Pointer(ut)), 0)
	switch errno {
	case 0, unix.EINTR:
		return false
	case unix.ETIMEDOUT:
		return true
	}
	return poll([]Word{{Addr: addr, Val: val}}, timeout)
}

// wake wakes this process's pollers (WaitAny polls here), then up to the
// rest of n kernel sleepers with UMTX_OP_WAKE. The call returns 0 whatever
// it woke, so the count is of the pollers alone: a lower bound.
func wake(addr *atomic.Uint32, n int) int {
	woken := wakePollers(addr, n)
	if n > woken {
		unix.Syscall6(unix.SYS__UMTX_OP, uintptr(unsafe.Pointer(addr)), umtxOpWake, uintptr(n-woken), 0, 0, 0)
	}
	return woken
}
