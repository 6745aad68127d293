package connring

import (
	"encoding/binary"
	"fmt"
	"sync/atomic"
	"unsafe"

	"github.com/mpgo/mp/internal/errs"
	"github.com/mpgo/mp/internal/lockcore"
	"github.com/mpgo/mp/internal/shmem"
)

// Layout of a pipe's shared memory: a header page, then the ring of
// direction 0 (sent by side 0, read by side 1), then that of direction 1.
//
// The header holds the layout's description and, for each direction, a
// block of three cache lines: the state lock and the words that change
// under it or that sleepers count on; the writers' lock and the tail; the
// readers' lock and the head.
//
// Three locks, so that copies run in parallel: a sender holds the writers'
// lock while it copies a record into free space, a reader holds the
// readers' lock while it copies one out, and each takes the state lock
// only to commit (and to wake, or register to sleep).
const (
	offMagic    = 0 // u32
	offVersion  = 4 // u32
	offRingSize = 8 // u32: bytes of each ring

	offDir  = 64  // the first direction's block
	dirSize = 256 // bytes of a direction's block

	// Offsets within a direction's block.
	dLock     = 0   // u64: the state lock, a lockcore.Mutex
	dSeq      = 8   // u32: number of the last datagram reserved by a sender
	dSleepers = 12  // u32: readers asleep on their socket, waiting for a record
	dPolled   = 16  // u32: 1 once the reading end's descriptor was handed out (End.Fd)
	dWake     = 20  // u32: 1 while a wake is believed to be in the socket
	dSpace    = 24  // u32: senders asleep, waiting for room
	dWLock    = 64  // u64: the writers' lock
	dTail     = 72  // u64: bytes ever written (committed)
	dRLock    = 128 // u64: the readers' lock
	dHead     = 136 // u64: bytes ever read (committed)
	dPops     = 144 // u32: records ever read, mod 2³²; space sleepers wait on it

	hdrSize = 4096
	magic   = 0x6d70726e // "mprn"
	version = 3

	// RingSize is the size of each direction's ring. Pages are used only
	// once touched.
	RingSize    = 1 << 20
	minRingSize = 4096
	maxRingSize = 64 << 20
)

// dir is one direction of the pipe, as one process sees it.
type dir struct {
	// lk is the state lock; wlk and rlk the writers' and readers'.
	lk, wlk, rlk                             *lockcore.Mutex
	seq, sleepers, polled, wake, space, pops *atomic.Uint32
	tail, head                               *atomic.Uint64
	data                                     []byte
	size                                     uint64
}

func u32(mem []byte, off int) *atomic.Uint32 {
	return (*atomic.Uint32)(unsafe.Pointer(&mem[off]))
}

func u64(mem []byte, off int) *atomic.Uint64 {
	return (*atomic.Uint64)(unsafe.Pointer(&mem[off]))
}

// newRegion makes the shared memory of a new pipe.
func newRegion(ringSize int) (*shmem.Region, error) {
	r, err := shmem.Create("mp-pipe", hdrSize+2*ringSize)
	if err != nil {
		return nil, err
	}
	mem := r.Bytes()
	binary.LittleEndian.PutUint32(mem[offMagic:], magic)
	binary.LittleEndian.PutUint32(mem[offVersion:], version)
	binary.LittleEndian.PutUint32(mem[offRingSize:], uint32(ringSize))
	return r, nil
}

// ringSizeOf checks the header of a pipe's memory received from another
// process and returns the size of its rings.
func ringSizeOf(mem []byte) (int, error) {
	if len(mem) < hdrSize {
		return 0, errs.ErrBadHeader
	}
	if binary.LittleEndian.Uint32(mem[offMagic:]) != magic || binary.LittleEndian.Uint32(mem[offVersion:]) != version {
		return 0, errs.ErrBadHeader
	}
	n := int(binary.LittleEndian.Uint32(mem[offRingSize:]))
	if n < minRingSize || n > maxRingSize || n&(n-1) != 0 || len(mem) != hdrSize+2*n {
		return 0, fmt.Errorf("%w: rings of %d bytes in %d bytes of memory", errs.ErrBadHeader, n, len(mem))
	}
	return n, nil
}

// dirOf returns direction d of the pipe whose memory is mem.
func dirOf(mem []byte, ringSize, d int) dir {
	b := offDir + d*dirSize
	start := hdrSize + d*ringSize
	return dir{
		lk:       (*lockcore.Mutex)(unsafe.Pointer(&mem[b+dLock])),
		wlk:      (*lockcore.Mutex)(unsafe.Pointer(&mem[b+dWLock])),
		rlk:      (*lockcore.Mutex)(unsafe.Pointer(&mem[b+dRLock])),
		seq:      u32(mem, b+dSeq),
		sleepers: u32(mem, b+dSleepers),
		polled:   u32(mem, b+dPolled),
		wake:     u32(mem, b+dWake),
		space:    u32(mem, b+dSpace),
		pops:     u32(mem, b+dPops),
		tail:     u64(mem, b+dTail),
		head:     u64(mem, b+dHead),
		data:     mem[start : start+ringSize : start+ringSize],
		size:     uint64(ringSize),
	}
}
