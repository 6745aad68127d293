package cluster_test

import (
	"context"
	"errors"
	"testing"
	"time"

	"github.com/mpgo/mp"
	"github.com/mpgo/mp/cluster"
)

// semaphoreHold takes N units of the semaphore Name (of two), reports on
// "held", and holds them.
var semaphoreHold = mp.Register("cluster.test.semaphoreHold", func(ctx context.Context, j dictJob) (int, error) {
	c, err := cluster.Connect(ctx, j.URL, nil)
	if err != nil {
		return 0, err
	}
	defer c.Close()
	s, err := cluster.NewSemaphore(ctx, c, j.Name, 2, &cluster.SemaphoreOptions{TTL: 500 * time.Millisecond})
	if err != nil {
		return 0, err
	}
	held, err := cluster.NewQueue[int](ctx, c, "held", nil)
	if err != nil {
		return 0, err
	}
	for range j.N {
		if err := s.Acquire(ctx); err != nil {
			return 0, err
		}
	}
	if err := held.Put(ctx, j.N); err != nil {
		return 0, err
	}
	<-ctx.Done()
	return 0, ctx.Err()
})

func TestSemaphoreAcrossProcesses(t *testing.T) {
	c := start(t, nil)
	ctx := testContext(t)
	s, err := cluster.NewSemaphore(ctx, c, "slots", 5, nil) // the child's 2 wins if it makes it first
	if err != nil {
		t.Fatal(err)
	}
	held, err := cluster.NewQueue[int](ctx, c, "held", nil)
	if err != nil {
		t.Fatal(err)
	}
	if v, err := s.Value(ctx); err != nil || v != 5 {
		t.Fatalf("Value() = %d, %v; want 5 (the value it was made with)", v, err)
	}
	if err := s.Release(ctx); !errors.Is(err, mp.ErrTooManyReleases) {
		t.Fatalf("Release with nothing held = %v, want ErrTooManyReleases", err)
	}
	// The child takes 2 of the 5 and holds them; this process takes the
	// other 3, and a fourth only once the child is killed.
	p := startChild(t, mp.Command(semaphoreHold, dictJob{URL: c.URL(), Name: "slots", N: 2}))
	if _, err := held.Get(ctx); err != nil {
		t.Fatal(err)
	}
	for range 3 {
		if ok, err := s.TryAcquire(ctx); err != nil || !ok {
			t.Fatalf("TryAcquire() = %v, %v; want true", ok, err)
		}
	}
	if ok, err := s.TryAcquire(ctx); err != nil || ok {
		t.Fatalf("TryAcquire() with all held = %v, %v; want false", ok, err)
	}
	if v, err := s.Value(ctx); err != nil || v != 0 {
		t.Fatalf("Value() = %d, %v; want 0", v, err)
	}
	short, cancel := context.WithTimeout(ctx, 1500*time.Millisecond)
	err = s.Acquire(short)
	cancel()
	if !errors.Is(err, mp.ErrTimeout) {
		t.Fatalf("Acquire with all held by living holders = %v, want ErrTimeout", err)
	}
	if err := p.Kill(); err != nil {
		t.Fatal(err)
	}
	for range 2 {
		if err := s.Acquire(ctx); !errors.Is(err, mp.ErrOwnerDead) {
			t.Fatalf("Acquire after the holder was killed = %v, want ErrOwnerDead", err)
		}
	}
	for range 5 {
		if err := s.Release(ctx); err != nil {
			t.Fatal(err)
		}
	}
	if v, err := s.Value(ctx); err != nil || v != 5 {
		t.Fatalf("Value() after releasing all = %d, %v; want 5", v, err)
	}
	// A waiter gets the unit released.
	for range 5 {
		if err := s.Acquire(ctx); err != nil {
			t.Fatal(err)
		}
	}
	got := make(chan error, 1)
	go func() { got <- s.Acquire(ctx) }()
	if err := s.Release(ctx); err != nil {
		t.Fatal(err)
	}
	if err := <-got; err != nil {
		t.Fatal(err)
	}
}
