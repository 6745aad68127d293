package lockcore

import (
	"context"
	"testing"
	"time"
)

func TestWaitersCountAndSweep(t *testing.T) {
	var w Waiters
	for i := range 2 {
		if !w.Add() {
			t.Fatalf("Add number %d of this process failed", i+1)
		}
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

// A waiter that leaves after a wake-up was granted to it takes the wake-up
// with it: left behind, it would make every later Notify find no waiter
// free and grant nothing.
func TestCondLeaveTakesGrantedWakeup(t *testing.T) {
	var c Cond
	tk := c.Enter()
	if k := c.Notify(1); k != 1 {
		t.Fatalf("Notify(1) granted %d", k)
	}
	c.Leave(tk)
	later := c.Enter()
	if k := c.Notify(1); k != 1 {
		t.Fatalf("Notify(1) after a waiter left granted %d, want 1", k)
	}
	if err := c.Sleep(context.Background(), later); err != nil {
		t.Fatalf("the later waiter's Sleep: %v", err)
	}
	if w, k := c.waiters.Load(), c.wakeups.Load(); w != 0 || k != 0 {
		t.Fatalf("left %d waiters and %d wake-ups, want none", w, k)
	}
}

// A dead waiter never keeps a live one asleep: the wake-up granted while
// it counted goes to a live waiter, and later notifications still wake.
func TestCondDeadWaiterTakesNothing(t *testing.T) {
	var c Cond
	c.Enter() // a waiter whose process then dies: it never takes a wake-up
	if k := c.Notify(1); k != 1 {
		t.Fatalf("Notify(1) granted %d", k)
	}
	live := c.Enter()
	ctx, cancel := context.WithTimeout(context.Background(), 5*time.Second)
	defer cancel()
	done := make(chan error, 1)
	go func() { done <- c.Sleep(ctx, live) }()
	c.Notify(1)
	if err := <-done; err != nil {
		t.Fatalf("the live waiter was not woken: %v", err)
	}
}
