package lockcore

import (
	"context"
	"math"
	"sync/atomic"
	"time"

	"github.com/mpgo/mp/internal/errs"
	"github.com/mpgo/mp/internal/futex"
)

// SemSlots is how many processes can hold units of one semaphore at the
// same time: each has a slot that counts the units it holds, so that the
// units of a process that dies can be given back.
const SemSlots = 128

// recovering marks a slot whose dead owner's units are being taken back.
const recovering = math.MaxUint64

// Sem is a counting semaphore in shared memory. Value is the futex word; if
// Bounded is not zero, Bound is the most Value may reach.
// Each process that holds units has a slot recording how many. A sleeping
// Acquire follows every process with a slot (see Mutex), and takes back
// the units of one that died as soon as it learns of the death. It must be
// 8-byte aligned; set Value and Bound before sharing it.
type Sem struct {
	Value   atomic.Uint32
	waiters atomic.Uint32
	Bound   atomic.Uint32
	Bounded atomic.Uint32
	// claims counts the slots claimed, so that a sleeping Acquire, which
	// follows every process with a slot, learns of a new one.
	claims atomic.Uint32
	_      uint32
	slots  [SemSlots]semSlot
}

type semSlot struct {
	owner atomic.Uint64 // identity of the holder, 0 if free
	held  atomic.Int64  // units it holds; written only by the holder
}

// SemHandle is one process's view of a Sem: it remembers the process's
// slot. It is safe for concurrent use.
type SemHandle struct {
	S    *Sem
	slot atomic.Int32 // index+1 of this process's slot, 0 if unknown
}

// mySlot returns this process's slot, claiming one if needed. A full table
// is swept of dead holders first; the units they held go back to the
// semaphore and recovered reports how many.
func (h *SemHandle) mySlot() (s *semSlot, recovered int64, err error) {
	if i := h.slot.Load(); i > 0 {
		return &h.S.slots[i-1], 0, nil
	}
	for attempt := 0; attempt < 2; attempt++ {
		for i := range h.S.slots {
			o := h.S.slots[i].owner.Load()
			if o == self || (o == 0 && h.S.slots[i].owner.CompareAndSwap(0, self)) {
				h.slot.Store(int32(i + 1))
				if o == 0 {
					h.S.claimed()
				}
				return &h.S.slots[i], recovered, nil
			}
		}
		n, _ := h.S.sweep(false)
		recovered += n
	}
	return nil, recovered, errs.ErrTooManyHolders
}

// sweep frees the slots of dead processes, gives their units back, and
// returns how many units came back. If take is set and units came back, the
// caller keeps one of them for itself (took) instead of giving it back.
func (s *Sem) sweep(take bool) (n int64, took bool) {
	for i := range s.slots {
		sl := &s.slots[i]
		o := sl.owner.Load()
		if o == 0 || o == self || o == recovering || Alive(o) {
			continue
		}
		if !sl.owner.CompareAndSwap(o, recovering) {
			continue
		}
		n += max(sl.held.Swap(0), 0)
		sl.owner.Store(0)
	}
	back := n
	if take && n > 0 {
		back, took = n-1, true
	}
	if back > 0 {
		s.Value.Add(uint32(back))
		s.wake(int(back))
	}
	return n, took
}

// claimed tells sleeping Acquires that a process claimed a slot: it may
// take units while they sleep, so they follow it too.
func (s *Sem) claimed() {
	s.claims.Add(1)
	if s.waiters.Load() > 0 {
		futex.WakeAll(&s.claims)
	}
}

// holders returns the processes that have a slot.
func (s *Sem) holders(buf []uint64) []uint64 {
	buf = buf[:0]
	for i := range s.slots {
		if o := s.slots[i].owner.Load(); o != 0 && o != recovering {
			buf = append(buf, o)
		}
	}
	return buf
}

func (s *Sem) wake(n int) {
	if s.waiters.Load() > 0 {
		futex.Wake(&s.Value, n)
	}
}

func (s *Sem) tryDec() bool {
	for {
		v := s.Value.Load()
		if v == 0 {
			return false
		}
		if s.Value.CompareAndSwap(v, v-1) {
			return true
		}
	}
}

// TryAcquire takes a unit if one is free (or held by a dead process) and
// reports whether it did.
func (h *SemHandle) TryAcquire() (ok, ownerDied bool, err error) {
	sl, rec, err := h.mySlot()
	if err != nil {
		return false, rec > 0, err
	}
	if !h.S.tryDec() {
		if _, took := h.S.sweep(true); !took {
			return false, false, nil
		}
		rec++
	}
	sl.held.Add(1)
	return true, rec > 0, nil
}

// Acquire takes a unit, sleeping while there is none, until ctx ends.
// ownerDied reports that units of a dead process were taken back while it
// waited (the caller may have been given one of them).
func (h *SemHandle) Acquire(ctx context.Context) (ownerDied bool, err error) {
	sl, rec, err := h.mySlot()
	if err != nil {
		return rec > 0, err
	}
	if h.S.tryDec() {
		sl.held.Add(1)
		return rec > 0, nil
	}
	rec, err = h.acquireSlow(ctx, rec)
	if err != nil {
		return false, err
	}
	sl.held.Add(1)
	return rec > 0, nil
}

func (h *SemHandle) acquireSlow(ctx context.Context, rec int64) (int64, error) {
	s := h.S
	for i := range spin {
		if s.tryDec() {
			return rec, nil
		}
		relax(i)
	}
	s.waiters.Add(1)
	defer s.waiters.Add(^uint32(0))
	wt := new(watch)
	defer wt.stop()
	var held []uint64
	swept := time.Now()
	for {
		// claims is read before the slots: a slot claimed after the
		// read changes it, and the sleep ends.
		c := s.claims.Load()
		if s.tryDec() {
			return rec, nil
		}
		held = s.holders(held)
		wt.follow(held...)
		if err := wt.sleep(ctx, futex.Word{Addr: &s.Value, Val: 0}, futex.Word{Addr: &s.claims, Val: c}); err != nil {
			return 0, err
		}
		if wt.rung() || backstopDue(&swept) {
			if n, took := s.sweep(true); took {
				return rec + n, nil
			}
		}
	}
}

// Release gives a unit back. A unit this process holds stops counting as
// held; a release by a process that holds none is a plain signal. It
// returns errs.ErrTooManyReleases if the semaphore is bounded and full.
func (h *SemHandle) Release() error {
	s := h.S
	for {
		v := s.Value.Load()
		if s.Bounded.Load() != 0 && v >= s.Bound.Load() {
			return errs.ErrTooManyReleases
		}
		if s.Value.CompareAndSwap(v, v+1) {
			break
		}
	}
	if i := h.slot.Load(); i > 0 {
		sl := &s.slots[i-1]
		for {
			n := sl.held.Load()
			if n <= 0 || sl.held.CompareAndSwap(n, n-1) {
				break
			}
		}
	}
	s.wake(1)
	return nil
}

// Waiters returns how many Acquires, in every process, have stopped
// spinning and sleep on the semaphore (or are about to, and will see any
// Release that comes after).
func (s *Sem) Waiters() int { return int(s.waiters.Load()) }

// Held returns how many units this process holds.
func (h *SemHandle) Held() int64 {
	if i := h.slot.Load(); i > 0 {
		return h.S.slots[i-1].held.Load()
	}
	return 0
}
