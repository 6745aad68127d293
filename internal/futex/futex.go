// Package futex waits on and wakes 32-bit words in memory shared between
// processes (Linux futexes, without FUTEX_PRIVATE_FLAG, so that waiters in
// different processes that map the same memory meet on the same word).
//
// Wait blocks the calling goroutine's thread in the kernel for at most the
// timeout it is given; WaitCtx turns that into a wait that a context ends,
// by waiting in slices, so that no goroutine is ever stuck in the kernel for
// longer than a slice after its context ended.
package futex

import (
	"context"
	"sync/atomic"
	"time"
	"unsafe"

	"golang.org/x/sys/unix"

	_ "github.com/mpgo/mp/internal/linuxonly"
)

const (
	opWait = 0 // FUTEX_WAIT, shared between processes
	opWake = 1 // FUTEX_WAKE, shared between processes
)

// Slice bounds one sleep in the kernel inside WaitCtx: a waiter looks at its
// context (and its caller at whatever else it checks) at least this often.
const Slice = 50 * time.Millisecond

// Wait sleeps while *addr == val, for at most timeout (forever if timeout is
// negative). It returns when woken, when *addr != val on entry, on a signal,
// or when the timeout passes; the caller re-reads the word in every case.
// It reports whether the timeout passed.
func Wait(addr *atomic.Uint32, val uint32, timeout time.Duration) (timedOut bool) {
	var tsp unsafe.Pointer
	var ts unix.Timespec
	if timeout >= 0 {
		ts = unix.NsecToTimespec(int64(timeout))
		tsp = unsafe.Pointer(&ts)
	}
	_, _, errno := unix.Syscall6(unix.SYS_FUTEX, uintptr(unsafe.Pointer(addr)), opWait, uintptr(val), uintptr(tsp), 0, 0)
	return errno == unix.ETIMEDOUT
}

// Wake wakes at most n waiters sleeping on addr, in any process, and
// returns how many it woke.
func Wake(addr *atomic.Uint32, n int) int {
	if n <= 0 {
		return 0
	}
	if n > 1<<30 {
		n = 1 << 30
	}
	r, _, errno := unix.Syscall6(unix.SYS_FUTEX, uintptr(unsafe.Pointer(addr)), opWake, uintptr(n), 0, 0, 0)
	if errno != 0 {
		return 0
	}
	return int(r)
}

// WakeAll wakes every waiter sleeping on addr.
func WakeAll(addr *atomic.Uint32) int { return Wake(addr, 1<<30) }

// WaitCtx sleeps while *addr == val, for at most one Slice, less if ctx's
// deadline comes sooner. It returns ctx's error if ctx has ended (before or
// after the sleep), and nil otherwise — woken, value changed, or the slice
// passed; the caller re-reads the word and re-checks whatever it must check
// periodically (such as whether the holder of a lock is still alive).
func WaitCtx(ctx context.Context, addr *atomic.Uint32, val uint32) error {
	timeout, err := sliceOf(ctx, Slice)
	if err != nil {
		return err
	}
	Wait(addr, val, timeout)
	return ctx.Err()
}

// sliceOf returns how long a sleep of at most limit may last under ctx, or
// ctx's error if it has ended.
func sliceOf(ctx context.Context, limit time.Duration) (time.Duration, error) {
	if err := ctx.Err(); err != nil {
		return 0, err
	}
	if d, ok := ctx.Deadline(); ok {
		left := time.Until(d)
		if left <= 0 {
			return 0, context.DeadlineExceeded
		}
		limit = min(limit, left)
	}
	return limit, nil
}
