package shm

import (
	"context"
	"errors"
	"fmt"
	"reflect"
	"unsafe"

	"github.com/mpgo/mp"
	"github.com/mpgo/mp/internal/descr"
	"github.com/mpgo/mp/internal/errs"
	"github.com/mpgo/mp/internal/shmem"
	"github.com/mpgo/mp/internal/wire"
)

// ErrNoLock is returned by the locking methods of a Value or Array made
// without a lock (NewRawValue, NewRawArray).
var ErrNoLock = errors.New("shm: value has no lock (made with NewRawValue or NewRawArray)")

// Handle tags of Value and Array.
const (
	valueTag = wire.TagBase + 0x28
	arrayTag = wire.TagBase + 0x29
)

// dataOff is where elements start in a region: after the header, on a
// cache line of their own.
const dataOff = 128

// flagLocked in a region's header says the object has a lock.
const flagLocked = 1

// Value and Array are handles: they travel between processes.
func init() {
	wire.RegisterHandle(reflect.TypeFor[*Value[int]](), reflect.TypeFor[*Array[int]]())
}

// object is what Value and Array share: a region with a header and the
// elements, and the lock, if any.
type object struct {
	r    *shmem.Region
	lock *mp.Mutex
	data unsafe.Pointer
	n    int
}

// objectMeta is what travels with an object's descriptor: its lock, a
// handle of its own.
type objectMeta struct {
	Lock *mp.Mutex
}

func newObject(kind uint16, info typeInfo, n int, locked bool) (*object, error) {
	if info.align > dataOff {
		return nil, &TypeError{Reason: fmt.Sprintf("alignment %d above %d", info.align, dataOff)}
	}
	if n < 0 || (info.size > 0 && n > (1<<40)/info.size) {
		return nil, fmt.Errorf("shm: %d elements of %d bytes is too large", n, info.size)
	}
	length := n * info.size
	r, err := shmem.Create("mp-shm", dataOff+length)
	if err != nil {
		return nil, err
	}
	o := &object{r: r, data: r.At(dataOff, length, max(info.align, 1)), n: n}
	h := shmem.Header{Kind: kind, ElemSize: uint32(info.size), Count: uint64(n), TypeHash: info.hash,
		DataOff: dataOff, DataLen: uint64(length)}
	if locked {
		h.Flags = flagLocked
		if o.lock, err = mp.NewMutex(); err != nil {
			r.Close()
			return nil, err
		}
	}
	h.Encode(r.Bytes())
	return o, nil
}

// openObject checks a received region against the type the receiver
// expects and maps its elements.
func openObject(r *shmem.Region, lock *mp.Mutex, kind uint16, info typeInfo) (*object, error) {
	h, err := shmem.DecodeHeader(r.Bytes(), kind)
	if err != nil {
		return nil, err
	}
	switch {
	case h.DataOff != dataOff:
		return nil, fmt.Errorf("%w: data at %d, want %d", errs.ErrBadHeader, h.DataOff, dataOff)
	case h.ElemSize != uint32(info.size) || h.TypeHash != info.hash:
		return nil, fmt.Errorf("%w: element type differs from the receiver's (%d-byte elements)", errs.ErrBadHeader, h.ElemSize)
	case kind == shmem.KindValue && h.Count != 1:
		return nil, fmt.Errorf("%w: a Value of %d elements", errs.ErrBadHeader, h.Count)
	case (h.Flags&flagLocked != 0) != (lock != nil):
		return nil, fmt.Errorf("%w: lock flag and lock handle disagree", errs.ErrBadHeader)
	}
	return &object{r: r, lock: lock, data: r.At(dataOff, int(h.DataLen), max(info.align, 1)), n: int(h.Count)}, nil
}

func (o *object) marshal(tag uint64) ([]byte, error) {
	if o.r == nil {
		return nil, fmt.Errorf("shm: send a closed value: %w", mp.ErrClosed)
	}
	return wire.MarshalHandle(tag, []int{o.r.FD()}, objectMeta{Lock: o.lock})
}

func unmarshalObject(data []byte, tag uint64, kind uint16, info typeInfo) (*object, error) {
	var meta objectMeta
	fds, err := wire.UnmarshalHandle(data, tag, &meta)
	if err == nil && len(fds) != 1 {
		descr.Close(fds)
		err = fmt.Errorf("%w: handle with %d descriptors, want 1", mp.ErrProtocol, len(fds))
	}
	if err != nil {
		if meta.Lock != nil {
			meta.Lock.Close()
		}
		return nil, err
	}
	r, err := shmem.FromFD(fds[0])
	if err != nil {
		if meta.Lock != nil {
			meta.Lock.Close()
		}
		return nil, err
	}
	o, err := openObject(r, meta.Lock, kind, info)
	if err != nil {
		r.Close()
		if meta.Lock != nil {
			meta.Lock.Close()
		}
		return nil, err
	}
	return o, nil
}

// lockCtx takes the lock.
func (o *object) lockCtx(ctx context.Context) error {
	if o.lock == nil {
		return ErrNoLock
	}
	return o.lock.Lock(ctx)
}

func (o *object) tryLock() (bool, error) {
	if o.lock == nil {
		return false, ErrNoLock
	}
	return o.lock.TryLock()
}

func (o *object) unlock() error {
	if o.lock == nil {
		return ErrNoLock
	}
	return o.lock.Unlock()
}

// update runs fn under the lock (without one for a raw object). If the lock's
// previous holder died, fn still runs and ErrOwnerDead is returned.
func (o *object) update(ctx context.Context, fn func()) error {
	var lockErr error
	if o.lock != nil {
		lockErr = o.lock.Lock(ctx)
		if lockErr != nil && !errors.Is(lockErr, mp.ErrOwnerDead) {
			return lockErr
		}
		defer o.lock.Unlock()
	}
	fn()
	return lockErr
}

func (o *object) close() error {
	if o.r == nil {
		return nil
	}
	err := o.r.Close()
	o.r, o.data = nil, nil
	if o.lock != nil {
		err = errors.Join(err, o.lock.Close())
	}
	return err
}
