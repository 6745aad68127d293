package manager_test

import (
	"context"
	"errors"
	"sync"
	"testing"
	"time"

	"github.com/mpgo/mp"
	"github.com/mpgo/mp/manager"
	"github.com/mpgo/mp/mptest"
)

func TestMutex(t *testing.T) {
	mptest.CheckLeaks(t)
	ctx := testCtx(t)
	key := []byte("k")
	addr := inProcess(t, manager.NewServer(&manager.ServerOptions{AuthKey: key}), "")
	c1, c2 := dial(t, addr, key), dial(t, addr, key)
	m, err := manager.NewMutex(ctx, c1)
	if err != nil {
		t.Fatal(err)
	}
	defer m.Close()
	other, err := manager.Lookup[manager.Mutex](ctx, c2, "nothing")
	if !errors.Is(err, manager.ErrNotFound) || other != nil {
		t.Errorf("Lookup of an unknown name = %v, want ErrNotFound", err)
	}
	must(t, m.Lock(ctx))
	if ok, err := m.TryLock(ctx); ok || err != nil {
		t.Errorf("TryLock on a held lock = %v, %v", ok, err)
	}
	short, cancel := context.WithTimeout(ctx, 50*time.Millisecond)
	err = m.Lock(short)
	cancel()
	if !errors.Is(err, mp.ErrTimeout) || !errors.Is(err, context.DeadlineExceeded) {
		t.Errorf("Lock with a deadline = %v, want mp.ErrTimeout and DeadlineExceeded", err)
	}
	must(t, m.Unlock(ctx))
	if err := m.Unlock(ctx); !errors.Is(err, mp.ErrNotOwner) {
		t.Errorf("Unlock of a free lock = %v, want mp.ErrNotOwner", err)
	}
}

// TestMutexOtherConnection: a lock held through one connection cannot be
// released through another, and the waiter gets it once it is released.
func TestMutexOtherConnection(t *testing.T) {
	mptest.CheckLeaks(t)
	ctx := testCtx(t)
	key := []byte("k")
	srv := manager.NewServer(&manager.ServerOptions{AuthKey: key})
	srv.Register("lock", manager.NewShared(manager.Spec{Kind: manager.KindMutex}))
	addr := inProcess(t, srv, "")
	c1, c2 := dial(t, addr, key), dial(t, addr, key)
	m1, err := manager.Lookup[manager.Mutex](ctx, c1, "lock")
	if err != nil {
		t.Fatal(err)
	}
	m2, err := manager.Lookup[manager.Mutex](ctx, c2, "lock")
	if err != nil {
		t.Fatal(err)
	}
	must(t, m1.Lock(ctx))
	if err := m2.Unlock(ctx); !errors.Is(err, mp.ErrNotOwner) {
		t.Errorf("Unlock through another connection = %v, want mp.ErrNotOwner", err)
	}
	got := make(chan error, 1)
	go func() { got <- m2.Lock(ctx) }()
	waitParked(t, srv, m2.ID(), 1)
	must(t, m1.Unlock(ctx))
	if err := <-got; err != nil {
		t.Errorf("waiting Lock = %v", err)
	}
	must(t, m2.Unlock(ctx))
	if _, err := manager.Lookup[manager.Queue[int]](ctx, c1, "lock"); !errors.Is(err, manager.ErrKind) {
		t.Errorf("Lookup of a mutex as a queue = %v, want ErrKind", err)
	}
}

func TestReentrantLock(t *testing.T) {
	mptest.CheckLeaks(t)
	ctx := testCtx(t)
	c := local(t)
	m, err := manager.NewReentrantLock(ctx, c)
	if err != nil {
		t.Fatal(err)
	}
	defer m.Close()
	must(t, m.Lock(ctx))
	must(t, m.Lock(ctx))
	other, err := manager.NewReentrantLock(ctx, c) // a different lock
	if err != nil {
		t.Fatal(err)
	}
	defer other.Close()
	must(t, m.Unlock(ctx))
	must(t, m.Unlock(ctx))
	if err := m.Unlock(ctx); !errors.Is(err, mp.ErrNotOwner) {
		t.Errorf("third Unlock = %v, want mp.ErrNotOwner", err)
	}
}

func TestSemaphores(t *testing.T) {
	mptest.CheckLeaks(t)
	ctx := testCtx(t)
	c := local(t)
	s, err := manager.NewSemaphore(ctx, c, 2)
	if err != nil {
		t.Fatal(err)
	}
	defer s.Close()
	must(t, s.Acquire(ctx))
	must(t, s.Acquire(ctx))
	if ok, _ := s.TryAcquire(ctx); ok {
		t.Error("TryAcquire succeeded on an exhausted semaphore")
	}
	must(t, s.Release(ctx))
	must(t, s.Release(ctx))
	must(t, s.Release(ctx)) // unbounded: may go above its start
	if v, _ := s.Value(ctx); v != 3 {
		t.Errorf("Value = %d, want 3", v)
	}
	b, err := manager.NewBoundedSemaphore(ctx, c, 1)
	if err != nil {
		t.Fatal(err)
	}
	defer b.Close()
	if err := b.Release(ctx); !errors.Is(err, mp.ErrTooManyReleases) {
		t.Errorf("Release of a full bounded semaphore = %v, want mp.ErrTooManyReleases", err)
	}
}

