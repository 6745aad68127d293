package shm

import (
	"context"
	"unsafe"

	"github.com/mpgo/mp"
	"github.com/mpgo/mp/internal/shmem"
)

// Array is a fixed number of T in memory shared between processes (Python:
// multiprocessing.Array, or RawArray when made without a lock).
//
// Slice returns the elements themselves, as a Go slice over the shared
// pages: reading and writing it is reading and writing shared memory, with no
// copy. Update, and Lock and Unlock around several accesses, make accesses
// exclusive between processes. An Array is a handle, like Value.
type Array[T any] struct {
	o *object
	s []T
}

// NewArray returns an Array holding a copy of init (its length is the
// Array's), with a lock (an mp.Mutex). For n zeroed elements, pass
// make([]T, n). It returns an error matching ErrUnsupportedType if T holds
// pointers.
func NewArray[T any](init []T) (*Array[T], error) { return newArray(init, true) }

// NewRawArray is NewArray without a lock (Python: RawArray, or Array(...,
// lock=False)).
func NewRawArray[T any](init []T) (*Array[T], error) { return newArray(init, false) }

func newArray[T any](init []T, locked bool) (*Array[T], error) {
	info, err := infoOf[T]()
	if err != nil {
		return nil, err
	}
	o, err := newObject(shmem.KindArray, info, len(init), locked)
	if err != nil {
		return nil, err
	}
	a := &Array[T]{o: o, s: unsafe.Slice((*T)(o.data), o.n)}
	copy(a.s, init)
	return a, nil
}

func (a *Array[T]) slice() []T {
	if a.o == nil || a.o.r == nil {
		panic("shm: use of a closed Array")
	}
	return a.s
}

// Len returns the number of elements.
func (a *Array[T]) Len() int { return len(a.slice()) }

// Slice returns the elements in shared memory: no copy. It is valid until
// Close; its capacity is its length.
func (a *Array[T]) Slice() []T { return a.slice()[:len(a.s):len(a.s)] }

// Copy returns a copy of the elements, without locking (Python: arr[:]).
func (a *Array[T]) Copy() []T { return append([]T(nil), a.slice()...) }

// Update calls fn with the elements while holding the lock (without a lock,
// it just calls fn). If the lock's previous holder died, fn runs all the
// same and Update returns mp.ErrOwnerDead.
func (a *Array[T]) Update(ctx context.Context, fn func(s []T)) error {
	s := a.Slice()
	return a.o.update(ctx, func() { fn(s) })
}

// Lock takes the array's lock; it returns ErrNoLock for a raw Array.
func (a *Array[T]) Lock(ctx context.Context) error { return a.o.lockCtx(ctx) }

// TryLock takes the lock if it is free; see mp.Mutex.TryLock.
func (a *Array[T]) TryLock() (bool, error) { return a.o.tryLock() }

// Unlock releases the lock.
func (a *Array[T]) Unlock() error { return a.o.unlock() }

// Mutex returns the array's lock (Python: get_lock()), or nil for a raw
// Array. It is closed with the Array.
func (a *Array[T]) Mutex() *mp.Mutex { return a.o.lock }

// Close unmaps the array and closes its descriptors in this process. Slices
// from Slice must not be used afterwards. Close must not be called while
// other goroutines use the Array; it is safe to call twice.
func (a *Array[T]) Close() error {
	a.s = nil
	if a.o == nil {
		return nil
	}
	return a.o.close()
}

// MarshalCBOR is plumbing: part of how an Array travels to another
// process (see Handles in package mp); not for direct use.
func (a *Array[T]) MarshalCBOR() ([]byte, error) {
	if a.o == nil || a.o.r == nil {
		return nil, mp.ErrClosed
	}
	return a.o.marshal(arrayTag)
}

// UnmarshalCBOR is plumbing: part of how an Array travels to another
// process (see Handles in package mp); not for direct use.
func (a *Array[T]) UnmarshalCBOR(data []byte) error {
	info, err := infoOf[T]()
	if err != nil {
		return err
	}
	o, err := unmarshalObject(data, arrayTag, shmem.KindArray, info)
	if err != nil {
		return err
	}
	*a = Array[T]{o: o, s: unsafe.Slice((*T)(o.data), o.n)}
	return nil
}
