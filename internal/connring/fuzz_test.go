package connring

import (
	"bytes"
	"errors"
	"testing"
	"unsafe"

	"github.com/mpgo/mp/internal/errs"
)

// fuzzDir makes direction 0 of a pipe's memory, in ordinary memory, with
// rings of size bytes.
func fuzzDir(size int) *dir {
	words := make([]uint64, (hdrSize+2*size)/8) // 8-byte aligned, for the atomics
	mem := unsafe.Slice((*byte)(unsafe.Pointer(&words[0])), len(words)*8)
	d := dirOf(mem, size, 0)
	return &d
}

// inside reports whether p is a slice of d's ring.
func inside(d *dir, p []byte) bool {
	base := uintptr(unsafe.Pointer(unsafe.SliceData(d.data)))
	at := uintptr(unsafe.Pointer(unsafe.SliceData(p)))
	return at >= base && at+uintptr(len(p)) <= base+uintptr(d.size)
}

// fuzzRingSize is the ring size a fuzz input's exponent names: 64 bytes
// to 4 KiB.
func fuzzRingSize(exp uint8) int { return 64 << (exp % 7) }

// FuzzNext feeds next a ring of arbitrary bytes with an arbitrary head
// and tail (tail is head+span, or head-span with back set), and takes
// records until it finds none: next must not panic, must answer either a
// record inside the ring and no further than the tail, or an error matching
// errs.ErrProtocol, or no record only when the head has reached the tail;
// and it must write nothing.
func FuzzNext(f *testing.F) {
	// Seeds: rings that put wrote, around the wrap, and a few hand-made
	// corruptions.
	for _, start := range []uint64{0, 64, 200, 4096 - 64} {
		for _, size := range []uint8{0, 2, 6} {
			d := fuzzDir(fuzzRingSize(size))
			h := start &^ 7 % d.size
			d.head.Store(h)
			d.tail.Store(h)
			for i := 0; ; i++ {
				kind := byte(i % 5)
				payload := bytes.Repeat([]byte{byte(i)}, i*7%40)
				if i%4 == 3 {
					kind, payload = kindTicket, ticket(uint32(i), i*1000)
				}
				tail, ok, err := d.put(kind, payload)
				if err != nil || !ok {
					break
				}
				d.tail.Store(tail)
			}
			f.Add(size, h, d.tail.Load()-h, false, bytes.Clone(d.data))
		}
	}
	f.Add(uint8(0), uint64(48), uint64(16), false, append(make([]byte, 48), 0, 0, 0, 0, kindWrap, 0, 0, 0))
	f.Add(uint8(0), uint64(0), uint64(16), false, []byte{8, 0, 0, 0, kindTicket, 0, 0, 0, 1, 2, 3, 4, 0xff, 0xff, 0xff, 0xff})
	f.Add(uint8(0), uint64(8), uint64(8), true, []byte{})
	f.Add(uint8(1), uint64(0), uint64(131), false, []byte{0xff, 0xff, 0xff, 0xff, 1})

	f.Fuzz(func(t *testing.T, exp uint8, head, span uint64, back bool, ring []byte) {
		d := fuzzDir(fuzzRingSize(exp))
		copy(d.data, ring)
		tail := head + span
		if back {
			tail = head - span
		}
		d.head.Store(head)
		d.tail.Store(tail)
		before := bytes.Clone(d.data)
		h := head
		for i := 0; ; i++ {
			kind, payload, next, ok, err := d.next()
			if !bytes.Equal(before, d.data) || d.head.Load() != h || d.tail.Load() != tail {
				t.Fatal("next wrote to the ring")
			}
			if err != nil {
				if !errors.Is(err, errs.ErrProtocol) || ok || payload != nil {
					t.Fatalf("next = %v, %d bytes, %v: want a protocol error alone", ok, len(payload), err)
				}
				return
			}
			if !ok {
				if h != tail {
					t.Fatalf("next found no record and no error with head %d and tail %d", h, tail)
				}
				return
			}
			if !inside(d, payload) {
				t.Fatalf("next returned %d bytes outside the ring", len(payload))
			}
			if next <= h || next > tail || next%8 != 0 || next-h < recSize(len(payload)) {
				t.Fatalf("next moves the head from %d to %d, tail %d, for %d bytes", h, next, tail, len(payload))
			}
			if kind >= FirstOwnKind && (kind != kindTicket || len(payload) != ticketLen) {
				t.Fatalf("next returned a record of kind %#x and %d bytes", kind, len(payload))
			}
			if uint64(i) > d.size/recHdr {
				t.Fatalf("more records than the ring holds")
			}
			h = next
			d.head.Store(h)
		}
	})
}

// FuzzPutNext puts and takes records in the order ops says (a byte below
// 0xc0 puts a record of ops%97 bytes, one above takes one) and checks that
// next gives back what put wrote, in order, wraps included; that put
// refuses only a ring without room; and that the ring never holds more
// than its size.
func FuzzPutNext(f *testing.F) {
	f.Add(uint8(0), uint64(0), []byte{10, 20, 0xff, 96, 96, 0xff, 0xff, 50, 50, 50})
	f.Add(uint8(1), uint64(120), []byte{90, 90, 90, 0xc0, 90, 0xc0, 90})
	f.Fuzz(func(t *testing.T, exp uint8, start uint64, ops []byte) {
		d := fuzzDir(fuzzRingSize(exp))
		start &^= 7
		d.head.Store(start)
		d.tail.Store(start)
		var model [][]byte
		for i, op := range ops {
			if op >= 0xc0 {
				_, payload, next, ok, err := d.next()
				if err != nil {
					t.Fatalf("op %d: next: %v", i, err)
				}
				if ok != (len(model) > 0) {
					t.Fatalf("op %d: next found a record: %v, with %d in the ring", i, ok, len(model))
				}
				if !ok {
					continue
				}
				if !bytes.Equal(payload, model[0]) {
					t.Fatalf("op %d: next gave %x, put wrote %x", i, payload, model[0])
				}
				model = model[1:]
				d.head.Store(next)
				continue
			}
			payload := bytes.Repeat([]byte{byte(i)}, int(op)%97)
			tail, ok, err := d.put(byte(i%FirstOwnKind), payload)
			if err != nil {
				t.Fatalf("op %d: put: %v", i, err)
			}
			used := d.tail.Load() - d.head.Load()
			need := recSize(len(payload))
			if !ok {
				// Room, counting the wrap, must be lacking.
				off := d.tail.Load() % d.size
				pad := uint64(0)
				if off+need > d.size {
					pad = d.size - off
				}
				if used+pad+need <= d.size {
					t.Fatalf("op %d: put refused %d bytes with %d of %d used", i, len(payload), used, d.size)
				}
				continue
			}
			if tail-d.head.Load() > d.size {
				t.Fatalf("op %d: the ring holds %d bytes of %d", i, tail-d.head.Load(), d.size)
			}
			d.tail.Store(tail)
			model = append(model, payload)
		}
	})
}
