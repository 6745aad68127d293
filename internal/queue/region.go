package queue

import (
	"fmt"
	"sync/atomic"
	"unsafe"

	"github.com/mpgo/mp/internal/shmem"
)

// region is the queue's shared memory: a sealed memfd mapped by every
// process that holds the queue.
type region struct {
	*shmem.Region
	mem []byte
}

func newRegion(size int) (*region, error) {
	r, err := shmem.Create("mp-queue", size)
	if err != nil {
		return nil, err
	}
	return &region{r, r.Bytes()}, nil
}

// mapRegion maps the memfd fd received from another process; it takes
// ownership of fd.
func mapRegion(fd int) (*region, error) {
	r, err := shmem.FromFD(fd)
	if err != nil {
		return nil, err
	}
	if n := len(r.Bytes()); n < hdrSize+minCapacity || n > hdrSize+2*maxCapacity {
		r.Close()
		return nil, protoErr(fmt.Sprintf("queue memory of %d bytes", n))
	}
	return &region{r, r.Bytes()}, nil
}

func (r *region) close() { r.Close() }

// u32 and u64 return the shared words at off (fixed offsets of the
// layout), for atomic access.
func (r *region) u32(off int) *atomic.Uint32 {
	return (*atomic.Uint32)(unsafe.Pointer(&r.mem[off]))
}

func (r *region) u64(off int) *atomic.Uint64 {
	return (*atomic.Uint64)(unsafe.Pointer(&r.mem[off]))
}
