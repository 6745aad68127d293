package lockcore

import (
	"context"
	"sync/atomic"

	"github.com/mpgo/mp/internal/errs"
	"github.com/mpgo/mp/internal/futex"
	"golang.org/x/sys/unix"
)

// States of a barrier, as in Python's threading.Barrier.
const (
	filling   = 0
	draining  = 1
	resetting = -1
	broken    = -2
)

// Barrier is the shared state of a barrier for Parties processes (or
// goroutines). Every change of state bumps gen, the word waiters sleep on.
// An internal lock guards the rest. Set Parties (and Timeout) before
// sharing it; it must be 8-byte aligned.
//
// The processes that have arrived are recorded, so that a party that dies
// at the barrier is noticed: the parties waiting follow the others with a
// watch and look for dead ones as soon as one exits (and, whatever the
// watch says, at most once per Backstop between them all), and the last
// to arrive looks before it completes a round. A dead party found breaks a
// filling barrier (the round can never complete) and no longer counts as
// arrived.
type Barrier struct {
	lock  Mutex
	gen   atomic.Uint32
	state atomic.Int32
	count atomic.Uint32
	// Parties is how many must arrive; Timeout is the default timeout of
	// Wait in nanoseconds, 0 for none.
	Parties atomic.Uint32
	Timeout atomic.Int64
	// swept is when dead parties were last looked for (CLOCK_MONOTONIC,
	// which all processes share, in nanoseconds).
	swept   atomic.Int64
	arrived Waiters
}

// lockInternal takes the internal lock; if a process died holding it, the
// barrier's state cannot be trusted, so the barrier breaks.
func (b *Barrier) lockInternal() {
	if ownerDied, _ := b.lock.Lock(context.Background()); ownerDied {
		b.setState(broken)
	}
}

// setState changes the state and wakes everyone; the lock is held.
func (b *Barrier) setState(s int32) {
	b.state.Store(s)
	b.gen.Add(1)
	futex.WakeAll(&b.gen)
}

// sleep releases the lock, waits for a change of state or ctx's end, and
// takes the lock again. It follows the parties that have arrived with wt,
// and wakes when one more arrives (count changes), to follow it too. When
// one of them exits, or when a sleep that saw no change finds that nobody
// looked for a backstop period, it looks for dead parties.
func (b *Barrier) sleep(ctx context.Context, wt *watch) error {
	g, c := b.gen.Load(), b.count.Load()
	wt.follow(b.arrived.Owners()...)
	b.lock.Unlock()
	err := wt.sleep(ctx, futex.Word{Addr: &b.gen, Val: g}, futex.Word{Addr: &b.count, Val: c})
	b.lockInternal()
	if wt.rung() || (b.gen.Load() == g && b.sweepDue()) {
		b.sweep()
	}
	return err
}

// sweepDue reports whether a Backstop period has passed since dead parties
// were last looked for (or since the first sleep at the barrier), and if
// so records that the caller looks now. Looking reads /proc for every
// process recorded, so it is rationed per barrier, not per waiter. The
// lock is held.
func (b *Barrier) sweepDue() bool {
	var ts unix.Timespec
	if unix.ClockGettime(unix.CLOCK_MONOTONIC, &ts) != nil {
		return false
	}
	now := ts.Nano()
	if last := b.swept.Load(); last == 0 || now-last < Backstop.Load() {
		if last == 0 {
			b.swept.Store(now)
		}
		return false
	}
	b.swept.Store(now)
	return true
}

// sweep discounts the parties that died at the barrier. A filling barrier
// breaks, since its round cannot complete; a draining or resetting one
// whose last party left that way is ready for the next round. The lock is
// held.
func (b *Barrier) sweep() {
	dead := b.arrived.Sweep()
	if dead == 0 {
		return
	}
	left := b.count.Add(-dead)
	switch s := b.state.Load(); {
	case s == filling:
		b.setState(broken)
	case left == 0 && (s == draining || s == resetting):
		b.setState(filling)
	}
}

// Wait arrives at the barrier and waits for the others. The last party to
// arrive runs action (if not nil) before the others are released; if action
// fails, the barrier breaks and that error is returned to the last party.
// If ctx ends first, the barrier breaks; then, as for every waiter of a
// broken barrier, Wait returns errs.ErrBrokenBarrier (with ctx's error as the second
// result for the party whose context ended).
func (b *Barrier) Wait(ctx context.Context, action func() error) (index int, ctxErr, err error) {
	b.lockInternal()
	defer b.lock.Unlock()
	wt := new(watch)
	defer wt.stop()
	for s := b.state.Load(); s == draining || s == resetting; s = b.state.Load() {
		if err := b.sleep(ctx, wt); err != nil {
			return 0, err, err
		}
	}
	if b.state.Load() == broken {
		return 0, nil, errs.ErrBrokenBarrier
	}
	index = int(b.count.Add(1)) - 1
	defer b.exit(b.arrived.Add())
	if index > 0 {
		futex.WakeAll(&b.count) // the parties asleep follow this one too
	}
	if index+1 == int(b.Parties.Load()) {
		// A party that died here must not complete the round: the last
		// to arrive always looks (one read of /proc per other process).
		b.sweep()
		if b.state.Load() == broken {
			return index, nil, errs.ErrBrokenBarrier
		}
		if action != nil {
			if err := action(); err != nil {
				b.setState(broken)
				return index, nil, err
			}
		}
		b.setState(draining)
		return index, nil, nil
	}
	for b.state.Load() == filling {
		if err := b.sleep(ctx, wt); err != nil && b.state.Load() == filling {
			b.setState(broken)
			return index, err, errs.ErrBrokenBarrier
		}
	}
	if b.state.Load() < 0 {
		return index, nil, errs.ErrBrokenBarrier
	}
	return index, nil, nil
}

// exit counts a party out (tracked says whether it was recorded as
// arrived); the last one out of a draining or resetting barrier makes it
// ready for the next round. The lock is held.
func (b *Barrier) exit(tracked bool) {
	if tracked && !b.arrived.Remove() {
		return // taken for dead and discounted already
	}
	if b.count.Add(^uint32(0)) == 0 {
		if s := b.state.Load(); s == resetting || s == draining {
			b.setState(filling)
		}
	}
}

// Abort breaks the barrier: current and future waiters get errs.ErrBrokenBarrier until
// Reset.
func (b *Barrier) Abort() {
	b.lockInternal()
	defer b.lock.Unlock()
	b.setState(broken)
}

// Reset returns the barrier to its initial state; parties waiting now get
// errs.ErrBrokenBarrier.
func (b *Barrier) Reset() {
	b.lockInternal()
	defer b.lock.Unlock()
	b.sweep()
	if b.count.Load() > 0 {
		if s := b.state.Load(); s == filling || s == broken {
			b.setState(resetting)
		} else {
			b.gen.Add(1)
			futex.WakeAll(&b.gen)
		}
		return
	}
	b.setState(filling)
}

// Broken reports whether the barrier is broken.
func (b *Barrier) Broken() bool { return b.state.Load() == broken }

// Waiting returns how many parties wait at the barrier now. It reads
// without the lock, so that an action may call it.
func (b *Barrier) Waiting() int {
	if b.state.Load() == filling {
		return int(b.count.Load())
	}
	return 0
}
