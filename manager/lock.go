package manager

import (
	"context"

	"github.com/mpgo/mp"
)

// Mutex is a proxy to a lock held by a manager server (Python:
// manager.Lock()). The lock belongs to the connection that took it: any
// goroutine of the holding process may Unlock it, others get
// mp.ErrNotOwner. If the holding process dies or loses its connection, the
// server releases the lock and the next Lock returns holding it, with an
// error matching mp.ErrOwnerDead (Python's stays locked forever). Like mp's
// locks, it is not a sync.Locker: locking can fail. A *Mutex is safe for
// concurrent use.
type Mutex struct{ ref }

// NewMutex makes an unlocked mutex in the server.
func NewMutex(ctx context.Context, c *Client) (*Mutex, error) {
	m := new(Mutex)
	if err := create(ctx, c, m, createArgs{Kind: KindMutex}); err != nil {
		return nil, err
	}
	return m, nil
}

func (m *Mutex) accepts(k Kind) bool { return k == KindMutex }

// UnmarshalCBOR is plumbing: it decodes a Mutex that arrived from another
// process, as part of a message; not for direct use.
func (m *Mutex) UnmarshalCBOR(data []byte) error { return m.decodeAs(data, KindMutex) }

// Lock takes the lock, waiting while another holds it. If ctx ends first,
// the error matches mp.ErrTimeout and ctx's error and the lock is not
// taken. An error matching mp.ErrOwnerDead means the lock is taken.
func (m *Mutex) Lock(ctx context.Context) error {
	return m.call(ctx, "lock", callOpts{sentinel: mp.ErrTimeout}, nil)
}

// TryLock takes the lock if it is free and reports whether it did.
func (m *Mutex) TryLock(ctx context.Context) (bool, error) {
	return tryLock(ctx, &m.ref)
}

// Unlock releases the lock.
func (m *Mutex) Unlock(ctx context.Context) error {
	return m.call(ctx, "unlock", callOpts{}, nil)
}

// Locked reports whether some process holds the lock.
func (m *Mutex) Locked(ctx context.Context) (bool, error) {
	var locked bool
	err := m.call(ctx, "locked", callOpts{}, &locked)
	return locked, err
}

func tryLock(ctx context.Context, r *ref) (bool, error) {
	err := r.call(ctx, "lock", callOpts{sentinel: mp.ErrTimeout, noBlock: true}, nil)
	switch {
	case err == nil:
		return true, nil
	case isRemote(err, mp.ErrTimeout):
		return false, nil
	case isRemote(err, mp.ErrOwnerDead):
		return true, err
	}
	return false, err
}

// ReentrantLock is a proxy to a lock that its holder may take again
// (Python: manager.RLock()); it is released when unlocked as many times.
// The holder is the proxy: another proxy to the same lock, in this process
// or another, waits. Its owner-death rule is Mutex's. A *ReentrantLock is
// safe for concurrent use, but the goroutines sharing one share ownership.
type ReentrantLock struct{ ref }

// NewReentrantLock makes an unlocked reentrant lock in the server.
func NewReentrantLock(ctx context.Context, c *Client) (*ReentrantLock, error) {
	m := new(ReentrantLock)
	if err := create(ctx, c, m, createArgs{Kind: KindReentrantLock}); err != nil {
		return nil, err
	}
	return m, nil
}

func (m *ReentrantLock) accepts(k Kind) bool { return k == KindReentrantLock }

// UnmarshalCBOR is plumbing: it decodes a ReentrantLock that arrived from another
// process, as part of a message; not for direct use.
func (m *ReentrantLock) UnmarshalCBOR(data []byte) error {
	return m.decodeAs(data, KindReentrantLock)
}

// Lock takes the lock, or takes it once more if this proxy holds it.
func (m *ReentrantLock) Lock(ctx context.Context) error {
	return m.call(ctx, "lock", callOpts{sentinel: mp.ErrTimeout}, nil)
}

// TryLock takes the lock if it is free or held by this proxy.
func (m *ReentrantLock) TryLock(ctx context.Context) (bool, error) {
	return tryLock(ctx, &m.ref)
}

// Unlock releases the lock once.
func (m *ReentrantLock) Unlock(ctx context.Context) error {
	return m.call(ctx, "unlock", callOpts{}, nil)
}

// Semaphore is a proxy to a counting semaphore held by a manager server
// (Python: manager.Semaphore()). Units have no owner: units taken by a
// process that dies are not given back. A *Semaphore is safe for concurrent
// use.
type Semaphore struct{ ref }

// NewSemaphore makes a semaphore with value units in the server.
func NewSemaphore(ctx context.Context, c *Client, value int) (*Semaphore, error) {
	s := new(Semaphore)
	if err := create(ctx, c, s, createArgs{Kind: KindSemaphore, Size: value}); err != nil {
		return nil, err
	}
	return s, nil
}

// BoundedSemaphore is a Semaphore that may not be released above its
// initial value (Python: manager.BoundedSemaphore()): Release then returns
// mp.ErrTooManyReleases.
type BoundedSemaphore struct{ Semaphore }

// NewBoundedSemaphore makes a bounded semaphore with value units.
func NewBoundedSemaphore(ctx context.Context, c *Client, value int) (*BoundedSemaphore, error) {
	s := new(BoundedSemaphore)
	if err := create(ctx, c, s, createArgs{Kind: KindBoundedSemaphore, Size: value}); err != nil {
		return nil, err
	}
	return s, nil
}

func (s *BoundedSemaphore) accepts(k Kind) bool { return k == KindBoundedSemaphore }

// UnmarshalCBOR is plumbing: it decodes a BoundedSemaphore that arrived from another
// process, as part of a message; not for direct use.
func (s *BoundedSemaphore) UnmarshalCBOR(data []byte) error {
	return s.decodeAs(data, KindBoundedSemaphore)
}

func (s *Semaphore) accepts(k Kind) bool { return k == KindSemaphore || k == KindBoundedSemaphore }

// UnmarshalCBOR is plumbing: it decodes a Semaphore that arrived from another
// process, as part of a message; not for direct use.
func (s *Semaphore) UnmarshalCBOR(data []byte) error {
	return s.decodeAs(data, KindSemaphore, KindBoundedSemaphore)
}

// Acquire takes one unit, waiting while there is none. If ctx ends first,
// the error matches mp.ErrTimeout and ctx's error.
func (s *Semaphore) Acquire(ctx context.Context) error {
	return s.call(ctx, "acquire", callOpts{sentinel: mp.ErrTimeout}, nil)
}

// TryAcquire takes one unit if there is one and reports whether it did.
func (s *Semaphore) TryAcquire(ctx context.Context) (bool, error) {
	err := s.call(ctx, "acquire", callOpts{sentinel: mp.ErrTimeout, noBlock: true}, nil)
	if isRemote(err, mp.ErrTimeout) {
		return false, nil
	}
	return err == nil, err
}

// Release gives one unit back. A bounded semaphore already at its initial
// value returns mp.ErrTooManyReleases.
func (s *Semaphore) Release(ctx context.Context) error {
	return s.call(ctx, "release", callOpts{}, nil)
}

// Value returns the number of free units.
func (s *Semaphore) Value(ctx context.Context) (int, error) {
	var n int
	err := s.call(ctx, "value", callOpts{}, &n)
	return n, err
}
