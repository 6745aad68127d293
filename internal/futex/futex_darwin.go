//go:build darwin && !mpportable

package futex

import (
	"math"
	"sync/atomic"
	"time"
	"unsafe"

	"golang.org/x/sys/unix"
)

// macOS's __ulock_wait and __ulock_wake, as xnu declares them in
// bsd/sys/ulock.h and implements them in bsd/kern/sys_ulock.c:
//
//	int __ulock_wait(uint32_t operation, void *addr, uint64_t value,
//	    uint32_t timeout); /* timeout is specified in microseconds */
//	int __ulock_wake(uint32_t operation, void *addr, uint64_t wake_value);
//
// UL_COMPARE_AND_WAIT_SHARED keys a sleeper by the VM object and offset of
// the word (uaddr_findobj in sys_ulock.c), not by its address in one task,
// so that every process that maps the memory meets on it. The system calls
// are private to libSystem but stable under the numbers that x/sys/unix
// names (SYS_ULOCK_WAIT, SYS_ULOCK_WAKE); in Go, unix.Syscall6 enters the
// kernel directly, not through libc's syscall(2).
const (
	ulCompareAndWaitShared = 3          // UL_COMPARE_AND_WAIT_SHARED
	ulfWakeAll             = 0x00000100 // ULF_WAKE_ALL

	// manyWakes is the most sleepers wake wakes one call at a time.
	manyWakes = 64
)

// wait is __ulock_wait. Its timeout is in microseconds, 0 meaning none, at
// most 2^32-1 (71 minutes): a longer one ends early, as a wait may. It
// returns (the count of the other waiters) when woken or when the word
// differs, or fails with ETIMEDOUT or EINTR. Any other error (EINVAL for
// memory it cannot key, EFAULT for a word paged out, which the caller's
// next read brings back) falls back to polling, so that the caller never
// spins.
func wait(addr *atomic.Uint32, val uint32, timeout time.Duration) (timedOut bool) {
	var us uint64
	if timeout >= 0 {
		if timeout == 0 {
			return addr.Load() == val
		}
		us = min(uint64((timeout+time.Microsecond-1)/time.Microsecond), math.MaxUint32)
	}
	//lint:ignore SA1019 __ulock_wait is private to libSystem: calling it there would take cgo.
	_, _, errno := unix.Syscall6(unix.SYS_ULOCK_WAIT, ulCompareAndWaitShared, uintptr(unsafe.Pointer(addr)), uintptr(val),
		uintptr(us), 0, 0)
	switch errno {
	case 0, unix.EINTR:
		return false
	case unix.ETIMEDOUT:
		return us != math.MaxUint32
	}
	return poll([]Word{{Addr: addr, Val: val}}, timeout)
}

// wake wakes this process's pollers (WaitAny polls here), then kernel
// sleepers: one at a time up to the rest of n, each call failing with
// ENOENT once none is left; or, for more than manyWakes, all at once with
// ULF_WAKE_ALL, which says only whether there were any (the extra
// wake-ups are spurious ones, which callers tolerate). The count is
// approximate: a call that finds sleepers leaving counts one.
func wake(addr *atomic.Uint32, n int) int {
	woken := wakePollers(addr, n)
	if n > manyWakes {
		if ulockWake(addr, ulCompareAndWaitShared|ulfWakeAll) {
			woken++
		}
		return woken
	}
	for woken < n && ulockWake(addr, ulCompareAndWaitShared) {
		woken++
	}
	return woken
}

// ulockWake is __ulock_wake; it reports whether there was a sleeper.
func ulockWake(addr *atomic.Uint32, op uintptr) bool {
	//lint:ignore SA1019 __ulock_wake is private to libSystem: calling it there would take cgo.
	_, _, errno := unix.Syscall(unix.SYS_ULOCK_WAKE, op, uintptr(unsafe.Pointer(addr)), 0)
	return errno == 0
}
