package queue

import (
	"encoding/binary"
	"testing"
)

// FuzzRing feeds arbitrary ring memory and positions to ringPop: another
// process can write anything there, and a Get must answer with an item or
// an error, never crash or loop.
func FuzzRing(f *testing.F) {
	d := make([]byte, 256)
	var tail uint64
	ringPush(d, 0, &tail, recInline, 0, []byte("hello"))
	ringPush(d, 0, &tail, recTicket, 0, nil)
	f.Add(d, uint64(0), tail)
	f.Add(d, uint64(8), uint64(300))
	f.Fuzz(func(t *testing.T, mem []byte, head, tail uint64) {
		if len(mem) < recHdr {
			return
		}
		mem = mem[:len(mem)&^7]
		h := head
		for range 64 {
			if _, _, _, err := ringPop(mem, &h, tail); err != nil || h == tail {
				return
			}
		}
	})
}

// FuzzStack does the same for a LIFO or priority queue's index and records.
func FuzzStack(f *testing.F) {
	c := &Core{kind: Priority, data: make([]byte, 512)}
	s := state{}
	for _, w := range []string{"b", "a", "c"} {
		if ok, err := c.stackPush(&s, []byte(w), 0, func(e []byte) bool { return w < string(e) }); !ok || err != nil {
			f.Fatal(ok, err)
		}
		s.count++
	}
	f.Add(c.data, s.head, s.tail, s.count)
	f.Fuzz(func(t *testing.T, mem []byte, head, holes, count uint64) {
		if len(mem) < 64 {
			return
		}
		c := &Core{kind: Priority, data: mem[:len(mem)&^7]}
		s := state{head: head, tail: holes, count: count}
		for s.count > 0 {
			if _, _, err := c.stackPop(&s); err != nil {
				return
			}
			s.count--
		}
		s = state{head: head, tail: holes, count: count}
		c.stackPush(&s, []byte("x"), 0, func(e []byte) bool { return len(e) > 0 && e[0] > 'x' })
	})
}

// FuzzPacket feeds arbitrary datagrams to openPacket.
func FuzzPacket(f *testing.F) {
	seq := make([]byte, seqLen)
	f.Add(append(append([]byte{0}, seq...), 'h', 'i'))
	f.Add(append(append([]byte{flagRawItem}, seq...), 1, 2))
	f.Add(binary.LittleEndian.AppendUint64(append([]byte{flagBlob}, seq...), 10))
	f.Add([]byte{0xff})
	f.Fuzz(func(t *testing.T, dgram []byte) {
		it, err := openPacket(dgram, nil)
		if err == nil && len(it.Data) > len(dgram) {
			t.Fatalf("item of %d bytes from a %d-byte datagram", len(it.Data), len(dgram))
		}
	})
}

// FuzzHeader feeds arbitrary headers to readHeader.
func FuzzHeader(f *testing.F) {
	r := &region{mem: make([]byte, hdrSize+minCapacity)}
	initHeader(r, FIFO, 3, minCapacity, 0)
	f.Add(r.mem[:128])
	f.Fuzz(func(t *testing.T, hdr []byte) {
		r := &region{mem: make([]byte, hdrSize+minCapacity)}
		copy(r.mem, hdr)
		kind, _, capacity, bulk, err := readHeader(r)
		if err == nil && (kind < FIFO || kind > Priority || capacity+bulk != minCapacity) {
			t.Fatalf("accepted kind %v, sizes %d+%d", kind, capacity, bulk)
		}
	})
}
