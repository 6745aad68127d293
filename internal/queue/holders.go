package queue

import (
	"sync/atomic"

	"github.com/mpgo/mp/internal/lockcore"
)

// The holder table, in the header page, says which processes hold items
// that the shared state counts: items a process got and has not marked
// done (held), and items it accepted in a Put and still buffers (reserved).
// Each process that gets from a joinable queue (SetJoinable), or buffers
// for any queue, claims a slot named by its identity (see lockcore): pid
// and start time, so that a reused pid is not taken for the process that
// died.
//
// When a process dies, what it held can never be marked done or reach the
// queue. Join and a Get waiting on a queue that was shut down look for
// dead holders now and then (sweep), and write off what they held: the
// unfinished count drops by it, and the write-off is recorded (offLostSeq,
// offLostPid, offLostCount) so that every joiner that was waiting reports
// it.
//
// A slot's counts change under the queue's lock, in the same critical
// section as the state they shadow, and are read without it. They are
// hints for a dead process only: a TaskDone may come from a process other
// than the one that got the item, and a process may die between counting
// an item and committing the state. So a write-off never exceeds what the
// state says is unfinished and in no live process's hands: the unfinished
// count, less the items queued or buffered, less what the other slots hold.
const (
	holderSlots = 128
	holderSize  = 24 // owner identity, held, reserved: u64 each
)

// The table ends inside the header page (the constant overflows if not).
const _ uint = hdrSize - (offHolders + holderSlots*holderSize)

// holder is one slot of the table.
type holder struct {
	owner, held, reserved *atomic.Uint64
}

func (c *Core) slot(i int) holder {
	off := offHolders + i*holderSize
	return holder{c.r.u64(off), c.r.u64(off + 8), c.r.u64(off + 16)}
}

// claimSlot makes sure this process has a slot, claiming one if it has
// none yet. A Core claims once: goroutines that call it together wait for
// the first one's claim (each taking a slot of its own would leave all but
// one taken for nothing while the process lives). When the table is full
// of live processes (it has room for holderSlots processes at a time),
// this Core counts nothing: a Get from it counts no item held, so that a
// death of this process goes unnoticed by Join, and a Put buffers nothing
// (it waits for room in shared memory, as an unbuffered one does), so that
// a death never leaves items reserved for good. It must be called without
// the lock.
func (c *Core) claimSlot() {
	c.claim.Do(func() { c.me.Store(c.findSlot()) })
}

// findSlot returns 1 + the index of this process's slot, claiming a free
// one (after a sweep, if none is free) if the process has none, or -1.
func (c *Core) findSlot() int32 {
	self := lockcore.Self()
	for i := range holderSlots {
		if c.slot(i).owner.Load() == self {
			return int32(i + 1)
		}
	}
	for attempt := range 2 {
		for i := range holderSlots {
			if c.slot(i).owner.CompareAndSwap(0, self) {
				return int32(i + 1)
			}
		}
		if attempt == 0 {
			c.sweep(true)
		}
	}
	return -1
}

// mySlot returns this process's slot, if claimSlot found one.
func (c *Core) mySlot() (holder, bool) {
	i := c.me.Load()
	if i <= 0 {
		return holder{}, false
	}
	return c.slot(int(i - 1)), true
}

// countLocked adds d (which may be negative) to a count of this process's
// slot, never taking it below zero. The lock is held.
func countLocked(n *atomic.Uint64, d int64) {
	v := int64(n.Load()) + d
	n.Store(uint64(max(v, 0)))
}

// holdLocked counts d items got (or, negative, marked done) by this
// process, on a joinable queue. The lock is held.
func (c *Core) holdLocked(d int64) {
	if c.r.u32(offJoinable).Load() == 0 {
		return
	}
	if h, ok := c.mySlot(); ok {
		countLocked(h.held, d)
	}
}

// reserveLocked counts d items buffered (or, negative, moved or dropped)
// by this process. The lock is held. An increase is counted before the
// commit of the state that reserves the items, a decrease after the commit
// that takes them off: at no instant does the slot count fewer items than
// the committed state holds reserved for this process, so all of them are
// written off if it dies at any point (a slot that counts more is clamped
// to the state, see writeOffLocked; one that counts fewer would leave items
// reserved for good).
func (c *Core) reserveLocked(d int64) {
	if h, ok := c.mySlot(); ok {
		countLocked(h.reserved, d)
	}
}

// sweep frees the slots of dead processes that held items (every dead
// process's slot if all is set) and writes off what they held. Reading a
// process's state in /proc costs about 13 µs, so the processes are looked
// at before the lock is taken.
func (c *Core) sweep(all bool) {
	self := lockcore.Self()
	var dead []int
	var ids []uint64
	for i := range holderSlots {
		h := c.slot(i)
		o := h.owner.Load()
		if o == 0 || o == self || (!all && h.held.Load() == 0 && h.reserved.Load() == 0) {
			continue
		}
		if !lockcore.Alive(o) {
			dead, ids = append(dead, i), append(ids, o)
		}
	}
	if len(dead) == 0 {
		return
	}
	c.lock()
	defer c.unlock()
	s := c.load()
	before := s
	for k, i := range dead {
		if c.slot(i).owner.Load() == ids[k] { // not freed by another sweep since
			c.writeOffLocked(&s, i)
		}
	}
	if s == before {
		return
	}
	c.commitWriteOffLocked(s, before)
}

// writeOffLocked takes what the dead holder in slot i held off s, records
// the items it got and did not mark done, and frees the slot.
func (c *Core) writeOffLocked(s *state, i int) {
	h := c.slot(i)
	r := min(h.reserved.Load(), s.reserved)
	s.reserved -= r
	s.unfinished -= min(r, s.unfinished)
	var others uint64
	for j := range holderSlots {
		if j != i {
			others += c.slot(j).held.Load()
		}
	}
	inHand := s.unfinished - min(s.unfinished, s.count+s.reserved)
	inHand -= min(inHand, others)
	w := min(h.held.Load(), inHand)
	s.unfinished -= w
	if w > 0 {
		c.r.u64(offLostPid).Store(uint64(lockcore.Pid(h.owner.Load())))
		c.r.u64(offLostCount).Store(w)
		c.r.u64(offLostSeq).Add(1)
	}
	h.held.Store(0)
	h.reserved.Store(0)
	h.owner.Store(0)
}

// commitWriteOffLocked commits s, which wrote off what dead holders held
// in before, and wakes whom it concerns: joiners, putters waiting for the
// slots of buffered items, and getters of a shut down queue waiting for
// them.
func (c *Core) commitWriteOffLocked(s, before state) {
	if s.unfinished == 0 && before.unfinished != 0 {
		s.zeroEpoch++
	}
	if s.reserved != before.reserved {
		s.getSeq++ // slots were freed: space sleepers look again
	}
	c.commit(s)
	c.joined.ring()
	if s.reserved != before.reserved {
		c.space.ring()
		if c.shutState() != open {
			c.notEmpty.ring()
		}
	}
}
