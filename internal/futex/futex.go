// Package futex waits on and wakes 32-bit words in memory shared between
// processes.
//
// Wait blocks the calling goroutine for at most the timeout it is given;
// WaitCtx turns that into a wait that a context ends, by waiting in
// slices, so that no goroutine is ever stuck for longer than a slice after
// its context ended. Every wait may end early (woken for another reason, a
// signal, a change and change back of the word): callers re-read the word,
// and whatever else they check, in every case.
//
// Each build has one implementation:
//   - Linux (futex_linux.go, waitv_linux.go): futexes without
//     FUTEX_PRIVATE_FLAG, so that waiters in different processes that map
//     the same memory meet on the same word; WaitAny is futex_waitv.
//   - FreeBSD (futex_freebsd.go): _umtx_op's UMTX_OP_WAIT_UINT and
//     UMTX_OP_WAKE, which pick the process-shared sleep queue for shared
//     mappings; WaitAny polls (poll.go).
//   - macOS (futex_darwin.go): __ulock_wait and __ulock_wake with
//     UL_COMPARE_AND_WAIT_SHARED; WaitAny polls.
//   - portable (futex_portable.go: other systems, and every system with
//     the build tag mpportable): POSIX has no wait on a word shared
//     between processes, so a waiter polls the word, with a bounded sleep
//     between looks (poll.go); a Wake in the same process wakes it at once.
package futex

import (
	"context"
	"sync/atomic"
	"time"
)

// Slice bounds one sleep inside WaitCtx: a waiter looks at its context
// (and its caller at whatever else it checks) at least this often.
const Slice = 50 * time.Millisecond

// wakeAll is the largest count Wake passes on: every waiter.
const wakeAll = 1 << 30

// Wait sleeps while *addr == val, for at most timeout (forever if timeout is
// negative). It returns when woken, when *addr != val on entry, on a signal,
// or when the timeout passes; the caller re-reads the word in every case.
// It reports whether the timeout passed.
func Wait(addr *atomic.Uint32, val uint32, timeout time.Duration) (timedOut bool) {
	return wait(addr, val, timeout)
}

// Wake wakes at most n waiters sleeping on addr, in any process, and
// returns how many it woke, as far as the system tells: exactly on Linux;
// elsewhere see wake in each implementation (the portable one counts only
// this process's sleepers: one in another process polls, known to nobody,
// and sees the change at its next look). No caller depends on the count.
func Wake(addr *atomic.Uint32, n int) int {
	if n <= 0 {
		return 0
	}
	return wake(addr, min(n, wakeAll))
}

// WakeAll wakes every waiter sleeping on addr.
func WakeAll(addr *atomic.Uint32) int { return Wake(addr, wakeAll) }

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
