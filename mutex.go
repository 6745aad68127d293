package mp

import (
	"context"
	"unsafe"

	"github.com/mpgo/mp/internal/lockcore"
	"github.com/mpgo/mp/internal/race"
	"github.com/mpgo/mp/internal/shmem"
)

// Mutex is a lock shared between processes (Python: multiprocessing.Lock).
// Its state is one word in shared memory: an uncontended Lock and Unlock
// are a compare-and-swap each, with no system call (about 15 ns here); a
// contended Lock spins briefly, then sleeps in the kernel (a futex).
//
// The holder is a process, not a goroutine: any goroutine of any process may
// Unlock it, as in Python. Goroutines of one process exclude each other too:
// a second Lock in the same process waits like any other.
//
// Unlike Python's Lock, a Mutex survives its holder's death: if the process
// that holds it dies (killed, crashed, exited), the next Lock gets the lock
// together with ErrOwnerDead, and should repair whatever the lock protects.
// A Lock that has waited a millisecond follows the holder with a pidfd and
// wakes the moment it exits (on Linux 5.16 and later; elsewhere it looks
// every 50 ms). Death is told from the holder's pid and start time, so
// zombies and reused pids do not fool it. All processes that share it must
// see the same pid namespace.
//
// A Mutex is a handle: placed in a Process's argument, or in a message sent
// to another process, it arrives there as a working Mutex on the same lock.
// It does not implement sync.Locker, whose Lock cannot fail: locking a
// Mutex can fail (a context ends, an owner died).
//
// Memory order: everything a process wrote before Unlock is visible to the
// process whose Lock returns next, as with sync.Mutex.
type Mutex struct {
	r    *shmem.Region
	st   *lockcore.Mutex
	race race.Sync
}

// NewMutex returns a new unlocked Mutex in its own shared memory (one page
// and one file descriptor).
func NewMutex() (*Mutex, error) {
	r, p, err := newRegion(shmem.KindMutex, int(unsafe.Sizeof(lockcore.Mutex{})))
	if err != nil {
		return nil, err
	}
	return &Mutex{r: r, st: (*lockcore.Mutex)(p)}, nil
}

// Lock acquires the lock, waiting while another process or goroutine holds
// it. If ctx ends first, Lock returns an error that matches ctx's error (and
// ErrTimeout for a deadline) and does not hold the lock. If the previous
// holder died holding it, Lock returns ErrOwnerDead and holds the lock.
func (m *Mutex) Lock(ctx context.Context) error {
	if m.st == nil {
		return ErrClosed
	}
	if m.st.TryFast() {
		m.race.Acquired()
		return nil
	}
	died, err := m.st.Lock(ctx)
	if err != nil {
		return lockError(err)
	}
	m.race.Acquired()
	return ownerDied(died, "Mutex")
}

// TryLock acquires the lock if it is free and reports whether it did (Python:
// acquire(block=False)). It never waits. When it takes over the lock of a
// dead holder, it returns true and ErrOwnerDead.
func (m *Mutex) TryLock() (bool, error) {
	if m.st == nil {
		return false, ErrClosed
	}
	ok, died := m.st.TryLock()
	if ok {
		m.race.Acquired()
	}
	return ok, ownerDied(died, "Mutex")
}

// Unlock releases the lock, whichever process locked it. It returns
// ErrNotOwner if the lock is not held (Python: ValueError).
func (m *Mutex) Unlock() error {
	if m.st == nil {
		return ErrClosed
	}
	m.race.Releasing()
	return lockError(m.st.Unlock())
}

// Locked reports whether some process holds the lock.
func (m *Mutex) Locked() bool { return m.st != nil && m.st.Owner() != 0 }

// Close releases this process's mapping of the lock and its descriptor. The
// lock lives on in other processes that have it. Close must not be called
// while other goroutines use the Mutex; it is safe to call twice.
func (m *Mutex) Close() error {
	m.st = nil
	return closeRegion(&m.r)
}

// MarshalCBOR is plumbing: part of how a Mutex travels to another
// process (see Handles in the package doc); not for direct use.
func (m *Mutex) MarshalCBOR() ([]byte, error) { return marshalRegion(mutexTag, m.r, nil) }

// UnmarshalCBOR is plumbing: part of how a Mutex travels to another
// process (see Handles in the package doc); not for direct use.
func (m *Mutex) UnmarshalCBOR(data []byte) error {
	r, p, err := unmarshalRegion(data, mutexTag, shmem.KindMutex, int(unsafe.Sizeof(lockcore.Mutex{})), nil)
	if err != nil {
		return err
	}
	*m = Mutex{r: r, st: (*lockcore.Mutex)(p)}
	return nil
}

// condLocker lets a Cond use a Mutex.
func (m *Mutex) condLocker() condLocker { return mutexCond{m} }
