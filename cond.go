package mp

import (
	"context"
	"errors"
	"fmt"
	"unsafe"

	"github.com/mpgo/mp/internal/descr"
	"github.com/mpgo/mp/internal/lockcore"
	"github.com/mpgo/mp/internal/shmem"
	"github.com/mpgo/mp/internal/wire"
)

// Cond is a condition variable shared between processes (Python:
// multiprocessing.Condition): processes wait on it, holding its lock, until
// another notifies them. Its lock is a *Mutex or a *ReentrantLock.
//
// Wait releases the lock, sleeps until notified, and takes the lock again
// before it returns. Notify(n) wakes at most n of the processes (or
// goroutines) that were waiting when it was called, never one that starts
// waiting later; NotifyAll wakes them all.
//
// A process that dies while it waits never takes a notification away from
// a live waiter: a wake-up goes to whichever waiter, among those waiting
// when Notify was called, wakes first. It still counts as a waiter, so a
// later Notify may wake more waiters than asked (a spurious wake-up, which
// WaitFor absorbs). The lock itself survives its holder's death like any
// Mutex or ReentrantLock.
//
// A Cond is a handle: it travels to other processes, with its lock, in a
// Process's argument or in a message; L returns the lock there.
type Cond struct {
	r        *shmem.Region
	st       *lockcore.Cond
	l        CondLock
	ownsLock bool
}

// CondLock is the lock of a Cond: a *Mutex or a *ReentrantLock.
type CondLock interface {
	condLocker() condLocker
}

// condLocker is what a Cond needs of its lock.
type condLocker interface {
	lock(ctx context.Context) (context.Context, error)
	unlock(ctx context.Context) error
	// release fully releases a lock the caller holds and returns what
	// reacquire needs to restore it.
	held(ctx context.Context) bool
	release(ctx context.Context) (uint32, error)
	reacquire(ctx context.Context, depth uint32) error
	locked() bool
	region() *shmem.Region
	kind() uint16
	close() error
}

// NewCond returns a Cond over l, or over a new ReentrantLock of its own if l
// is nil (Python's default), which Close then closes.
func NewCond(l CondLock) (*Cond, error) {
	owns := false
	if l == nil {
		rl, err := NewReentrantLock()
		if err != nil {
			return nil, err
		}
		l, owns = rl, true
	}
	if l.condLocker().region() == nil {
		panic("mp: NewCond with a closed lock")
	}
	r, p, err := newRegion(shmem.KindCond, int(unsafe.Sizeof(lockcore.Cond{})))
	if err != nil {
		if owns {
			l.condLocker().close()
		}
		return nil, err
	}
	return &Cond{r: r, st: (*lockcore.Cond)(p), l: l, ownsLock: owns}, nil
}

// L returns the Cond's lock: a *Mutex or a *ReentrantLock.
func (c *Cond) L() CondLock { return c.l }

// Lock locks the Cond's lock and returns the context to pass to Wait and
// Unlock (which names the owner when the lock is a ReentrantLock).
func (c *Cond) Lock(ctx context.Context) (context.Context, error) {
	if c.st == nil {
		return ctx, ErrClosed
	}
	return c.l.condLocker().lock(ctx)
}

// Unlock unlocks the Cond's lock.
func (c *Cond) Unlock(ctx context.Context) error {
	if c.st == nil {
		return ErrClosed
	}
	return c.l.condLocker().unlock(ctx)
}

// Wait releases the lock, which the caller must hold (else ErrNotOwner),
// waits until notified or until ctx ends, and takes the lock again, whatever
// happened, before it returns. It returns nil when notified, and an error
// that matches ctx's error (and ErrTimeout for a deadline) when ctx ended
// first. If the lock's holder died while Wait slept, Wait holds the lock and
// its error matches ErrOwnerDead.
func (c *Cond) Wait(ctx context.Context) error {
	if c.st == nil {
		return ErrClosed
	}
	l := c.l.condLocker()
	if !l.held(ctx) {
		return ErrNotOwner
	}
	ticket := c.st.Enter()
	depth, err := l.release(ctx)
	if err != nil {
		c.st.Leave(ticket)
		return err
	}
	sleepErr := lockError(c.st.Sleep(ctx, ticket))
	if err := l.reacquire(context.WithoutCancel(ctx), depth); err != nil {
		return errors.Join(sleepErr, err)
	}
	return sleepErr
}

// WaitFor waits until pred returns true (Python: wait_for). It calls pred
// with the lock held, first at once and then after every notification. If
// ctx ends first, it returns nil if pred holds by then, and Wait's error
// otherwise. An ErrOwnerDead from Wait is returned at once, lock held.
func (c *Cond) WaitFor(ctx context.Context, pred func() bool) error {
	for !pred() {
		err := c.Wait(ctx)
		if errors.Is(err, ErrOwnerDead) {
			return err
		}
		if err != nil {
			if pred() {
				return nil
			}
			return err
		}
	}
	return nil
}

// Notify wakes up to n waiters. The lock must be held (by the caller, as in
// Python; mp checks only that some process holds it), else ErrNotOwner.
func (c *Cond) Notify(n int) error {
	if c.st == nil {
		return ErrClosed
	}
	if !c.l.condLocker().locked() {
		return ErrNotOwner
	}
	c.st.Notify(n)
	return nil
}

