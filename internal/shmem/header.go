package shmem

import (
	"encoding/binary"
	"fmt"

	"github.com/mpgo/mp/internal/errs"
)

// HeaderSize is the size of the header at the start of every region that
// holds an mp object; the object's own data starts at this offset.
const HeaderSize = 64

const (
	magic   = 0x6d70736d // "mpsm"
	version = 1
)

// Header describes the object a region holds. It is written once by the
// creator, before the region's descriptor is shared, and read (and checked)
// by every process that maps the region afterwards.
type Header struct {
	// Kind says what the region holds (a mutex, a semaphore, a value, …).
	Kind uint16
	// ElemSize and Count describe an array of Count elements of ElemSize
	// bytes each (a Value is an array of one); zero for other objects.
	ElemSize uint32
	Count    uint64
	// TypeHash identifies the element type, so that a region made for one
	// type is not read as another.
	TypeHash uint64
	// DataOff is where the object's data starts, from the start of the
	// region; DataLen is its length in bytes.
	DataOff uint64
	DataLen uint64
	// Flags are kind-specific bits.
	Flags uint32
}

// Encode writes h into b, which must hold HeaderSize bytes.
func (h Header) Encode(b []byte) {
	le := binary.LittleEndian
	le.PutUint32(b[0:], magic)
	le.PutUint16(b[4:], version)
	le.PutUint16(b[6:], h.Kind)
	le.PutUint32(b[8:], h.ElemSize)
	le.PutUint32(b[12:], h.Flags)
	le.PutUint64(b[16:], h.Count)
	le.PutUint64(b[24:], h.TypeHash)
	le.PutUint64(b[32:], h.DataOff)
	le.PutUint64(b[40:], h.DataLen)
}

// DecodeHeader reads and checks the header at the start of a region of
// len(b) bytes that another process wrote: the magic number and version, the
// kind (want), and that the data it describes lies inside the region, after
// the header, and is ElemSize*Count bytes when ElemSize is not zero.
func DecodeHeader(b []byte, want uint16) (Header, error) {
	if len(b) < HeaderSize {
		return Header{}, fmt.Errorf("%w: region of %d bytes", errs.ErrBadHeader, len(b))
	}
	le := binary.LittleEndian
	if le.Uint32(b[0:]) != magic || le.Uint16(b[4:]) != version {
		return Header{}, fmt.Errorf("%w: not an mp object of version %d", errs.ErrBadHeader, version)
	}
	h := Header{
		Kind: le.Uint16(b[6:]), ElemSize: le.Uint32(b[8:]), Flags: le.Uint32(b[12:]),
		Count: le.Uint64(b[16:]), TypeHash: le.Uint64(b[24:]),
		DataOff: le.Uint64(b[32:]), DataLen: le.Uint64(b[40:]),
	}
	if h.Kind != want {
		return Header{}, fmt.Errorf("%w: kind %d, want %d", errs.ErrBadHeader, h.Kind, want)
	}
	return h, h.checkBounds(uint64(len(b)))
}

func (h Header) checkBounds(size uint64) error {
	if h.DataOff < HeaderSize || h.DataOff%8 != 0 || h.DataOff > size || h.DataLen > size-h.DataOff {
		return fmt.Errorf("%w: data at %d+%d in a %d-byte region", errs.ErrBadHeader, h.DataOff, h.DataLen, size)
	}
	if h.ElemSize != 0 {
		if h.Count > h.DataLen/uint64(h.ElemSize) || h.Count*uint64(h.ElemSize) != h.DataLen {
			return fmt.Errorf("%w: %d elements of %d bytes in %d bytes", errs.ErrBadHeader, h.Count, h.ElemSize, h.DataLen)
		}
	}
	return nil
}

// Kinds of objects in regions.
const (
	KindMutex uint16 = iota + 1
	KindReentrantLock
	KindSemaphore
	KindEvent
	KindCond
	KindBarrier
	KindValue
	KindArray
)