func TestEvent(t *testing.T) {
	mptest.CheckLeaks(t)
	ctx := testCtx(t)
	srv, c := localServer(t)
	e, err := manager.NewEvent(ctx, c)
	if err != nil {
		t.Fatal(err)
	}
	defer e.Close()
	short, cancel := context.WithTimeout(ctx, 50*time.Millisecond)
	err = e.Wait(short)
	cancel()
	if !errors.Is(err, mp.ErrTimeout) || !errors.Is(err, context.DeadlineExceeded) {
		t.Errorf("Wait on a clear event = %v", err)
	}
	var wg sync.WaitGroup
	for range 3 {
		wg.Go(func() {
			if err := e.Wait(ctx); err != nil {
				t.Error(err)
			}
		})
	}
	waitParked(t, srv, e.ID(), 3)
	must(t, e.Set(ctx))
	wg.Wait()
	if set, _ := e.IsSet(ctx); !set {
		t.Error("IsSet = false")
	}
	must(t, e.Clear(ctx))
	if set, _ := e.IsSet(ctx); set {
		t.Error("IsSet after Clear = true")
	}
}

func TestCond(t *testing.T) {
	mptest.CheckLeaks(t)
	ctx := testCtx(t)
	srv, c := localServer(t)
	cd, err := manager.NewCond(ctx, c, nil)
	if err != nil {
		t.Fatal(err)
	}
	defer cd.Close()
	if err := cd.Wait(ctx); !errors.Is(err, mp.ErrNotOwner) {
		t.Errorf("Wait without the lock = %v, want mp.ErrNotOwner", err)
	}
	if err := cd.Notify(ctx, 1); !errors.Is(err, mp.ErrNotOwner) {
		t.Errorf("Notify without the lock = %v, want mp.ErrNotOwner", err)
	}
	n, err := manager.NewValue(ctx, c, 0)
	if err != nil {
		t.Fatal(err)
	}
	defer n.Close()
	var wg sync.WaitGroup
	for range 2 {
		wg.Go(func() {
			must(t, cd.Lock(ctx))
			defer cd.Unlock(ctx)
			err := cd.WaitFor(ctx, func(ctx context.Context) (bool, error) {
				v, err := n.Load(ctx)
				return v > 0, err
			})
			if err != nil {
				t.Error(err)
			}
		})
	}
	waitParked(t, srv, cd.ID(), 2) // both in Wait
	must(t, cd.Lock(ctx))
	must(t, n.Store(ctx, 1))
	must(t, cd.NotifyAll(ctx))
	must(t, cd.Unlock(ctx))
	wg.Wait()
	// Wait with a deadline returns holding the lock.
	must(t, cd.Lock(ctx))
	short, cancel := context.WithTimeout(ctx, 30*time.Millisecond)
	err = cd.Wait(short)
	cancel()
	if !errors.Is(err, mp.ErrTimeout) {
		t.Errorf("Wait with a deadline = %v, want mp.ErrTimeout", err)
	}
	if err := cd.Unlock(ctx); err != nil {
		t.Errorf("Unlock after a timed-out Wait = %v: Wait must return holding the lock", err)
	}
}

func TestBarrier(t *testing.T) {
	mptest.CheckLeaks(t)
	ctx := testCtx(t)
	srv, c := localServer(t)
	b, err := manager.NewBarrier(ctx, c, 3)
	if err != nil {
		t.Fatal(err)
	}
	defer b.Close()
	idx := make(chan int, 3)
	var wg sync.WaitGroup
	for range 3 {
		wg.Go(func() {
			i, err := b.Wait(ctx)
			if err != nil {
				t.Error(err)
			}
			idx <- i
		})
	}
	wg.Wait()
	close(idx)
	seen := map[int]bool{}
	for i := range idx {
		seen[i] = true
	}
	if len(seen) != 3 || !seen[0] || !seen[2] {
		t.Errorf("arrival indexes = %v, want 0, 1, 2", seen)
	}
	// A waiter whose context ends breaks the barrier for the others.
	errc := make(chan error, 1)
	go func() { _, err := b.Wait(ctx); errc <- err }()
	waitParked(t, srv, b.ID(), 1)
	short, cancel := context.WithTimeout(ctx, 30*time.Millisecond)
	_, err = b.Wait(short)
	cancel()
	if !errors.Is(err, mp.ErrBrokenBarrier) || !errors.Is(err, context.DeadlineExceeded) {
		t.Errorf("Wait with a deadline = %v", err)
	}
	if err := <-errc; !errors.Is(err, mp.ErrBrokenBarrier) {
		t.Errorf("other waiter = %v, want mp.ErrBrokenBarrier", err)
	}
	if broken, _ := b.Broken(ctx); !broken {
		t.Error("Broken = false")
	}
	must(t, b.Reset(ctx))
	if n, _ := b.Parties(ctx); n != 3 {
		t.Errorf("Parties = %d", n)
	}
	must(t, b.Abort(ctx))
	if _, err := b.Wait(ctx); !errors.Is(err, mp.ErrBrokenBarrier) {
		t.Errorf("Wait after Abort = %v", err)
	}
}
