package lockcore

import (
	"context"
	"testing"
)

func TestWaitersCountAndSweep(t *testing.T) {
	var w Waiters
	if !w.Add() || !w.Add() {
		t.Fatal("Add on an empty table failed")
	}
	// A process that cannot exist: its pid is past any pid Linux hands out.
	ghost := makeID(1<<29, 7)
	w.slots[5].n.Store(3)
	w.slots[5].owner.Store(ghost)
	if dead := w.Sweep(); dead != 3 {
		t.Fatalf("Sweep found %d dead waiters, want 3", dead)
	}
	if dead := w.Sweep(); dead != 0 {
		t.Fatalf("a second Sweep found %d", dead)
	}
	w.Remove()
	if n := w.slots[0].n.Load(); n != 1 || w.slots[0].owner.Load() != self {
		t.Fatalf("after one Remove: slot holds %d of %x", n, w.slots[0].owner.Load())
	}
	w.Remove()
	if w.slots[0].owner.Load() != 0 {
		t.Fatal("the slot is still taken after its last waiter left")
	}
	for i := range w.slots {
		w.slots[i].owner.Store(ghost + uint64(i+1)<<32)
	}
	if w.Add() {
		t.Fatal("Add on a full table succeeded")
	}
}

func TestCondForgetsDeadWaiters(t *testing.T) {
	var c Cond
	tk := c.Enter()
	// Two waiters of a process that died, recorded as Enter would have.
	c.waiters.Add(2)
	c.procs.slots[3].n.Store(2)
	c.procs.slots[3].owner.Store(makeID(1<<29, 9))
	if k := c.Notify(2); k != 2 {
		t.Fatalf("Notify(2) granted %d", k)
	}
	if w := c.Waiting(); w != 0 {
		t.Fatalf("Waiting = %d after the dead were swept, want 0", w)
	}
	if err := c.Sleep(context.Background(), tk); err != nil {
		t.Fatalf("the live waiter's Sleep: %v", err)
	}
	if w, k := c.waiters.Load(), c.wakeups.Load(); w != 0 || k != 0 {
		t.Fatalf("left %d waiters and %d wake-ups, want none", w, k)
	}
}
