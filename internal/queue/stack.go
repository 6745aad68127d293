package queue

import (
	"cmp"
	"encoding/binary"
	"slices"
	"sort"
)

// A LIFO or priority queue's data area holds records (as in the ring)
// growing from the bottom up to s.head, and an index growing down from the
// top: entry i, at data[cap-4(i+1):], is the offset of the i-th record in
// the order of removal, the next one to come out last. A LIFO queue appends
// to the index; a priority queue inserts at the place a binary search finds.
// Records taken from below the top leave holes, counted in s.tail and
// squeezed out when space runs short.
//
// Moving index entries and records happens in place, so unlike the ring's
// this state is not safe against a process dying in the middle of a Put.

const idxEntry = 4

func (c *Core) idxAt(i int) int {
	d := c.data
	return len(d) - idxEntry*(i+1)
}

// stackRecord returns the payload of the record that index entry i names.
func (c *Core) stackRecord(s *state, i int) ([]byte, int, error) {
	d := c.data
	off := int(binary.LittleEndian.Uint32(d[c.idxAt(i):]))
	if off < 0 || off%8 != 0 || uint64(off)+recHdr > s.head {
		return nil, 0, errCorrupt
	}
	n := int(binary.LittleEndian.Uint32(d[off:]))
	size := recHdr + pad8(n)
	if n < 0 || uint64(off+size) > s.head || d[off+4] != recInline {
		return nil, 0, errCorrupt
	}
	return d[off+recHdr : off+recHdr+n], off, nil
}

// stackCheck checks s against the data area's bounds.
func (c *Core) stackCheck(s *state) error {
	capacity := uint64(len(c.data))
	// Each bound is checked on its own, so that no sum can wrap around.
	if s.head > capacity || s.count > capacity/idxEntry || s.head > capacity-idxEntry*s.count || s.tail > s.head {
		return errCorrupt
	}
	return nil
}

// stackPush stores payload and reports whether it fitted. For a priority
// queue, after reports whether an existing item comes out after the new
// one; the new item goes after the ones it does not precede, so equal
// items come out in the order they were put.
func (c *Core) stackPush(s *state, payload []byte, flags byte, after func([]byte) bool) (bool, error) {
	if err := c.stackCheck(s); err != nil {
		return false, err
	}
	size := uint64(recHdr + pad8(len(payload)))
	capacity := uint64(len(c.data))
	if s.head+size+idxEntry*(s.count+1) > capacity {
		if s.tail == 0 || s.head-s.tail+size+idxEntry*(s.count+1) > capacity {
			return false, nil
		}
		if err := c.compact(s); err != nil {
			return false, err
		}
	}
	n := int(s.count)
	pos := n
	if c.kind == Priority {
		var err error
		pos, err = c.searchPos(s, n, after)
		if err != nil {
			return false, err
		}
	}
	d := c.data
	off := int(s.head)
	putRecHdr(d[off:], len(payload), recInline, flags)
	copy(d[off+recHdr:], payload)
	// Entries pos..n-1 move one place down in memory (one place up in order).
	copy(d[c.idxAt(n):], d[c.idxAt(n-1):c.idxAt(pos-1)])
	binary.LittleEndian.PutUint32(d[c.idxAt(pos):], uint32(off))
	s.head += size
	return true, nil
}

func (c *Core) searchPos(s *state, n int, after func([]byte) bool) (int, error) {
	var err error
	pos := sort.Search(n, func(i int) bool {
		rec, _, e := c.stackRecord(s, i)
		if e != nil {
			err = e
			return true
		}
		return !after(rec)
	})
	return pos, err
}

// stackPush and stackPop leave s.count to the caller.

// stackPop removes the last entry of the index and returns a copy of its
// record's payload, and the record's flags.
func (c *Core) stackPop(s *state) ([]byte, byte, error) {
	if err := c.stackCheck(s); err != nil || s.count == 0 {
		return nil, 0, errCorrupt
	}
	rec, off, err := c.stackRecord(s, int(s.count)-1)
	if err != nil {
		return nil, 0, err
	}
	flags := c.data[off+5]
	payload := slices.Clone(rec)
	size := uint64(recHdr + pad8(len(rec)))
	if uint64(off)+size == s.head {
		s.head = uint64(off)
	} else {
		s.tail += size
	}
	if s.count == 1 {
		s.head, s.tail = 0, 0
	}
	return payload, flags, nil
}

// compact moves the records down over the holes between them.
func (c *Core) compact(s *state) error {
	type ent struct{ off, size, i int }
	ents := make([]ent, s.count)
	for i := range ents {
		rec, off, err := c.stackRecord(s, i)
		if err != nil {
			return err
		}
		ents[i] = ent{off, recHdr + pad8(len(rec)), i}
	}
	slices.SortFunc(ents, func(a, b ent) int { return cmp.Compare(a.off, b.off) })
	for i := 1; i < len(ents); i++ {
		if ents[i-1].off+ents[i-1].size > ents[i].off {
			return errCorrupt // records that overlap
		}
	}
	d := c.data
	top := 0
	for _, e := range ents {
		copy(d[top:top+e.size], d[e.off:e.off+e.size])
		binary.LittleEndian.PutUint32(d[c.idxAt(e.i):], uint32(top))
		top += e.size
	}
	s.head, s.tail = uint64(top), 0
	return nil
}
