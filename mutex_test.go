package mp_test

import (
	"context"
	"errors"
	"sync"
	"testing"
	"time"

	"github.com/mpgo/mp"
	"github.com/mpgo/mp/mptest"
)

// unlockIt unlocks a Mutex the parent holds: any process may.
var unlockIt = mp.Register("test.sync.unlock", func(ctx context.Context, m *mp.Mutex) (struct{}, error) {
	defer m.Close()
	return struct{}{}, m.Unlock()
})

// lockedWork is N rounds of: take M, check that nobody else is inside (the
// single unit of Inside is free), leave. lockedLoop returns how many times
// someone else was inside.
type lockedWork struct {
	M      *mp.Mutex
	Inside *mp.Semaphore // one unit while nobody is inside
	N      int
}

var lockedLoop = mp.Register("test.sync.lockedLoop", func(ctx context.Context, w lockedWork) (int, error) {
	defer w.M.Close()
	defer w.Inside.Close()
	overlaps := 0
	for range w.N {
		if err := w.M.Lock(ctx); err != nil {
			return 0, err
		}
		if ok, _ := w.Inside.TryAcquire(); !ok {
			overlaps++
		} else {
			w.Inside.Release()
		}
		w.M.Unlock()
	}
	return overlaps, nil
})

func newMutex(t *testing.T) *mp.Mutex {
	t.Helper()
	m, err := mp.NewMutex()
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { m.Close() })
	return m
}

func TestMutexBasics(t *testing.T) {
	mptest.CheckLeaks(t)
	m := newMutex(t)
	if err := m.Unlock(); !errors.Is(err, mp.ErrNotOwner) {
		t.Fatalf("Unlock of an unlocked Mutex = %v, want ErrNotOwner", err)
	}
	if err := m.Lock(context.Background()); err != nil {
		t.Fatal(err)
	}
	if !m.Locked() {
		t.Fatal("Locked() = false after Lock")
	}
	if ok, err := m.TryLock(); ok || err != nil {
		t.Fatalf("TryLock of a held Mutex = %v, %v", ok, err)
	}
	ctx, cancel := context.WithTimeout(context.Background(), 50*time.Millisecond)
	defer cancel()
	start := time.Now()
	err := m.Lock(ctx)
	if !errors.Is(err, mp.ErrTimeout) || !errors.Is(err, context.DeadlineExceeded) {
		t.Fatalf("Lock with a deadline = %v, want ErrTimeout and DeadlineExceeded", err)
	}
	if d := time.Since(start); d < 40*time.Millisecond {
		t.Fatalf("Lock gave up after %v, before its deadline", d)
	}
	if err := m.Unlock(); err != nil {
		t.Fatal(err)
	}
	if err := m.Unlock(); !errors.Is(err, mp.ErrNotOwner) {
		t.Fatalf("second Unlock = %v, want ErrNotOwner", err)
	}
	m.Close()
	if err := m.Lock(context.Background()); !errors.Is(err, mp.ErrClosed) {
		t.Fatalf("Lock after Close = %v, want ErrClosed", err)
	}
}

func TestMutexCancel(t *testing.T) {
	mptest.CheckLeaks(t)
	m := newMutex(t)
	m.Lock(context.Background())
	defer m.Unlock()
	ctx, cancel := context.WithCancel(context.Background())
	got := make(chan error)
	go func() { got <- m.Lock(ctx) }()
	waitUntil(t, "Lock waits", func() bool { return mp.MutexWaiting(m) })
	cancel()
	select {
	case err := <-got:
		if !errors.Is(err, context.Canceled) {
			t.Fatalf("Lock after cancel = %v, want context.Canceled", err)
		}
	case <-time.After(5 * time.Second):
		t.Fatal("Lock did not return after its context was cancelled")
	}
}

// Python's lock_tests: a lock acquired by one thread may be released by
// another; here, by another process.
func TestMutexUnlockByOtherProcess(t *testing.T) {
	mptest.CheckLeaks(t)
	m := newMutex(t)
	m.Lock(context.Background())
	if _, err := mp.Call(context.Background(), unlockIt, m); err != nil {
		t.Fatalf("Unlock in a child: %v", err)
	}
	if m.Locked() {
		t.Fatal("still locked after the child unlocked it")
	}
}

// The lock excludes goroutines of this process and two other processes.
func TestMutexExclusion(t *testing.T) {
	mptest.CheckLeaks(t)
	m := newMutex(t)
	inside, err := mp.NewSemaphore(1)
	if err != nil {
		t.Fatal(err)
	}
	defer inside.Close()
	const n = 3000
	var wg sync.WaitGroup
	var mu sync.Mutex
	overlaps := 0
	for range 2 {
		wg.Go(func() {
			o, err := mp.Call(context.Background(), lockedLoop, lockedWork{M: m, Inside: inside, N: n})
			if err != nil {
				t.Error(err)
			}
			mu.Lock()
			overlaps += o
			mu.Unlock()
		})
	}
	for range 2 {
		wg.Go(func() {
			for range n {
				m.Lock(context.Background())
				ok, _ := inside.TryAcquire()
				if ok {
					inside.Release()
				} else {
					mu.Lock()
					overlaps++
					mu.Unlock()
				}
				m.Unlock()
			}
		})
	}
	wg.Wait()
	if overlaps != 0 {
		t.Fatalf("%d times someone else was inside the lock", overlaps)
	}
}
