package mp

import (
	"context"
	"errors"
	"fmt"
	"os"
	"reflect"
	"unsafe"

	"github.com/mpgo/mp/internal/descr"
	"github.com/mpgo/mp/internal/diag"
	"github.com/mpgo/mp/internal/errs"
	"github.com/mpgo/mp/internal/shmem"
	"github.com/mpgo/mp/internal/wire"
)

// Handle tags of the synchronization types: each travels to other processes
// as a handle whose one descriptor is the memfd of its shared memory.
const (
	mutexTag     = wire.TagBase + 0x20
	rlockTag     = wire.TagBase + 0x21
	semaphoreTag = wire.TagBase + 0x22
	eventTag     = wire.TagBase + 0x23
	condTag      = wire.TagBase + 0x24
	barrierTag   = wire.TagBase + 0x25
)

// The handle types of package mp: values that stand for open descriptors
// and travel between processes (see Handles in the package doc).
func init() {
	wire.RegisterHandle(
		reflect.TypeFor[*Conn](), reflect.TypeFor[*File](),
		reflect.TypeFor[*Queue[struct{}]](), reflect.TypeFor[*SimpleQueue[struct{}]](),
		reflect.TypeFor[*JoinableQueue[struct{}]](), reflect.TypeFor[*LifoQueue[struct{}]](),
		reflect.TypeFor[*PriorityQueue[struct{}]](),
		reflect.TypeFor[*Mutex](), reflect.TypeFor[*ReentrantLock](), reflect.TypeFor[*Semaphore](),
		reflect.TypeFor[*BoundedSemaphore](), reflect.TypeFor[*Event](), reflect.TypeFor[*Cond](),
		reflect.TypeFor[*Barrier](),
	)
}

// newRegion makes a region for an object of kind whose state is size bytes,
// writes its header, and returns a pointer to the state (zeroed).
func newRegion(kind uint16, size int) (*shmem.Region, unsafe.Pointer, error) {
	r, err := shmem.Create("mp-sync", shmem.HeaderSize+size)
	if err != nil {
		return nil, nil, err
	}
	shmem.Header{Kind: kind, DataOff: shmem.HeaderSize, DataLen: uint64(size)}.Encode(r.Bytes())
	return r, r.At(shmem.HeaderSize, size, 8), nil
}

// openRegion maps the region of a received handle and checks that it holds
// an object of kind with a state of size bytes. It takes ownership of fd.
func openRegion(fd int, kind uint16, size int) (*shmem.Region, unsafe.Pointer, error) {
	r, err := shmem.FromFD(fd)
	if err != nil {
		return nil, nil, err
	}
	h, err := shmem.DecodeHeader(r.Bytes(), kind)
	if err == nil && (h.DataOff != shmem.HeaderSize || h.DataLen != uint64(size)) {
		err = fmt.Errorf("%w: state of %d bytes at %d, want %d at %d", errs.ErrBadHeader, h.DataLen, h.DataOff, size, shmem.HeaderSize)
	}
	if err != nil {
		r.Close()
		return nil, nil, err
	}
	return r, r.At(shmem.HeaderSize, size, 8), nil
}

// marshalRegion encodes a handle whose only descriptor is r's.
func marshalRegion(tag uint64, r *shmem.Region, meta any) ([]byte, error) {
	if r == nil {
		return nil, fmt.Errorf("mp: send a closed object: %w", ErrClosed)
	}
	return wire.MarshalHandle(tag, []int{r.FD()}, meta)
}

// unmarshalRegion decodes a handle with one descriptor and maps its region.
func unmarshalRegion(data []byte, tag uint64, kind uint16, size int, meta any) (*shmem.Region, unsafe.Pointer, error) {
	fds, err := wire.UnmarshalHandle(data, tag, meta)
	if err != nil {
		return nil, nil, err
	}
	if len(fds) != 1 {
		descr.Close(fds)
		return nil, nil, fmt.Errorf("%w: handle with %d descriptors, want 1", ErrProtocol, len(fds))
	}
	return openRegion(fds[0], kind, size)
}

// lockError gives a wait for a lock that its context's deadline ended the
// error that matches ErrTimeout too.
func lockError(err error) error {
	if err != nil && errors.Is(err, context.DeadlineExceeded) {
		return errs.WithContext(ErrTimeout, err)
	}
	return err
}

// ownerDied returns ErrOwnerDead if died is set: the caller took over
// what, a lock of the kind named, from an owner that died holding it, and
// the logger given to SetLogger hears of it, with the pid and name of the
// process that took it over (added by the parent when the record comes
// from a child).
func ownerDied(died bool, what string) error {
	if !died {
		return nil
	}
	args := []any{"lock", what}
	if !diag.Forwarded() {
		args = append(args, "pid", os.Getpid(), "process", Current().Name)
	}
	diag.Logger().Warn("mp: the owner of a "+what+" died holding it; this process took it over", args...)
	return ErrOwnerDead
}

// closeRegion closes *r once and sets it to nil.
func closeRegion(r **shmem.Region) error {
	if *r == nil {
		return nil
	}
	err := (*r).Close()
	*r = nil
	return err
}
