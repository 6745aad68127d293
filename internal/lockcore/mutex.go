package lockcore

import (
	"context"
	"sync/atomic"
	"time"

	"github.com/mpgo/mp/internal/errs"
	"github.com/mpgo/mp/internal/futex"
)

// Errors: lockcore returns mp's sentinels (package errs): errs.ErrNotOwner
// for an unlock of a lock that is not held or is held by another owner,
// errs.ErrTooManyReleases for a release past a semaphore's bound,
// errs.ErrTooManyHolders when more processes than a semaphore's table can
// track hold units at once, errs.ErrBrokenBarrier for a broken barrier.

// waitBit in a lock word's low half says that someone may sleep on it.
const waitBit = 1 << 31

// Mutex is a lock in shared memory: one 64-bit word that holds the
// identity of the owner (zero when unlocked) and a waiters bit. Its zero
// value is unlocked. It must be 8-byte aligned.
//
// An uncontended Lock and Unlock are one compare-and-swap each. A contended
// Lock spins briefly, then sleeps on the word's low half with a futex,
// following the owner with a watch: when the owner exits, the sleeper wakes
// within a millisecond or so, checks in /proc that it is dead, and takes the
// lock over. Every Backstop it also checks by itself.
type Mutex struct {
	word atomic.Uint64
}

// TryLock acquires the lock if it is free, or held by a process that died;
// ownerDied reports the latter. It never sleeps.
func (m *Mutex) TryLock() (ok, ownerDied bool) {
	if m.word.CompareAndSwap(0, self) {
		return true, false
	}
	w := m.word.Load()
	switch {
	case w&pidBits == 0:
		return m.word.CompareAndSwap(w, self|w&waitBit), false
	case !Alive(w &^ waitBit):
		return m.word.CompareAndSwap(w, self|w&waitBit), true
	}
	return false, false
}

// Lock acquires the lock, sleeping while another process holds it, until
// ctx ends (then it returns ctx's error and does not hold the lock).
// ownerDied reports that the previous owner died holding it: the caller
// holds it now.
func (m *Mutex) Lock(ctx context.Context) (ownerDied bool, err error) {
	if m.word.CompareAndSwap(0, self) {
		return false, nil
	}
	return m.lockSlow(ctx)
}

func (m *Mutex) lockSlow(ctx context.Context) (bool, error) {
	for i := range spin {
		if w := m.word.Load(); w&pidBits == 0 && m.word.CompareAndSwap(w, self|w&waitBit) {
			return false, nil
		}
		relax(i)
	}
	wt := new(watch)
	defer wt.stop()
	checked := time.Now()
	for {
		w := m.word.Load()
		if w&pidBits == 0 {
			// Others may sleep too: keep the bit, so that Unlock wakes one.
			if m.word.CompareAndSwap(w, self|waitBit) {
				return false, nil
			}
			continue
		}
		if w&waitBit == 0 && !m.word.CompareAndSwap(w, w|waitBit) {
			continue
		}
		w |= waitBit
		// Following the owner after reading the word is enough: if the
		// owner changes meanwhile, the word differs and the sleep ends.
		wt.follow(w &^ waitBit)
		if err := wt.sleep(ctx, futex.Word{Addr: lowHalf(&m.word), Val: uint32(w)}); err != nil {
			return false, err
		}
		if wt.rung() || backstopDue(&checked) {
			if m.word.Load() == w && !Alive(w&^waitBit) && m.word.CompareAndSwap(w, self|waitBit) {
				return true, nil
			}
		}
	}
}

// Unlock releases the lock, whoever holds it. It returns errs.ErrNotOwner if
// the lock is not held.
func (m *Mutex) Unlock() error {
	if m.word.CompareAndSwap(self, 0) {
		return nil
	}
	for {
		w := m.word.Load()
		if w&pidBits == 0 {
			return errs.ErrNotOwner
		}
		if m.word.CompareAndSwap(w, 0) {
			if w&waitBit != 0 {
				futex.Wake(lowHalf(&m.word), 1)
			}
			return nil
		}
	}
}

// Owner returns the identity of the process that holds the lock, or zero.
func (m *Mutex) Owner() uint64 { return m.word.Load() &^ waitBit }

// HeldBySelf reports whether this process holds the lock.
func (m *Mutex) HeldBySelf() bool { return m.Owner() == self }

// HasWaiters reports whether the waiters bit is set: a Lock, in some
// process, found the lock held and sleeps on it, or is about to and will
// see the next Unlock (or it slept and has taken the lock since: the next
// Unlock clears the bit). Tests use it to act once a Lock waits.
func (m *Mutex) HasWaiters() bool { return m.word.Load()&waitBit != 0 }

// TryFast is Lock's fast path alone: one compare-and-swap of a free lock.
// It is small enough to be inlined into callers.
func (m *Mutex) TryFast() bool { return m.word.CompareAndSwap(0, self) }
