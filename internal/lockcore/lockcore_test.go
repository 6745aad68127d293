package lockcore_test

import (
	"context"
	"errors"
	"sync"
	"testing"
	"time"

	"github.com/mpgo/mp/internal/errs"
	"github.com/mpgo/mp/internal/lockcore"
	"github.com/mpgo/mp/internal/procinfo"
	"github.com/mpgo/mp/mptest"
)

func TestMutexBasics(t *testing.T) {
	mptest.CheckLeaks(t)
	_, st := newState(t)
	if err := st.mu.Unlock(); !errors.Is(err, errs.ErrNotOwner) {
		t.Fatalf("Unlock of an unlocked mutex = %v, want ErrNotLocked", err)
	}
	if died, err := st.mu.Lock(context.Background()); died || err != nil {
		t.Fatalf("Lock = %v, %v", died, err)
	}
	if ok, _ := st.mu.TryLock(); ok {
		t.Fatal("TryLock of a held mutex succeeded")
	}
	ctx, cancel := context.WithTimeout(context.Background(), 30*time.Millisecond)
	defer cancel()
	if _, err := st.mu.Lock(ctx); !errors.Is(err, context.DeadlineExceeded) {
		t.Fatalf("Lock of a held mutex with a deadline = %v", err)
	}
	if err := st.mu.Unlock(); err != nil {
		t.Fatal(err)
	}
	if ok, died := st.mu.TryLock(); !ok || died {
		t.Fatalf("TryLock of a free mutex = %v, %v", ok, died)
	}
	st.mu.Unlock()
}

func TestMutexGoroutines(t *testing.T) {
	mptest.CheckLeaks(t)
	_, st := newState(t)
	var wg sync.WaitGroup
	for range 8 {
		wg.Go(func() {
			for range 2000 {
				st.mu.Lock(context.Background())
				st.counter++
				st.mu.Unlock()
			}
		})
	}
	wg.Wait()
	if st.counter != 16000 {
		t.Fatalf("counter = %d, want 16000", st.counter)
	}
}

func TestMutexTwoProcesses(t *testing.T) {
	mptest.CheckLeaks(t)
	r, st := newState(t)
	a, b := startHelper(t, r, "incr"), startHelper(t, r, "incr")
	for range 20000 {
		st.mu.Lock(context.Background())
		st.counter++
		st.mu.Unlock()
	}
	if err := a.cmd.Wait(); err != nil {
		t.Fatal(err)
	}
	if err := b.cmd.Wait(); err != nil {
		t.Fatal(err)
	}
	if st.counter != 60000 {
		t.Fatalf("counter = %d, want 60000", st.counter)
	}
}

// A holder that exited is a zombie until its parent waits for it; it is
// dead all the same.
func TestMutexOwnerZombie(t *testing.T) {
	if !procinfo.Available {
		t.Skip("this system has no process table mp can read: a dead holder is not recovered")
	}
	mptest.CheckLeaks(t)
	r, st := newState(t)
	c := startHelper(t, r, "lock-exit")
	pid := c.cmd.Process.Pid
	defer c.cmd.Wait()
	waitUntil(t, "the holder is a zombie", func() bool { return isZombie(pid) })
	if lockcore.Pid(st.mu.Owner()) != pid {
		t.Fatalf("owner pid = %d, want %d", lockcore.Pid(st.mu.Owner()), pid)
	}
	died, err := st.mu.Lock(context.Background())
	if err != nil || !died {
		t.Fatalf("Lock after the owner exited = %v, %v; want ownerDied", died, err)
	}
	if !st.mu.HeldBySelf() {
		t.Fatal("the lock is not held by this process")
	}
	st.mu.Unlock()
}

func isZombie(pid int) bool {
	info, err := procinfo.Read(pid)
	return err == nil && info.State == procinfo.Zombie
}

// A waiter asleep on the lock takes it over when the holder is killed.
func TestMutexOwnerKilledWhileWaiting(t *testing.T) {
	mptest.CheckLeaks(t)
	r, st := newState(t)
	c := startHelper(t, r, "lock-sleep")
	c.expect(t, "locked")
	type result struct {
		died bool
		err  error
	}
	done := make(chan result)
	go func() {
		died, err := st.mu.Lock(context.Background())
		done <- result{died, err}
	}()
	waitUntil(t, "the waiter sleeps on the lock", st.mu.HasWaiters)
	c.kill(t)
	select {
	case res := <-done:
		if res.err != nil || !res.died {
			t.Fatalf("Lock = %v, %v; want ownerDied", res.died, res.err)
		}
	case <-time.After(10 * time.Second):
		t.Fatal("the waiter did not take over the lock of a killed holder")
	}
	st.mu.Unlock()
}

func TestAlive(t *testing.T) {
	self := lockcore.Self()
	if !lockcore.Alive(self) {
		t.Error("Alive(self) = false")
	}
	// The same pid with another start time is a reused pid: a different,
	// dead owner.
	if lockcore.Alive(self ^ 1<<40) {
		t.Error("Alive(this pid with another start time) = true")
	}
	if lockcore.Alive(0) {
		t.Error("Alive(0) = true")
	}
	// Linux's pid_max is at most 1<<22, macOS's and FreeBSD's 99999: no
	// such process.
	if lockcore.Alive(1<<22 + 5) {
		t.Error("Alive(no such pid) = true")
	}
}

func TestRMutex(t *testing.T) {
	mptest.CheckLeaks(t)
	var r lockcore.RMutex
	ctx := context.Background()
	r.Lock(ctx, 1)
	r.Lock(ctx, 1)
	if ok, _ := r.TryLock(2); ok {
		t.Fatal("another token got a held lock")
	}
	if err := r.Unlock(2); !errors.Is(err, errs.ErrNotOwner) {
		t.Fatalf("Unlock by another token = %v", err)
	}
	r.Unlock(1)
	if !r.Locked() {
		t.Fatal("unlocked after one of two unlocks")
	}
	r.Unlock(1)
	if r.Locked() {
		t.Fatal("locked after two of two unlocks")
	}
	if err := r.Unlock(1); !errors.Is(err, errs.ErrNotOwner) {
		t.Fatalf("Unlock of an unlocked lock = %v", err)
	}
}

func TestSemOwnerKilled(t *testing.T) {
	mptest.CheckLeaks(t)
	r, st := newState(t)
	st.sem.Value.Store(2)
	c := startHelper(t, r, "sem-sleep")
	c.expect(t, "acquired")
	h := &lockcore.SemHandle{S: &st.sem}
	if ok, _, _ := h.TryAcquire(); ok {
		t.Fatal("TryAcquire succeeded on an exhausted semaphore")
	}
	c.kill(t)
	died, err := h.Acquire(context.Background())
	if err != nil || !died {
		t.Fatalf("Acquire = %v, %v; want ownerDied", died, err)
	}
	// The other unit of the dead holder is free again.
	if ok, died, err := h.TryAcquire(); !ok || died || err != nil {
		t.Fatalf("TryAcquire of the second unit = %v, %v, %v", ok, died, err)
	}
	if h.Held() != 2 {
		t.Fatalf("Held = %d, want 2", h.Held())
	}
	h.Release()
	h.Release()
	if v := st.sem.Value.Load(); v != 2 {
		t.Fatalf("value = %d, want 2", v)
	}
}
