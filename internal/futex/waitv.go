package futex

import (
	"context"
	"sync"
	"sync/atomic"
	"time"
)

// Word is one word of a WaitAny: the wait goes on while *Addr == Val. Like
// Wait, WaitAny waits on each word as on memory shared between processes
// (a word in this process's own memory works too, and Wake wakes it).
type Word struct {
	Addr *atomic.Uint32
	Val  uint32
}

// maxWords is the most words one WaitAny takes.
const maxWords = 4

// CanWaitAny reports whether WaitAny works here. On Linux it needs
// futex_waitv (Linux 5.16 and later, unless a sandbox refuses it): without
// it, WaitAny returns unix.ENOSYS at once and callers wait on one word with
// Wait. Elsewhere WaitAny polls, which always works.
var CanWaitAny = sync.OnceValue(canWaitAny)

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
	return waitAny(ws, timeout)
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
