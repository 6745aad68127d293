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

// semRelease releases a semaphore n times in a child.
var semRelease = mp.Register("test.sync.semRelease", func(ctx context.Context, a struct {
	S *mp.Semaphore
	N int
}) (struct{}, error) {
	defer a.S.Close()
	for range a.N {
		if err := a.S.Release(); err != nil {
			return struct{}{}, err
		}
	}
	return struct{}{}, nil
})

func TestSemaphore(t *testing.T) {
	mptest.CheckLeaks(t)
	s, err := mp.NewSemaphore(2)
	if err != nil {
		t.Fatal(err)
	}
	defer s.Close()
	bg := context.Background()
	for range 2 {
		if err := s.Acquire(bg); err != nil {
			t.Fatal(err)
		}
	}
	if s.Value() != 0 {
		t.Fatalf("Value = %d, want 0", s.Value())
	}
	if ok, err := s.TryAcquire(); ok || err != nil {
		t.Fatalf("TryAcquire of an empty semaphore = %v, %v", ok, err)
	}
	ctx, cancel := context.WithTimeout(bg, 30*time.Millisecond)
	defer cancel()
	if err := s.Acquire(ctx); !errors.Is(err, mp.ErrTimeout) || !errors.Is(err, context.DeadlineExceeded) {
		t.Fatalf("Acquire with a deadline = %v", err)
	}
	// An unbounded semaphore may go above its initial value.
	for range 5 {
		if err := s.Release(); err != nil {
			t.Fatal(err)
		}
	}
	if s.Value() != 5 {
		t.Fatalf("Value = %d, want 5", s.Value())
	}
}

func TestBoundedSemaphoreOverRelease(t *testing.T) {
	mptest.CheckLeaks(t)
	s, err := mp.NewBoundedSemaphore(2)
	if err != nil {
		t.Fatal(err)
	}
	defer s.Close()
	if err := s.Release(); !errors.Is(err, mp.ErrTooManyReleases) {
		t.Fatalf("Release of a full bounded semaphore = %v, want ErrTooManyReleases", err)
	}
	s.Acquire(context.Background())
	if err := s.Release(); err != nil {
		t.Fatal(err)
	}
	zero, _ := mp.NewBoundedSemaphore(0)
	defer zero.Close()
	if err := zero.Release(); !errors.Is(err, mp.ErrTooManyReleases) {
		t.Fatalf("Release of BoundedSemaphore(0) = %v", err)
	}
}

// Releases from another process wake waiters here (the semaphore as a
// signal between processes).
func TestSemaphoreReleasedByChild(t *testing.T) {
	mptest.CheckLeaks(t)
	s, _ := mp.NewSemaphore(0)
	defer s.Close()
	var got atomic.Int32
	var wg sync.WaitGroup
	for range 3 {
		wg.Go(func() {
			ctx, cancel := context.WithTimeout(context.Background(), 20*time.Second)
			defer cancel()
			if err := s.Acquire(ctx); err == nil {
				got.Add(1)
			}
		})
	}
	waitUntil(t, "three Acquires sleep", func() bool { return mp.SemaphoreWaiters(s) == 3 })
	if _, err := mp.Call(context.Background(), semRelease, struct {
		S *mp.Semaphore
		N int
	}{s, 3}); err != nil {
		t.Fatal(err)
	}
	wg.Wait()
	if got.Load() != 3 {
		t.Fatalf("%d waiters acquired, want 3", got.Load())
	}
}

// Python's test_acquire_contended: with a semaphore of n, n are inside at
// once, never more, and everyone gets in. Each one stays inside until the
// semaphore is exhausted or everyone left is inside, so that the bound is
// reached whatever the timing.
func TestSemaphoreContended(t *testing.T) {
	mptest.CheckLeaks(t)
	const goroutines, units = 20, 3
	s, _ := mp.NewBoundedSemaphore(units)
	defer s.Close()
	var inside, most, done atomic.Int32
	var late atomic.Bool
	deadline := time.Now().Add(20 * time.Second)
	var wg sync.WaitGroup
	for range goroutines {
		wg.Go(func() {
			if err := s.Acquire(context.Background()); err != nil {
				t.Error(err)
				return
			}
			k := inside.Add(1)
			for m := most.Load(); k > m && !most.CompareAndSwap(m, k); m = most.Load() {
			}
			for inside.Load() < units && done.Load()+inside.Load() < goroutines && !late.Load() {
				if time.Now().After(deadline) {
					late.Store(true)
				}
				time.Sleep(time.Millisecond)
			}
			inside.Add(-1)
			done.Add(1)
			if err := s.Release(); err != nil {
				t.Error(err)
			}
		})
	}
	wg.Wait()
	if late.Load() {
		t.Errorf("after 20 s, fewer than %d were inside at once", units)
	}
	if done.Load() != goroutines || most.Load() != units {
		t.Fatalf("%d got in, at most %d at once; want %d and %d", done.Load(), most.Load(), goroutines, units)
	}
}
