package queue

import (
	"encoding/binary"
)

// A FIFO queue's data area is a ring of records. A record is an 8-byte
// header (length of the payload as u32, type and flags as u8) and the
// payload, padded to 8 bytes. A record never wraps: when one does not fit
// before the end of the ring, a wrap record fills the rest and the record
// starts at zero. head and tail are byte positions that only grow.
//
// Items over the inline limit go to a second ring, the bulk ring, as plain
// records, with a recBulk ticket in the main ring keeping their place. A
// record and its ticket are committed together, and removed together, and
// bulk records are written one at a time (bulk.go), so the bulk ring's
// order is the tickets' order.
const (
	recHdr    = 8
	recInline = 1 // the item's bytes are the payload
	recTicket = 2 // the item waits in the queue's socket; the payload is its datagram's sequence number
	recWrap   = 3 // skip to the start of the ring
	recBulk   = 4 // the item is the next record of the bulk ring

	flagRaw = 1 // the item's bytes are raw, not encoded (Item.Raw)
)

func pad8(n int) int { return (n + 7) &^ 7 }

// ringNeed returns the bytes a record of n payload bytes takes at tail,
// counting the wrap record in front of it if there must be one.
func ringNeed(capacity int, tail uint64, n int) int {
	size := recHdr + pad8(n)
	off := int(tail % uint64(capacity))
	if off+size > capacity {
		return capacity - off + size
	}
	return size
}

// ringFree returns the free bytes of a ring.
func ringFree(d []byte, head, tail uint64) uint64 {
	return uint64(len(d)) - (tail - head)
}

// ringSane reports whether a ring's positions, read from shared memory, are
// ones this package writes: 8-byte aligned, with no more than the ring's
// capacity between them. Records are only pushed onto a sane ring: memory
// written by a faulty process yields an error, never a crash.
func ringSane(d []byte, head, tail uint64) bool {
	return head%8 == 0 && tail%8 == 0 && len(d)%8 == 0 && tail-head <= uint64(len(d))
}

// ringFits reports whether a record of n payload bytes fits.
func ringFits(d []byte, head, tail uint64, n int) bool {
	return uint64(ringNeed(len(d), tail, n)) <= ringFree(d, head, tail)
}

// ringPush appends a record to the ring d and reports whether it fitted;
// it advances *tail. Nothing is committed: the caller commits the state.
func ringPush(d []byte, head uint64, tail *uint64, typ, flags byte, payload []byte) bool {
	if !ringFits(d, head, *tail, len(payload)) {
		return false
	}
	capacity := len(d)
	off := int(*tail % uint64(capacity))
	if off+recHdr+pad8(len(payload)) > capacity {
		putRecHdr(d[off:], 0, recWrap, 0)
		*tail += uint64(capacity - off)
		off = 0
	}
	putRecHdr(d[off:], len(payload), typ, flags)
	copy(d[off+recHdr:], payload)
	*tail += uint64(recHdr + pad8(len(payload)))
	return true
}

func putRecHdr(b []byte, n int, typ, flags byte) {
	binary.LittleEndian.PutUint32(b, uint32(n))
	b[4] = typ
	b[5] = flags
}

// ringPop removes the record at *head and returns its type, flags and a
// copy of its payload (none for bulk tickets). Records are checked against
// the ring's bounds: memory written by a faulty process yields an error,
// never a crash.
func ringPop(d []byte, head *uint64, tail uint64) (typ, flags byte, payload []byte, err error) {
	typ, flags, view, err := ringNext(d, head, tail)
	if err == nil && (typ == recInline || typ == recTicket) {
		payload = make([]byte, len(view))
		copy(payload, view)
	}
	return typ, flags, payload, err
}

// ringNext removes the record at *head and returns its type, flags and
// payload, in the ring's memory, checked as ringPop checks it.
func ringNext(d []byte, head *uint64, tail uint64) (typ, flags byte, payload []byte, err error) {
	capacity := uint64(len(d))
	for range 2 {
		if tail-*head < recHdr || tail-*head > capacity || *head%8 != 0 || capacity%8 != 0 {
			return 0, 0, nil, errCorrupt
		}
		off := int(*head % capacity)
		n := int(binary.LittleEndian.Uint32(d[off:]))
		typ, flags = d[off+4], d[off+5]
		if typ == recWrap {
			*head += capacity - uint64(off)
			continue
		}
		size := recHdr + pad8(n)
		if n < 0 || off+size > len(d) || uint64(size) > tail-*head || typ < recInline || typ > recBulk || typ == recWrap {
			return 0, 0, nil, errCorrupt
		}
		*head += uint64(size)
		return typ, flags, d[off+recHdr : off+recHdr+n : off+recHdr+n], nil
	}
	return 0, 0, nil, errCorrupt
}

var errCorrupt = protoErr("queue memory is corrupt")
