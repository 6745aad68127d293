package connring

import (
	"encoding/binary"
	"fmt"

	"github.com/mpgo/mp/internal/errs"
)

// A record in a ring is an 8-byte header (the payload's length as 4
// little-endian bytes, a kind byte, three zero bytes), then the payload,
// padded to 8 bytes. A record never wraps: one that would not fit before
// the ring's end is put at its start, behind a wrap record that fills the
// rest. Positions are byte counts since the pipe was made (the head and
// tail words), taken modulo the ring's size, a power of two.
const (
	recHdr = 8

	// Kinds from FirstOwnKind up are the package's own; the layer above
	// has the others.
	FirstOwnKind = 0xf0
	kindWake     = 0xfd // a datagram: wakes the reading end (never in a ring)
	kindTicket   = 0xfe // a record: the message is the datagram numbered in its payload
	kindWrap     = 0xff // a record: the rest of the ring is unused, go on at its start

	// ticketLen is a ticket's payload: the datagram's number and the size
	// of its payload when the datagram carries it inline (0 when it comes
	// in a file of its own), each 4 little-endian bytes. The size is a
	// hint, never trusted: it lets the reader receive the datagram
	// straight into memory of its size.
	ticketLen = 8
)

func corrupt(what string) error {
	return errs.ProtocolError("pipe ring: " + what)
}

// recSize is the room a record of n payload bytes takes.
func recSize(n int) uint64 { return recHdr + (uint64(n)+7)&^7 }

// check reports a head and tail that no ring can have.
func (d *dir) check(h, t uint64) error {
	if t < h || t-h > d.size || h%8 != 0 || t%8 != 0 {
		return corrupt(fmt.Sprintf("head %d and tail %d", h, t))
	}
	return nil
}

func (d *dir) writeHdr(off uint64, kind byte, n int) {
	binary.LittleEndian.PutUint32(d.data[off:], uint32(n))
	copy(d.data[off+4:off+8], []byte{kind, 0, 0, 0})
}

// room reports whether a record of n payload bytes fits after the tail
// now.
func (d *dir) room(n int) (bool, error) {
	t, h := d.tail.Load(), d.head.Load()
	if err := d.check(h, t); err != nil {
		return false, err
	}
	return t-h+d.pad(t, recSize(n))+recSize(n) <= d.size, nil
}

// pad is the room a wrap record takes before a record of need bytes put
// at tail t.
func (d *dir) pad(t, need uint64) uint64 {
	if off := t % d.size; off+need > d.size {
		return d.size - off
	}
	return 0
}

// put writes a record of kind with payload after the tail, with the
// writers' lock held, and returns the tail that commits it; ok is false if
// the ring has no room for it now. Nothing is visible until the caller
// stores the returned tail (under the state lock). Readers never look past
// the tail, so the copy needs no other lock; the room after the tail only
// grows meanwhile.
func (d *dir) put(kind byte, payload []byte) (tail uint64, ok bool, err error) {
	off, tail, ok, err := d.place(kind, len(payload))
	if ok {
		copy(d.data[off+recHdr:], payload)
	}
	return tail, ok, err
}

// place is put without the payload: it writes the record's header (and the
// wrap record before it, if any) for n payload bytes and returns where the
// record starts in the ring.
func (d *dir) place(kind byte, n int) (off, tail uint64, ok bool, err error) {
	t, h := d.tail.Load(), d.head.Load()
	if err := d.check(h, t); err != nil {
		return 0, 0, false, err
	}
	need := recSize(n)
	off = t % d.size
	pad := d.pad(t, need)
	if t-h+pad+need > d.size {
		return 0, 0, false, nil
	}
	if pad > 0 {
		d.writeHdr(off, kindWrap, 0)
		t += pad
		off = 0
	}
	d.writeHdr(off, kind, n)
	return off, t + need, true, nil
}

// lent returns the room of a record of n payload bytes after the tail, as
// place would lay it out, for a sender to fill before place writes its
// header. Called with the writers' lock held, once room says it fits.
func (d *dir) lent(n int) []byte {
	t := d.tail.Load()
	off := (t + d.pad(t, recSize(n))) % d.size
	return d.data[off+recHdr : off+recHdr+uint64(n) : off+recHdr+uint64(n)]
}

// fits reports whether a message of n bytes goes into the ring as a
// record: at most a quarter of it, so that it fits with a wrap beside
// other records.
func (d *dir) fits(n int) bool { return uint64(n) <= d.size/4 }

// next returns the record at the head, with the readers' lock held: its
// kind, its payload (a slice of the ring, to copy before the head moves)
// and the head that commits taking it; ok is false if the ring is empty.
// Senders write only after the tail, so the records before it stay put
// while a reader copies one out. Anything
// a record could not hold gives an error matching errs.ErrProtocol.
func (d *dir) next() (kind byte, payload []byte, head uint64, ok bool, err error) {
	h, t := d.head.Load(), d.tail.Load()
	if err := d.check(h, t); err != nil {
		return 0, nil, 0, false, err
	}
	for h != t {
		off := h % d.size
		n := uint64(binary.LittleEndian.Uint32(d.data[off:]))
		kind = d.data[off+4]
		if d.data[off+5]|d.data[off+6]|d.data[off+7] != 0 {
			return 0, nil, 0, false, corrupt("record header with unknown fields set")
		}
		if kind == kindWrap {
			// A sender commits a wrap with the record after it.
			if n != 0 || h+(d.size-off) >= t {
				return 0, nil, 0, false, corrupt("bad wrap record")
			}
			h += d.size - off
			continue
		}
		need := recSize(int(n))
		if n > d.size || off+need > d.size || h+need > t {
			return 0, nil, 0, false, corrupt(fmt.Sprintf("record of %d bytes at %d, tail %d", n, h, t))
		}
		if kind >= FirstOwnKind && (kind != kindTicket || n != ticketLen) {
			return 0, nil, 0, false, corrupt(fmt.Sprintf("record of kind %#x and %d bytes", kind, n))
		}
		return kind, d.data[off+recHdr : off+recHdr+n], h + need, true, nil
	}
	return 0, nil, 0, false, nil
}

// empty reports, without the lock, whether the ring looks empty: a hint
// for a reader polling before it takes the lock.
func (d *dir) empty() bool { return d.head.Load() == d.tail.Load() }
