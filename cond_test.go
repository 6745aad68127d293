package mp_test

import (
	"context"
	"errors"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	"github.com/mpgo/mp"
	"github.com/mpgo/mp/mptest"
)

// condWaiter waits on a Cond in a child until the semaphore has a unit
// (its predicate), then takes it.
var condWaiter = mp.Register("test.sync.condWaiter", func(ctx context.Context, a struct {
	C     *mp.Cond
	Items *mp.Semaphore
	Ready *mp.Event
}) (struct{}, error) {
	defer a.C.Close()
	defer a.Items.Close()
	defer a.Ready.Close()
	ctx, err := a.C.Lock(ctx)
	if err != nil {
		return struct{}{}, err
	}
	defer a.C.Unlock(ctx)
	a.Ready.Set()
	return struct{}{}, a.C.WaitFor(ctx, func() bool {
		ok, _ := a.Items.TryAcquire()
		return ok
	})
})

func newCond(t *testing.T, l mp.CondLock) *mp.Cond {
	t.Helper()
	c, err := mp.NewCond(l)
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { c.Close() })
	return c
}

func TestCondNotifyCounts(t *testing.T) {
	mptest.CheckLeaks(t)
	for _, name := range []string{"Mutex", "ReentrantLock"} {
		t.Run(name, func(t *testing.T) {
			var l mp.CondLock
			if name == "Mutex" {
				l = newMutex(t)
			}
			c := newCond(t, l)
			testNotifyCounts(t, c)
		})
	}
}

// testNotifyCounts follows Python's lock_tests ConditionTests: five waiters;
// Notify(1) wakes one, Notify(3) three more, NotifyAll the last.
func testNotifyCounts(t *testing.T, c *mp.Cond) {
	var woken atomic.Int32
	var ready sync.WaitGroup
	var wg sync.WaitGroup
	for range 5 {
		ready.Add(1)
		wg.Go(func() {
			ctx, err := c.Lock(context.Background())
			if err != nil {
				t.Error(err)
				return
			}
			ready.Done()
			if err := c.Wait(ctx); err != nil {
				t.Error(err)
			}
			woken.Add(1)
			c.Unlock(ctx)
		})
	}
	defer func() { // after a failure too: no waiter may outlive the Cond
		ctx, _ := c.Lock(context.Background())
		c.NotifyAll()
		c.Unlock(ctx)
		wg.Wait()
	}()
	ready.Wait()
	waitUntil(t, "five wait", func() bool { return mp.CondWaiting(c) == 5 })
	// The waiters without a wake-up are five less those granted one: a
	// waiter taking its wake-up leaves that number as it is, a Notify
	// granting one too many (or a waiter leaving without one) changes it.
	// An extra wake-up shows there as soon as it is granted, where
	// counting the woken would have to wait for the extra one to wake.
	notify := func(n int, want int32) {
		t.Helper()
		ctx, _ := c.Lock(context.Background())
		if n < 0 {
			c.NotifyAll()
		} else {
			c.Notify(n)
		}
		c.Unlock(ctx)
		if got := mp.CondWaiting(c); got != 5-int(want) {
			t.Fatalf("after notifications, %d wait without a wake-up, want %d", got, 5-want)
		}
		waitUntil(t, "the notified ones woke", func() bool { return woken.Load() >= want })
		if got, left := woken.Load(), mp.CondWaiting(c); got != want || left != 5-int(want) {
			t.Fatalf("after notifications, %d woken and %d waiting, want %d and %d", got, left, want, 5-want)
		}
	}
	notify(1, 1)
	notify(3, 4)
	notify(-1, 5)
}

func TestCondWaitTimeoutAndMisuse(t *testing.T) {
	mptest.CheckLeaks(t)
	m := newMutex(t)
	c := newCond(t, m)
	if err := c.Wait(context.Background()); !errors.Is(err, mp.ErrNotOwner) {
		t.Fatalf("Wait without the lock = %v, want ErrNotOwner", err)
	}
	if err := c.Notify(1); !errors.Is(err, mp.ErrNotOwner) {
		t.Fatalf("Notify without the lock = %v, want ErrNotOwner", err)
	}
	ctx, _ := c.Lock(context.Background())
	short, cancel := context.WithTimeout(ctx, 30*time.Millisecond)
	defer cancel()
	if err := c.Wait(short); !errors.Is(err, mp.ErrTimeout) {
		t.Fatalf("Wait with a deadline = %v, want ErrTimeout", err)
	}
	if !m.Locked() {
		t.Fatal("Wait returned without the lock")
	}
	// WaitFor returns nil if the predicate holds when the deadline passes.
	calls := 0
	short2, cancel2 := context.WithTimeout(ctx, 30*time.Millisecond)
	defer cancel2()
	if err := c.WaitFor(short2, func() bool { calls++; return calls > 1 }); err != nil {
		t.Fatalf("WaitFor whose predicate holds at the deadline = %v", err)
	}
	c.Unlock(ctx)
}

// A child waits on a Cond (with the default ReentrantLock) for an item; the
// parent makes one and notifies.
func TestCondAcrossProcesses(t *testing.T) {
	mptest.CheckLeaks(t)
	c := newCond(t, nil)
	items, _ := mp.NewSemaphore(0)
	defer items.Close()
	ready := newEvent(t)
	p := mp.Command(condWaiter, struct {
		C     *mp.Cond
		Items *mp.Semaphore
		Ready *mp.Event
	}{c, items, ready})
	if err := p.Start(); err != nil {
		t.Fatal(err)
	}
	defer p.Close()
	ready.Wait(context.Background())
	ctx, err := c.Lock(context.Background())
	if err != nil {
		t.Fatal(err)
	}
	items.Release()
	c.NotifyAll()
	c.Unlock(ctx)
	wctx, cancel := context.WithTimeout(context.Background(), 20*time.Second)
	defer cancel()
	if err := p.Wait(wctx); err != nil {
		t.Fatal(err)
	}
	if items.Value() != 0 {
		t.Fatal("the child did not take the item")
	}
}
