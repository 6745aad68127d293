package manager

import (
	"context"
	"errors"

	"github.com/mpgo/mp"
)

// LockProxy is a Mutex or a ReentrantLock, as the lock of a Cond.
type LockProxy interface {
	lockRef() *ref
}

func (m *Mutex) lockRef() *ref         { return &m.ref }
func (m *ReentrantLock) lockRef() *ref { return &m.ref }

// Cond is a proxy to a condition variable held by a manager server
// (Python: manager.Condition()). Its Lock and Unlock are its lock's; Wait
// must be called holding the lock. A *Cond is safe for concurrent use.
type Cond struct{ ref }

// NewCond makes a condition variable in the server over lock (nil: a new
// Mutex of its own). The Cond holds the lock through lock's proxy: a
// ReentrantLock locked through lock counts as held by the Cond.
func NewCond(ctx context.Context, c *Client, lock LockProxy) (*Cond, error) {
	cd := new(Cond)
	a := createArgs{Kind: KindCond}
	if lock != nil {
		a.Lock = lock.lockRef().form.ID
	}
	if err := create(ctx, c, cd, a); err != nil {
		return nil, err
	}
	if lock != nil {
		cd.owner = lock.lockRef().owner
	}
	return cd, nil
}

func (cd *Cond) accepts(k Kind) bool { return k == KindCond }

// UnmarshalCBOR is plumbing: it decodes a Cond that arrived from another
// process, as part of a message; not for direct use.
func (cd *Cond) UnmarshalCBOR(data []byte) error { return cd.decodeAs(data, KindCond) }

// Lock takes the Cond's lock.
func (cd *Cond) Lock(ctx context.Context) error {
	return cd.call(ctx, "lock", callOpts{sentinel: mp.ErrTimeout}, nil)
}

// Unlock releases the Cond's lock.
func (cd *Cond) Unlock(ctx context.Context) error {
	return cd.call(ctx, "unlock", callOpts{}, nil)
}

// Wait releases the lock, waits until Notify or NotifyAll wakes it, and
// takes the lock again before it returns — also when ctx ends first, in
// which case the error matches mp.ErrTimeout and ctx's error. Without the
// lock held, it returns mp.ErrNotOwner.
func (cd *Cond) Wait(ctx context.Context) error {
	return cd.call(ctx, "wait", callOpts{sentinel: mp.ErrTimeout, always: true}, nil)
}

// WaitFor waits until cond returns true, checking it (with the lock held)
// before each Wait (Python: wait_for). Unlike mp.Cond's, cond takes a
// context and may fail: it usually asks the manager for shared state.
func (cd *Cond) WaitFor(ctx context.Context, cond func(ctx context.Context) (bool, error)) error {
	for {
		ok, err := cond(ctx)
		if err != nil || ok {
			return err
		}
		if err := cd.Wait(ctx); err != nil {
			return err
		}
	}
}

// Notify wakes up to n waiters (Python: notify(n)); the lock must be held.
func (cd *Cond) Notify(ctx context.Context, n int) error {
	return cd.call(ctx, "notify", callOpts{}, nil, n)
}

// NotifyAll wakes every waiter (Python: notify_all()); the lock must be
// held.
func (cd *Cond) NotifyAll(ctx context.Context) error {
	return cd.call(ctx, "notify_all", callOpts{}, nil)
}

// Event is a proxy to a flag held by a manager server that processes can
// wait for (Python: manager.Event()). A *Event is safe for concurrent use.
type Event struct{ ref }

// NewEvent makes a cleared event in the server.
func NewEvent(ctx context.Context, c *Client) (*Event, error) {
	e := new(Event)
	if err := create(ctx, c, e, createArgs{Kind: KindEvent}); err != nil {
		return nil, err
	}
	return e, nil
}

func (e *Event) accepts(k Kind) bool { return k == KindEvent }

// UnmarshalCBOR is plumbing: it decodes an Event that arrived from another
// process, as part of a message; not for direct use.
func (e *Event) UnmarshalCBOR(data []byte) error { return e.decodeAs(data, KindEvent) }

// Set sets the flag and wakes every waiter.
func (e *Event) Set(ctx context.Context) error { return e.call(ctx, "set", callOpts{}, nil) }

// Clear clears the flag.
func (e *Event) Clear(ctx context.Context) error { return e.call(ctx, "clear", callOpts{}, nil) }

