package lockcore

import "sync/atomic"

// WaiterSlots is how many processes a Waiters table tracks at once. A
// waiter that finds the table full is not tracked: everything works, but
// its death goes unnoticed.
const WaiterSlots = 64

// Waiters records which processes wait on a shared object, and how many
// goroutines of each, so that the waits of a process that died can be
// found and discounted. Every method must be called under the object's
// internal lock. Its zero value is empty.
type Waiters struct {
	slots [WaiterSlots]waiterSlot
}

type waiterSlot struct {
	owner atomic.Uint64 // identity of the process, 0 if free
	n     atomic.Uint32 // how many of its goroutines wait
	_     uint32
}

// Add records one more waiter of this process. It returns false if the
// table is full; then the caller must not call Remove for this waiter.
func (t *Waiters) Add() bool {
	free := -1
	for i := range t.slots {
		switch o := t.slots[i].owner.Load(); {
		case o == self:
			t.slots[i].n.Add(1)
			return true
		case o == 0 && free < 0:
			free = i
		}
	}
	if free < 0 {
		return false
	}
	t.slots[free].n.Store(1)
	t.slots[free].owner.Store(self)
	return true
}

// Remove forgets one waiter of this process that Add recorded. It returns
// false if the process has no slot: a Sweep took it for dead (its state in
// /proc could not be read as alive) and discounted its waiters already.
func (t *Waiters) Remove() bool {
	for i := range t.slots {
		if t.slots[i].owner.Load() == self {
			if t.slots[i].n.Add(^uint32(0)) == 0 {
				t.slots[i].owner.Store(0)
			}
			return true
		}
	}
	return false
}

// Sweep forgets the waiters of processes that are no longer alive and
// returns how many there were.
func (t *Waiters) Sweep() uint32 {
	var dead uint32
	for i := range t.slots {
		o := t.slots[i].owner.Load()
		if o == 0 || o == self || Alive(o) {
			continue
		}
		dead += t.slots[i].n.Swap(0)
		t.slots[i].owner.Store(0)
	}
	return dead
}

// Owners returns the processes recorded.
func (t *Waiters) Owners() []uint64 {
	var out []uint64
	for i := range t.slots {
		if o := t.slots[i].owner.Load(); o != 0 {
			out = append(out, o)
		}
	}
	return out
}
