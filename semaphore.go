package mp

import (
	"context"
	"fmt"
	"math"
	"unsafe"

	"github.com/mpgo/mp/internal/lockcore"
	"github.com/mpgo/mp/internal/race"
	"github.com/mpgo/mp/internal/shmem"
)

// SemaphoreHolders is how many processes may hold units of one semaphore at
// the same time. Each holder has a slot in the semaphore's shared memory
// that counts its units, so that a dead holder's units can be given back.
// Acquire in a process that would be one holder too many returns
// ErrTooManyHolders.
const SemaphoreHolders = 128

// The table in shared memory has exactly SemaphoreHolders slots: a
// difference either way makes one of these constants negative, which does
// not compile.
const (
	_ uint = SemaphoreHolders - lockcore.SemSlots
	_ uint = lockcore.SemSlots - SemaphoreHolders
)

// Semaphore is a counting semaphore shared between processes (Python:
// multiprocessing.Semaphore). Acquire takes a unit, waiting while there is
// none; Release gives one back. Taking a free unit is a compare-and-swap in
// shared memory, with no system call.
//
// Units are counted per process: Acquire adds one to the caller's process,
// Release takes one off it (a Release by a process that holds none is a plain
// signal, as when a producer releases what a consumer acquires). When a
// process dies holding units, they return to the semaphore, and an Acquire
// that was waiting for them gets one together with ErrOwnerDead, as soon as
// the process has exited (see Mutex). A process
// that acquires units it never means to give back (a consumer of items a
// producer counts) should know that its units return if it dies. A process
// killed in the few instructions between the count and the record may leave
// one unit unaccounted for.
//
// A Semaphore is a handle: it travels to other processes in a Process's
// argument or in a message.
//
// Memory order: what a process wrote before Release is visible to the
// process whose Acquire takes that unit.
type Semaphore struct {
	r    *shmem.Region
	h    *lockcore.SemHandle
	race race.Sync
}

// BoundedSemaphore is a Semaphore whose Release fails with
// ErrTooManyReleases rather than raise the value above its initial value
// (Python: multiprocessing.BoundedSemaphore).
type BoundedSemaphore struct {
	Semaphore
}

// NewSemaphore returns a Semaphore with value free units. It panics if value
// is negative or above math.MaxInt32.
func NewSemaphore(value int) (*Semaphore, error) {
	s, err := newSemaphore(value, false)
	if err != nil {
		return nil, err
	}
	return s, nil
}

// NewBoundedSemaphore returns a BoundedSemaphore with value free units, which
// is also the most it can have. It panics if value is negative or above
// math.MaxInt32.
func NewBoundedSemaphore(value int) (*BoundedSemaphore, error) {
	s, err := newSemaphore(value, true)
	if err != nil {
		return nil, err
	}
	return &BoundedSemaphore{Semaphore{r: s.r, h: s.h}}, nil
}

func newSemaphore(value int, bounded bool) (*Semaphore, error) {
	if value < 0 || value > math.MaxInt32 {
		panic(fmt.Sprintf("mp: semaphore value %d outside 0..MaxInt32", value))
	}
	r, p, err := newRegion(shmem.KindSemaphore, int(unsafe.Sizeof(lockcore.Sem{})))
	if err != nil {
		return nil, err
	}
	st := (*lockcore.Sem)(p)
	st.Value.Store(uint32(value))
	if bounded {
		st.Bound.Store(uint32(value))
		st.Bounded.Store(1)
	}
	return &Semaphore{r: r, h: &lockcore.SemHandle{S: st}}, nil
}

// Acquire takes a unit, waiting while there is none. If ctx ends first, it
// returns an error that matches ctx's error (and ErrTimeout for a deadline)
// and takes nothing. If it takes a unit given back by a process that died
// holding it, it returns ErrOwnerDead (and holds the unit).
func (s *Semaphore) Acquire(ctx context.Context) error {
	if s.h == nil {
		return ErrClosed
	}
	died, err := s.h.Acquire(ctx)
	if err != nil {
		return lockError(err)
	}
	s.race.Acquired()
	return ownerDied(died, "Semaphore unit")
}

// TryAcquire takes a unit if one is free and reports whether it did
// (Python: acquire(block=False)). It never waits.
func (s *Semaphore) TryAcquire() (bool, error) {
	if s.h == nil {
		return false, ErrClosed
	}
	ok, died, err := s.h.TryAcquire()
	if err != nil {
		return false, lockError(err)
	}
	if ok {
		s.race.Acquired()
	}
	return ok, ownerDied(died, "Semaphore unit")
}

// Release gives a unit back and wakes a waiter. It returns
// ErrTooManyReleases if the semaphore is bounded and already at its bound.
func (s *Semaphore) Release() error {
	if s.h == nil {
		return ErrClosed
	}
	s.race.Releasing()
	return lockError(s.h.Release())
}

// Value returns the number of free units (Python: get_value). Other
// processes may change it at any moment.
func (s *Semaphore) Value() int {
	if s.h == nil {
		return 0
	}
	return int(s.h.S.Value.Load())
}

// Close releases this process's mapping of the semaphore and its descriptor.
// Units this process holds stay held. Close must not be called while other
// goroutines use the semaphore; it is safe to call twice.
func (s *Semaphore) Close() error {
	s.h = nil
	return closeRegion(&s.r)
}

// MarshalCBOR is plumbing: part of how a Semaphore travels to another
// process (see Handles in the package doc); not for direct use.
func (s *Semaphore) MarshalCBOR() ([]byte, error) { return marshalRegion(semaphoreTag, s.r, nil) }

// UnmarshalCBOR is plumbing: part of how a Semaphore travels to another
// process (see Handles in the package doc); not for direct use. A bounded
// semaphore received as a Semaphore stays bounded.
func (s *Semaphore) UnmarshalCBOR(data []byte) error {
	r, p, err := unmarshalRegion(data, semaphoreTag, shmem.KindSemaphore, int(unsafe.Sizeof(lockcore.Sem{})), nil)
	if err != nil {
		return err
	}
	*s = Semaphore{r: r, h: &lockcore.SemHandle{S: (*lockcore.Sem)(p)}}
	return nil
}

// UnmarshalCBOR is plumbing: part of how a BoundedSemaphore travels to
// another process (see Handles in the package doc); not for direct use. A
// semaphore without a bound is refused.
func (s *BoundedSemaphore) UnmarshalCBOR(data []byte) error {
	if err := s.Semaphore.UnmarshalCBOR(data); err != nil {
		return err
	}
	if s.h.S.Bounded.Load() == 0 {
		s.Semaphore.Close()
		return fmt.Errorf("%w: a Semaphore handle received as a BoundedSemaphore", ErrProtocol)
	}
	return nil
}
