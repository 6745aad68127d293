package lockcore

import (
	"context"
	"sync/atomic"

	"github.com/mpgo/mp/internal/futex"
)

// Event is a flag in shared memory that waiters sleep on until it is set.
// Its word holds the flag in bit 0 and, above it, a count of the times it
// was set: a waiter returns once the flag is set or the count has moved
// since it started waiting, so a Set followed at once by a Clear still
// releases everyone who was waiting. Its zero value is clear.
type Event struct {
	word    atomic.Uint32
	waiters atomic.Uint32
}

// Set sets the flag and wakes every waiter.
func (e *Event) Set() {
	for {
		w := e.word.Load()
		if w&1 != 0 {
			return
		}
		if e.word.CompareAndSwap(w, (w|1)+2) {
			break
		}
	}
	if e.waiters.Load() > 0 {
		futex.WakeAll(&e.word)
	}
}

// Clear clears the flag.
func (e *Event) Clear() {
	for {
		w := e.word.Load()
		if w&1 == 0 || e.word.CompareAndSwap(w, w&^1) {
			return
		}
	}
}

// Waiters returns how many wait now, in every process.
func (e *Event) Waiters() int { return int(e.waiters.Load()) }

// IsSet reports whether the flag is set.
func (e *Event) IsSet() bool { return e.word.Load()&1 != 0 }

// Wait sleeps until the flag is set, or was set since Wait began, or ctx
// ends (then it returns ctx's error).
func (e *Event) Wait(ctx context.Context) error {
	w0 := e.word.Load()
	if w0&1 != 0 {
		return nil
	}
	e.waiters.Add(1)
	defer e.waiters.Add(^uint32(0))
	for {
		w := e.word.Load()
		if w&1 != 0 || w>>1 != w0>>1 {
			return nil
		}
		if err := futex.WaitCtx(ctx, &e.word, w); err != nil {
			return err
		}
	}
}
