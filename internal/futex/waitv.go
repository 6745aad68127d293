package futex

import (
	"context"
	"runtime"
	"sync"
	"sync/atomic"
	"time"
	"unsafe"

	"golang.org/x/sys/unix"
)

// Word is one word of a WaitAny: the wait goes on while *Addr == Val. Like
// Wait, WaitAny waits on each word as on memory shared between processes
// (a word in this process's own memory works too, and Wake wakes it).
type Word struct {
	Addr *atomic.Uint32
	Val  uint32
}

// waitv is the kernel's struct futex_waitv.
type waitv struct {
	val      uint64
	uaddr    uint64
	flags    uint32
	reserved uint32
}

const (
	flagSize32 = 0x02 // FUTEX2_SIZE_U32, without FUTEX2_PRIVATE: as Wait
	maxWords   = 4
)

// CanWaitAny reports whether this kernel has futex_waitv (Linux 5.16 and
// later, unless a sandbox refuses it): without it, WaitAny returns
// unix.ENOSYS at once and callers wait on one word with Wait.
var CanWaitAny = sync.OnceValue(func() bool {
	// No words at all is invalid where the call exists.
	_, _, errno := unix.Syscall6(unix.SYS_FUTEX_WAITV, 0, 0, 0, 0, 0, 0)
	return errno == unix.EINVAL
})

// WaitAny sleeps while every word holds its value, for at most timeout
// (forever if negative). It returns when one of them is woken, when one
// differs on entry, on a signal, or when the timeout passes; the caller
// re-reads the words in every case. It takes at most four words. Its error
// is unix.ENOSYS where the kernel cannot wait on several words; one word
// is a plain Wait, which every kernel has.
func WaitAny(ws []Word, timeout time.Duration) error {
	if len(ws) == 0 || len(ws) > maxWords {
		panic("futex: WaitAny takes one to four words")
	}
	if len(ws) == 1 {
		Wait(ws[0].Addr, ws[0].Val, timeout)
		return nil
	}
	var vs [maxWords]waitv
	for i, w := range ws {
		vs[i] = waitv{val: uint64(w.Val), uaddr: uint64(uintptr(unsafe.Pointer(w.Addr))), flags: flagSize32}
	}
	var tsp unsafe.Pointer
	var ts unix.Timespec
	if timeout >= 0 {
		// futex_waitv takes an absolute time.
		if err := unix.ClockGettime(unix.CLOCK_MONOTONIC, &ts); err != nil {
			return err
		}
		ts = unix.NsecToTimespec(ts.Nano() + int64(timeout))
		tsp = unsafe.Pointer(&ts)
	}
	_, _, errno := unix.Syscall6(unix.SYS_FUTEX_WAITV, uintptr(unsafe.Pointer(&vs[0])), uintptr(len(ws)), 0,
		uintptr(tsp), unix.CLOCK_MONOTONIC, 0)
	for _, w := range ws {
		runtime.KeepAlive(w.Addr)
	}
	if errno == unix.ENOSYS || errno == unix.EPERM {
		return unix.ENOSYS
	}
	return nil
}

// WaitAnyCtx is WaitCtx over several words (see WaitAny), with limit in
// place of Slice as the longest sleep.
func WaitAnyCtx(ctx context.Context, limit time.Duration, ws ...Word) error {
	timeout, err := sliceOf(ctx, limit)
	if err != nil {
		return err
	}
	if err := WaitAny(ws, timeout); err != nil {
		return err
	}
	return ctx.Err()
}
