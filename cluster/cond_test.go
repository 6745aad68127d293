package cluster_test

import (
	"context"
	"errors"
	"testing"
	"time"

	"github.com/mpgo/mp"
	"github.com/mpgo/mp/cluster"
)

// condWait takes the lock, reports on "held" while holding it, and waits
// under the cond until the value "stage" reaches N.
var condWait = mp.Register("cluster.test.condWait", func(ctx context.Context, j dictJob) (int, error) {
	c, err := cluster.Connect(ctx, j.URL, nil)
	if err != nil {
		return 0, err
	}
	defer c.Close()
	l, err := cluster.NewLock(ctx, c, "cond-lock", nil)
	if err != nil {
		return 0, err
	}
	cd, err := cluster.NewCond(ctx, c, j.Name, l)
	if err != nil {
		return 0, err
	}
	stage, err := cluster.NewValue(ctx, c, "stage", 0)
	if err != nil {
		return 0, err
	}
	held, err := cluster.NewQueue[int](ctx, c, "held", nil)
	if err != nil {
		return 0, err
	}
	if _, err := cd.Lock(ctx); err != nil {
		return 0, err
	}
	if err := held.Put(ctx, j.ID); err != nil {
		return 0, err
	}
	err = cd.WaitFor(ctx, func(ctx context.Context) (bool, error) {
		n, err := stage.Load(ctx)
		return n >= j.N, err
	})
	if err != nil {
		return 0, err
	}
	return j.ID, cd.Unlock(ctx)
})

func TestCondAcrossProcesses(t *testing.T) {
	c := start(t, nil)
	ctx := testContext(t)
	l, err := cluster.NewLock(ctx, c, "cond-lock", nil)
	if err != nil {
		t.Fatal(err)
	}
	cd, err := cluster.NewCond(ctx, c, "ready", l)
	if err != nil {
		t.Fatal(err)
	}
	stage, err := cluster.NewValue(ctx, c, "stage", 0)
	if err != nil {
		t.Fatal(err)
	}
	held, err := cluster.NewQueue[int](ctx, c, "held", nil)
	if err != nil {
		t.Fatal(err)
	}
	if err := cd.Notify(ctx, 1); !errors.Is(err, mp.ErrNotOwner) {
		t.Fatalf("Notify without the lock = %v, want ErrNotOwner", err)
	}
	if err := cd.Wait(ctx); !errors.Is(err, mp.ErrNotOwner) {
		t.Fatalf("Wait without the lock = %v, want ErrNotOwner", err)
	}
	var ps []*mp.Process
	for i := range 2 {
		ps = append(ps, startChild(t, mp.Command(condWait, dictJob{URL: c.URL(), Name: "ready", ID: i, N: 2})))
	}
	// Each child reported while holding the lock, and gives it up only in
	// Wait, after it registered: once this process has the lock after
	// both reports, both are waiting.
	for range 2 {
		if _, err := held.Get(ctx); err != nil {
			t.Fatal(err)
		}
	}
	for n := 1; n <= 2; n++ {
		if _, err := cd.Lock(ctx); err != nil {
			t.Fatal(err)
		}
		if err := stage.Store(ctx, n); err != nil {
			t.Fatal(err)
		}
		if err := cd.NotifyAll(ctx); err != nil {
			t.Fatal(err)
		}
		if err := cd.Unlock(ctx); err != nil {
			t.Fatal(err)
		}
	}
	for _, p := range ps {
		childResult[int](t, ctx, p)
	}
	// A Wait that times out holds the lock again.
	if _, err := cd.Lock(ctx); err != nil {
		t.Fatal(err)
	}
	short, cancel := context.WithTimeout(ctx, 100*time.Millisecond)
	err = cd.Wait(short)
	cancel()
	if !errors.Is(err, mp.ErrTimeout) {
		t.Fatalf("Wait with no Notify = %v, want ErrTimeout", err)
	}
	if err := cd.Unlock(ctx); err != nil {
		t.Fatalf("Unlock after a timed-out Wait: %v", err)
	}
}

// TestCondNotifyOne: Notify(1) wakes the waiter that waited longest, and
// only it.
func TestCondNotifyOne(t *testing.T) {
	c := start(t, nil)
	ctx := testContext(t)
	woke := make(chan int, 2)
	for i := range 2 {
		// A proxy per waiter, as in separate processes.
		l, err := cluster.NewLock(ctx, c, "lock", nil)
		if err != nil {
			t.Fatal(err)
		}
		cd, err := cluster.NewCond(ctx, c, "cv", l)
		if err != nil {
			t.Fatal(err)
		}
		if _, err := cd.Lock(ctx); err != nil {
			t.Fatal(err)
		}
		go func() {
			// Wait registers before it unlocks; the next Lock below
			// returns only after that.
			err := cd.Wait(ctx)
			if err == nil {
				err = cd.Unlock(ctx)
			}
			if err != nil {
				t.Error(err)
			}
			woke <- i
		}()
	}
	l, err := cluster.NewLock(ctx, c, "lock", nil)
	if err != nil {
		t.Fatal(err)
	}
	cd, err := cluster.NewCond(ctx, c, "cv", l)
	if err != nil {
		t.Fatal(err)
	}
	for want := range 2 {
		if _, err := cd.Lock(ctx); err != nil {
			t.Fatal(err)
		}
		if err := cd.Notify(ctx, 1); err != nil {
			t.Fatal(err)
		}
		if err := cd.Unlock(ctx); err != nil {
			t.Fatal(err)
		}
		if got := recv(t, ctx, woke); got != want {
			t.Fatalf("Notify(1) woke waiter %d, want %d", got, want)
		}
	}
}
