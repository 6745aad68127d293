package mp

import (
	"context"
	"fmt"
	"sync/atomic"
	"unsafe"

	"github.com/mpgo/mp/internal/lockcore"
	"github.com/mpgo/mp/internal/race"
	"github.com/mpgo/mp/internal/shmem"
)

// ReentrantLock is a lock shared between processes that its owner may lock
// again (Python: multiprocessing.RLock) with the context the first Lock
// returned: locking again with the context given to that Lock waits for the
// lock forever, since that context names another owner. It must be
// unlocked as many times as it was locked, by its owner.
//
//	ctx, err := lock.Lock(ctx) // keep the returned context: it names the owner
//	if err != nil { … }
//	defer lock.Unlock(ctx)
//	helper(ctx) // may Lock(ctx) and Unlock(ctx) again
//
// Go exposes no thread or goroutine identity, so the owner is carried by the
// context: Lock returns a context that names the caller as owner, and nested
// calls — Lock, Unlock, a Cond's Wait — that are given that context (or one
// derived from it) act as the same owner. The owner is that chain of calls in
// this process: other processes, and goroutines of this process whose
// contexts do not come from it, are other owners and wait. A goroutine
// started with the owning context shares the ownership; start it from
// NewOwner(ctx) to make it an owner of its own.
//
// In builds with the race detector (go test -race), Lock reports that
// mistake: it returns ErrWouldDeadlock when the goroutine that holds the
// lock asks for it with a context that names no owner. Other builds cannot
// tell it from another goroutine of this process asking with the same
// context (context.Background(), say), which must wait: Go gives
// goroutines no identity that can be read at the cost of a Lock (reading
// one from a stack trace takes microseconds). The check is an error, not a
// panic, because it cannot tell one legitimate pattern from the mistake: a
// goroutine that locked, handed its owner context to another goroutine and
// then asks for the lock as a new owner, to wait until the other unlocks.
// Race builds report that pattern too; make the waiting goroutine's context
// an owner with NewOwner to keep it working there.
//
// Like Mutex, a ReentrantLock survives its holder's death (the next Lock
// returns ErrOwnerDead and holds it, at depth one), is a handle that travels
// to other processes, and does not implement sync.Locker.
type ReentrantLock struct {
	r    *shmem.Region
	st   *lockcore.RMutex
	race race.Sync
	// made is, in race-detector builds, the owner that the last Lock with a
	// context naming none made through this handle, and its goroutine.
	made atomic.Pointer[madeOwner]
}

// madeOwner is an owner made by Lock, and the goroutine that called it.
type madeOwner struct{ token, goroutine uint64 }

// ownerKey is the context key of the owner token.
type ownerKey struct{}

// lastToken numbers the owners of this process.
var lastToken atomic.Uint64

// NewOwner returns a context derived from ctx that names a new owner of
// reentrant locks, distinct from any owner ctx carries.
func NewOwner(ctx context.Context) context.Context {
	return context.WithValue(ctx, ownerKey{}, lastToken.Add(1))
}

// owner returns the owner token ctx carries, adding a new one if it has none.
func owner(ctx context.Context) (context.Context, uint64) {
	if t, ok := ctx.Value(ownerKey{}).(uint64); ok {
		return ctx, t
	}
	ctx = NewOwner(ctx)
	return ctx, ctx.Value(ownerKey{}).(uint64)
}

// NewReentrantLock returns a new unlocked ReentrantLock in its own shared
// memory.
func NewReentrantLock() (*ReentrantLock, error) {
	r, p, err := newRegion(shmem.KindReentrantLock, int(unsafe.Sizeof(lockcore.RMutex{})))
	if err != nil {
		return nil, err
	}
	return &ReentrantLock{r: r, st: (*lockcore.RMutex)(p)}, nil
}

