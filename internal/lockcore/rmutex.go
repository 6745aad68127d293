package lockcore

import (
	"context"
	"sync/atomic"

	"github.com/mpgo/mp/internal/errs"
)

// RMutex is a re-entrant lock in shared memory. Its owner is a process
// together with a token the process chooses (non-zero; mp uses one per
// chain of calls that share a context): the same process with the same
// token may lock it again, and must unlock it as often. Its zero value is
// unlocked; it must be 8-byte aligned.
type RMutex struct {
	m Mutex
	// token and count are written only by the owner while it holds m.
	token atomic.Uint64
	count atomic.Uint32
}

// owns reports whether token in this process holds the lock.
func (r *RMutex) owns(token uint64) bool {
	return r.m.Owner() == self && r.token.Load() == token
}

// TryLock is Lock without sleeping; ok reports whether it holds the lock.
func (r *RMutex) TryLock(token uint64) (ok, ownerDied bool) {
	if r.owns(token) {
		r.count.Add(1)
		return true, false
	}
	ok, ownerDied = r.m.TryLock()
	if ok {
		r.take(token, 1)
	}
	return ok, ownerDied
}

// Lock acquires the lock for token, or counts one more level if token in
// this process already holds it. ownerDied reports that the previous owner
// died holding the lock (at any depth).
func (r *RMutex) Lock(ctx context.Context, token uint64) (ownerDied bool, err error) {
	if r.owns(token) {
		r.count.Add(1)
		return false, nil
	}
	if ownerDied, err = r.m.Lock(ctx); err != nil {
		return false, err
	}
	r.take(token, 1)
	return ownerDied, nil
}

func (r *RMutex) take(token uint64, count uint32) {
	r.token.Store(token)
	r.count.Store(count)
}

// Unlock releases one level of the lock; the last one unlocks it. It
// returns errs.ErrNotOwner unless token in this process holds it.
func (r *RMutex) Unlock(token uint64) error {
	if !r.owns(token) {
		return errs.ErrNotOwner
	}
	if r.count.Add(^uint32(0)) > 0 {
		return nil
	}
	r.token.Store(0)
	return r.m.Unlock()
}

// Release releases every level at once and returns how many there were,
// for a condition variable's Wait; Reacquire restores them.
func (r *RMutex) Release(token uint64) (uint32, error) {
	if !r.owns(token) {
		return 0, errs.ErrNotOwner
	}
	n := r.count.Load()
	r.count.Store(0)
	r.token.Store(0)
	return n, r.m.Unlock()
}

// Reacquire locks again with the count Release returned.
func (r *RMutex) Reacquire(ctx context.Context, token uint64, count uint32) (ownerDied bool, err error) {
	if ownerDied, err = r.m.Lock(ctx); err != nil {
		return false, err
	}
	r.take(token, count)
	return ownerDied, nil
}

// Owned reports whether token in this process holds the lock.
func (r *RMutex) Owned(token uint64) bool { return r.owns(token) }

// Locked reports whether anyone holds the lock.
func (r *RMutex) Locked() bool { return r.m.Owner() != 0 }

// HasWaiters reports whether a Lock of another owner waits for the lock
// (see Mutex.HasWaiters).
func (r *RMutex) HasWaiters() bool { return r.m.HasWaiters() }