// IsSet reports whether the flag is set.
func (e *Event) IsSet(ctx context.Context) (bool, error) {
	var set bool
	err := e.call(ctx, "is_set", callOpts{}, &set)
	return set, err
}

// Wait waits until the flag is set. If ctx ends first, the error matches
// mp.ErrTimeout and ctx's error (Python's wait returns False).
func (e *Event) Wait(ctx context.Context) error {
	return e.call(ctx, "wait", callOpts{sentinel: mp.ErrTimeout}, nil)
}

// Barrier is a proxy to a barrier held by a manager server (Python:
// manager.Barrier(parties), without an action: functions do not travel).
// A *Barrier is safe for concurrent use.
type Barrier struct{ ref }

// NewBarrier makes a barrier for parties parties in the server.
func NewBarrier(ctx context.Context, c *Client, parties int) (*Barrier, error) {
	b := new(Barrier)
	if err := create(ctx, c, b, createArgs{Kind: KindBarrier, Size: parties}); err != nil {
		return nil, err
	}
	return b, nil
}

func (b *Barrier) accepts(k Kind) bool { return k == KindBarrier }

// UnmarshalCBOR is plumbing: it decodes a Barrier that arrived from another
// process, as part of a message; not for direct use.
func (b *Barrier) UnmarshalCBOR(data []byte) error { return b.decodeAs(data, KindBarrier) }

// Wait waits until parties callers are waiting, and returns this caller's
// arrival index, 0 to parties-1. If the barrier is or becomes broken
// (Abort, Reset while waiting, or a waiter whose context ended), the error
// matches mp.ErrBrokenBarrier; a caller whose own ctx ended breaks the
// barrier and gets an error matching ctx's error too.
func (b *Barrier) Wait(ctx context.Context) (int, error) {
	var i int
	err := b.call(ctx, "wait", callOpts{sentinel: mp.ErrBrokenBarrier}, &i)
	return i, err
}

// Abort breaks the barrier: waiters and later callers of Wait fail.
func (b *Barrier) Abort(ctx context.Context) error { return b.call(ctx, "abort", callOpts{}, nil) }

// Reset returns the barrier to its empty, unbroken state; current waiters
// fail with mp.ErrBrokenBarrier.
func (b *Barrier) Reset(ctx context.Context) error { return b.call(ctx, "reset", callOpts{}, nil) }

// Parties returns the number of parties.
func (b *Barrier) Parties(ctx context.Context) (int, error) {
	var n int
	err := b.call(ctx, "parties", callOpts{}, &n)
	return n, err
}

// NWaiting returns the number of callers waiting now.
func (b *Barrier) NWaiting(ctx context.Context) (int, error) {
	var n int
	err := b.call(ctx, "n_waiting", callOpts{}, &n)
	return n, err
}

// Broken reports whether the barrier is broken.
func (b *Barrier) Broken(ctx context.Context) (bool, error) {
	var broken bool
	err := b.call(ctx, "broken", callOpts{}, &broken)
	return broken, err
}

// Object is a proxy to any object a server exposes, whose methods are
// called by name (Python: an AutoProxy). Custom objects registered with
// Server.Register are reached this way. An *Object is safe for concurrent
// use.
type Object struct{ ref }

func (o *Object) accepts(Kind) bool { return true }

// UnmarshalCBOR is plumbing: it decodes an Object that arrived from another
// process, as part of a message; not for direct use.
func (o *Object) UnmarshalCBOR(data []byte) error { return o.decodeAs(data) }

// Kind returns the kind of the object.
func (o *Object) Kind() Kind { return o.form.Kind }

// Call calls the object's exported method with args, each encoded with
// mp's codec, and decodes its result into out (nil: ignore it). ctx's
// deadline and cancellation reach the method if it takes a context. A
// method that returns several values (besides an error) gives them as a
// list.
func (o *Object) Call(ctx context.Context, method string, out any, args ...any) error {
	return o.call(ctx, method, callOpts{sentinel: mp.ErrTimeout}, out, args...)
}

// Invoke calls a method of o by name and returns its result as Out.
//
//	n, err := manager.Invoke[int](ctx, counter, "Incr", 5)
func Invoke[Out any](ctx context.Context, o *Object, method string, args ...any) (Out, error) {
	var out Out
	err := o.Call(ctx, method, &out, args...)
	return out, err
}

// isRemote reports whether err is the server's answer matching sentinel
// (not a context that ended on this side).
func isRemote(err, sentinel error) bool {
	var re *mp.RemoteError
	return errors.As(err, &re) && errors.Is(re, sentinel)
}