// Lock acquires the lock for the owner ctx names (a new owner if it names
// none), or locks it once more if that owner holds it already, and returns
// the context that names the owner: lock again with that one, not with ctx
// (see ReentrantLock). If ctx ends first, Lock returns ctx and an error
// that matches ctx's error (and ErrTimeout for a deadline). If the previous
// holder died holding the lock, Lock holds it and returns ErrOwnerDead.
func (l *ReentrantLock) Lock(ctx context.Context) (context.Context, error) {
	if l.st == nil {
		return ctx, ErrClosed
	}
	made := race.Enabled && ctx.Value(ownerKey{}) == nil // Lock makes an owner
	octx, token := owner(ctx)
	if made {
		if err := l.waitsForItself(); err != nil {
			return ctx, err
		}
	}
	died, err := l.st.Lock(ctx, token)
	if err != nil {
		return ctx, lockError(err)
	}
	l.race.Acquired()
	if made {
		l.made.Store(&madeOwner{token: token, goroutine: race.Goroutine()})
	}
	return octx, ownerDied(died, "ReentrantLock")
}

// waitsForItself returns ErrWouldDeadlock if the lock is held by an owner
// that a Lock of the calling goroutine made: a Lock for a new owner would
// wait for that goroutine, which is itself. Only race-detector builds can
// afford the goroutine's number (see race.Goroutine), so only they check.
func (l *ReentrantLock) waitsForItself() error {
	h := l.made.Load()
	if h == nil || !l.st.Owned(h.token) || h.goroutine != race.Goroutine() {
		return nil
	}
	return fmt.Errorf("%w: this goroutine holds the ReentrantLock, and Lock was given a context that names no owner; "+
		"lock again with the context the first Lock returned", ErrWouldDeadlock)
}

// TryLock is Lock without waiting: it reports whether the owner ctx names
// now holds the lock.
func (l *ReentrantLock) TryLock(ctx context.Context) (context.Context, bool, error) {
	if l.st == nil {
		return ctx, false, ErrClosed
	}
	octx, token := owner(ctx)
	ok, died := l.st.TryLock(token)
	if !ok {
		return ctx, false, nil
	}
	l.race.Acquired()
	return octx, true, ownerDied(died, "ReentrantLock")
}

// Unlock releases one level of the lock. ctx must name the owner (come from
// the owner's Lock); otherwise Unlock returns ErrNotOwner (Python:
// RuntimeError), as it does when the lock is not held.
func (l *ReentrantLock) Unlock(ctx context.Context) error {
	if l.st == nil {
		return ErrClosed
	}
	t, ok := ctx.Value(ownerKey{}).(uint64)
	if !ok {
		return ErrNotOwner
	}
	l.race.Releasing()
	return lockError(l.st.Unlock(t))
}

// Locked reports whether anyone holds the lock.
func (l *ReentrantLock) Locked() bool { return l.st != nil && l.st.Locked() }

// Owned reports whether the owner ctx names holds the lock.
func (l *ReentrantLock) Owned(ctx context.Context) bool {
	t, ok := ctx.Value(ownerKey{}).(uint64)
	return ok && l.st != nil && l.st.Owned(t)
}

// Close releases this process's mapping of the lock and its descriptor.
// Close must not be called while other goroutines use the lock; it is safe
// to call twice.
func (l *ReentrantLock) Close() error {
	l.st = nil
	return closeRegion(&l.r)
}

// MarshalCBOR is plumbing: part of how a ReentrantLock travels to another
// process (see Handles in the package doc); not for direct use.
func (l *ReentrantLock) MarshalCBOR() ([]byte, error) { return marshalRegion(rlockTag, l.r, nil) }

// UnmarshalCBOR is plumbing: part of how a ReentrantLock travels to another
// process (see Handles in the package doc); not for direct use.
func (l *ReentrantLock) UnmarshalCBOR(data []byte) error {
	r, p, err := unmarshalRegion(data, rlockTag, shmem.KindReentrantLock, int(unsafe.Sizeof(lockcore.RMutex{})), nil)
	if err != nil {
		return err
	}
	*l = ReentrantLock{r: r, st: (*lockcore.RMutex)(p)}
	return nil
}

// condLocker lets a Cond use a ReentrantLock.
func (l *ReentrantLock) condLocker() condLocker { return rlockCond{l} }
