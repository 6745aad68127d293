package shm

import (
	"context"

	"github.com/mpgo/mp"
	"github.com/mpgo/mp/internal/shmem"
)

// Value is one T in memory shared between processes (Python:
// multiprocessing.Value, or RawValue when made without a lock).
//
// Load, Store and Ptr access the memory directly and never lock; Update,
// and Lock and Unlock around several accesses, make them exclusive between
// processes. A Value is a handle: in an mp.Process's argument or a message it
// reaches the other process as a Value over the same memory (the receiver's T
// must have the same layout, or decoding fails).
type Value[T any] struct {
	o *object
	p *T
}

// NewValue returns a Value holding v, with a lock (an mp.Mutex). It returns
// an error matching ErrUnsupportedType if T holds pointers (or strings,
// slices, maps, interfaces, channels, functions).
func NewValue[T any](v T) (*Value[T], error) { return newValue(v, true) }

// NewRawValue returns a Value holding v, without a lock (Python: RawValue,
// or Value(..., lock=False)).
func NewRawValue[T any](v T) (*Value[T], error) { return newValue(v, false) }

func newValue[T any](v T, locked bool) (*Value[T], error) {
	info, err := infoOf[T]()
	if err != nil {
		return nil, err
	}
	o, err := newObject(shmem.KindValue, info, 1, locked)
	if err != nil {
		return nil, err
	}
	val := &Value[T]{o: o, p: (*T)(o.data)}
	*val.p = v
	return val, nil
}

func (v *Value[T]) ptr() *T {
	if v.p == nil {
		panic("shm: use of a closed Value")
	}
	return v.p
}

// Load returns a copy of the value, without locking.
func (v *Value[T]) Load() T { return *v.ptr() }

// Store sets the value, without locking.
func (v *Value[T]) Store(x T) { *v.ptr() = x }

// Ptr returns a pointer to the value in shared memory: no copy. It is valid
// until Close. Use it under the lock, or with sync/atomic for a single
// aligned word.
func (v *Value[T]) Ptr() *T { return v.ptr() }

// Update calls fn with a pointer to the value while holding the lock, so
// that read-modify-write is exclusive between processes (without a lock, it
// just calls fn). If the lock's previous holder died, fn runs all the same
// and Update returns mp.ErrOwnerDead.
func (v *Value[T]) Update(ctx context.Context, fn func(p *T)) error {
	p := v.ptr()
	return v.o.update(ctx, func() { fn(p) })
}

// Lock takes the value's lock (Python: get_lock().acquire()); see
// mp.Mutex.Lock for its errors. It returns ErrNoLock for a raw Value.
func (v *Value[T]) Lock(ctx context.Context) error { return v.o.lockCtx(ctx) }

// TryLock takes the lock if it is free; see mp.Mutex.TryLock.
func (v *Value[T]) TryLock() (bool, error) { return v.o.tryLock() }

// Unlock releases the lock.
func (v *Value[T]) Unlock() error { return v.o.unlock() }

// Mutex returns the value's lock (Python: get_lock()), or nil for a raw
// Value. It is closed with the Value.
func (v *Value[T]) Mutex() *mp.Mutex { return v.o.lock }

// Close unmaps the value and closes its descriptors in this process; other
// processes keep theirs. The memory is freed when the last process closes
// it (or exits). Close must not be called while other goroutines use the
// Value; it is safe to call twice.
func (v *Value[T]) Close() error {
	v.p = nil
	if v.o == nil {
		return nil
	}
	return v.o.close()
}

// MarshalCBOR is plumbing: part of how a Value travels to another
// process (see Handles in package mp); not for direct use.
func (v *Value[T]) MarshalCBOR() ([]byte, error) {
	if v.p == nil {
		return nil, mp.ErrClosed
	}
	return v.o.marshal(valueTag)
}

// UnmarshalCBOR is plumbing: part of how a Value travels to another
// process (see Handles in package mp); not for direct use.
func (v *Value[T]) UnmarshalCBOR(data []byte) error {
	info, err := infoOf[T]()
	if err != nil {
		return err
	}
	o, err := unmarshalObject(data, valueTag, shmem.KindValue, info)
	if err != nil {
		return err
	}
	*v = Value[T]{o: o, p: (*T)(o.data)}
	return nil
}