// NotifyAll wakes every waiter; the lock must be held, as for Notify.
func (c *Cond) NotifyAll() error { return c.Notify(1 << 30) }

// Close releases this process's mapping of the Cond and its descriptor, and
// the lock's too if NewCond made it (or the Cond arrived from another
// process). Close must not be called while other goroutines use the Cond; it
// is safe to call twice.
func (c *Cond) Close() error {
	if c.st == nil {
		return nil
	}
	c.st = nil
	err := closeRegion(&c.r)
	if c.ownsLock {
		err = errors.Join(err, c.l.condLocker().close())
	}
	return err
}

// condMeta is what travels with a Cond's descriptors.
type condMeta struct {
	LockKind uint16
}

// MarshalCBOR is plumbing: part of how a Cond travels to another
// process (see Handles in the package doc); not for direct use.
func (c *Cond) MarshalCBOR() ([]byte, error) {
	if c.r == nil {
		return nil, fmt.Errorf("mp: send a closed Cond: %w", ErrClosed)
	}
	l := c.l.condLocker()
	lr := l.region()
	if lr == nil {
		return nil, fmt.Errorf("mp: send a Cond whose lock is closed: %w", ErrClosed)
	}
	return wire.MarshalHandle(condTag, []int{c.r.FD(), lr.FD()}, condMeta{LockKind: l.kind()})
}

// UnmarshalCBOR is plumbing: part of how a Cond travels to another
// process (see Handles in the package doc); not for direct use.
func (c *Cond) UnmarshalCBOR(data []byte) error {
	var meta condMeta
	fds, err := wire.UnmarshalHandle(data, condTag, &meta)
	if err != nil {
		return err
	}
	if len(fds) != 2 {
		descr.Close(fds)
		return fmt.Errorf("%w: Cond handle with %d descriptors, want 2", ErrProtocol, len(fds))
	}
	l, err := openCondLock(fds[1], meta.LockKind)
	if err != nil {
		descr.Close(fds[:1])
		return err
	}
	r, p, err := openRegion(fds[0], shmem.KindCond, int(unsafe.Sizeof(lockcore.Cond{})))
	if err != nil {
		l.condLocker().close()
		return err
	}
	*c = Cond{r: r, st: (*lockcore.Cond)(p), l: l, ownsLock: true}
	return nil
}

// openCondLock maps the lock of a received Cond.
func openCondLock(fd int, kind uint16) (CondLock, error) {
	switch kind {
	case shmem.KindMutex:
		r, p, err := openRegion(fd, kind, int(unsafe.Sizeof(lockcore.Mutex{})))
		if err != nil {
			return nil, err
		}
		return &Mutex{r: r, st: (*lockcore.Mutex)(p)}, nil
	case shmem.KindReentrantLock:
		r, p, err := openRegion(fd, kind, int(unsafe.Sizeof(lockcore.RMutex{})))
		if err != nil {
			return nil, err
		}
		return &ReentrantLock{r: r, st: (*lockcore.RMutex)(p)}, nil
	}
	descr.Close([]int{fd})
	return nil, fmt.Errorf("%w: Cond lock of kind %d", ErrProtocol, kind)
}

// mutexCond is a Mutex as the lock of a Cond. The holder of a Mutex is a
// process, so "held by the caller" means held by this process.
type mutexCond struct{ m *Mutex }

func (c mutexCond) lock(ctx context.Context) (context.Context, error) { return ctx, c.m.Lock(ctx) }
func (c mutexCond) unlock(context.Context) error                      { return c.m.Unlock() }
func (c mutexCond) held(context.Context) bool                         { return c.m.st != nil && c.m.st.HeldBySelf() }
func (c mutexCond) release(context.Context) (uint32, error)           { return 1, c.m.Unlock() }
func (c mutexCond) reacquire(ctx context.Context, _ uint32) error     { return c.m.Lock(ctx) }
func (c mutexCond) locked() bool                                      { return c.m.Locked() }
func (c mutexCond) region() *shmem.Region                             { return c.m.r }
func (c mutexCond) kind() uint16                                      { return shmem.KindMutex }
func (c mutexCond) close() error                                      { return c.m.Close() }

// rlockCond is a ReentrantLock as the lock of a Cond: Wait releases every
// level and restores them.
type rlockCond struct{ l *ReentrantLock }

func (c rlockCond) lock(ctx context.Context) (context.Context, error) { return c.l.Lock(ctx) }
func (c rlockCond) unlock(ctx context.Context) error                  { return c.l.Unlock(ctx) }
func (c rlockCond) held(ctx context.Context) bool                     { return c.l.Owned(ctx) }
func (c rlockCond) locked() bool                                      { return c.l.Locked() }
func (c rlockCond) region() *shmem.Region                             { return c.l.r }
func (c rlockCond) kind() uint16                                      { return shmem.KindReentrantLock }
func (c rlockCond) close() error                                      { return c.l.Close() }

func (c rlockCond) release(ctx context.Context) (uint32, error) {
	t, _ := ctx.Value(ownerKey{}).(uint64)
	n, err := c.l.st.Release(t)
	return n, lockError(err)
}

func (c rlockCond) reacquire(ctx context.Context, depth uint32) error {
	t, _ := ctx.Value(ownerKey{}).(uint64)
	died, err := c.l.st.Reacquire(ctx, t, depth)
	if err != nil {
		return lockError(err)
	}
	return ownerDied(died, "lock (after a Cond wait)")
}
