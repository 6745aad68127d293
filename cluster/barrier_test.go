package cluster_test

import (
	"context"
	"errors"
	"slices"
	"testing"
	"time"

	"github.com/mpgo/mp"
	"github.com/mpgo/mp/cluster"
)

// barrierWaitOnce waits at the barrier Name of 3 parties, with a short
// lease.
var barrierWaitOnce = mp.Register("cluster.test.barrierWaitOnce", func(ctx context.Context, j dictJob) (int, error) {
	c, err := cluster.Connect(ctx, j.URL, nil)
	if err != nil {
		return 0, err
	}
	defer c.Close()
	b, err := cluster.NewBarrier(ctx, c, j.Name, 3, &cluster.BarrierOptions{TTL: 500 * time.Millisecond})
	if err != nil {
		return 0, err
	}
	return b.Wait(ctx)
})

// TestBarrierPartyKilled kills a party while it waits: the others fail
// with ErrBrokenBarrier once its lease has lapsed, long before their
// deadlines.
func TestBarrierPartyKilled(t *testing.T) {
	c := start(t, nil)
	ctx := testContext(t)
	b, err := cluster.NewBarrier(ctx, c, "three", 3, &cluster.BarrierOptions{TTL: 500 * time.Millisecond})
	if err != nil {
		t.Fatal(err)
	}
	p := startChild(t, mp.Command(barrierWaitOnce, dictJob{URL: c.URL(), Name: "three"}))
	for n := 0; n != 1; {
		// Waits for the child's arrival by reading the state it writes:
		// the barrier offers no event for it.
		if n, err = b.NWaiting(ctx); err != nil {
			t.Fatal(err)
		}
	}
	if err := p.Kill(); err != nil {
		t.Fatal(err)
	}
	_, err = b.Wait(ctx)
	if !errors.Is(err, mp.ErrBrokenBarrier) || errors.Is(err, context.DeadlineExceeded) {
		t.Fatalf("Wait after a party was killed = %v, want ErrBrokenBarrier without a deadline", err)
	}
	if err := b.Reset(ctx); err != nil {
		t.Fatal(err)
	}
	// The dead party's lease is gone: a new round completes.
	other, err := cluster.NewBarrier(ctx, c, "three", 3, nil)
	if err != nil {
		t.Fatal(err)
	}
	done := make(chan error, 2)
	for _, w := range []*cluster.Barrier{b, other} {
		go func() { _, err := w.Wait(ctx); done <- err }()
	}
	if _, err := other.Wait(ctx); err != nil {
		t.Fatal(err)
	}
	for range 2 {
		if err := recv(t, ctx, done); err != nil {
			t.Fatal(err)
		}
	}
}

// barrierRounds waits at the barrier Name N times and returns its
// arrival indices.
var barrierRounds = mp.Register("cluster.test.barrierRounds", func(ctx context.Context, j dictJob) ([]int, error) {
	c, err := cluster.Connect(ctx, j.URL, nil)
	if err != nil {
		return nil, err
	}
	defer c.Close()
	b, err := cluster.NewBarrier(ctx, c, j.Name, 4, nil)
	if err != nil {
		return nil, err
	}
	var idx []int
	for range j.N {
		i, err := b.Wait(ctx)
		if err != nil {
			return idx, err
		}
		idx = append(idx, i)
	}
	return idx, nil
})

func TestBarrierAcrossProcesses(t *testing.T) {
	c := start(t, nil)
	ctx := testContext(t)
	b, err := cluster.NewBarrier(ctx, c, "step", 4, nil)
	if err != nil {
		t.Fatal(err)
	}
	const rounds = 3
	var ps []*mp.Process
	for range 3 {
		ps = append(ps, startChild(t, mp.Command(barrierRounds, dictJob{URL: c.URL(), Name: "step", N: rounds})))
	}
	idx := make([][]int, rounds)
	for r := range rounds {
		i, err := b.Wait(ctx)
		if err != nil {
			t.Fatal(err)
		}
		idx[r] = append(idx[r], i)
	}
	for _, p := range ps {
		for r, i := range childResult[[]int](t, ctx, p) {
			idx[r] = append(idx[r], i)
		}
	}
	for r := range rounds {
		slices.Sort(idx[r])
		if !slices.Equal(idx[r], []int{0, 1, 2, 3}) {
			t.Errorf("round %d: arrival indices %v, want 0 to 3", r, idx[r])
		}
	}
}

func TestBarrierBreaks(t *testing.T) {
	c := start(t, nil)
	ctx := testContext(t)
	b, err := cluster.NewBarrier(ctx, c, "pair", 2, nil)
	if err != nil {
		t.Fatal(err)
	}
	short, cancel := context.WithTimeout(ctx, 100*time.Millisecond)
	_, err = b.Wait(short)
	cancel()
	if !errors.Is(err, mp.ErrBrokenBarrier) || !errors.Is(err, context.DeadlineExceeded) {
		t.Fatalf("Wait alone with a deadline = %v, want ErrBrokenBarrier and DeadlineExceeded", err)
	}
	if broken, err := b.Broken(ctx); err != nil || !broken {
		t.Fatalf("Broken() = %v, %v; want true", broken, err)
	}
	if _, err := b.Wait(ctx); !errors.Is(err, mp.ErrBrokenBarrier) {
		t.Fatalf("Wait on a broken barrier = %v, want ErrBrokenBarrier", err)
	}
	if err := b.Reset(ctx); err != nil {
		t.Fatal(err)
	}
	for _, end := range []func(context.Context) error{b.Abort, b.Reset} {
		got := make(chan error, 1)
		go func() { _, err := b.Wait(ctx); got <- err }()
		for n := 0; n != 1; {
			// Waits for the goroutine's arrival by watching the state it
			// writes: the barrier offers no event for it.
			if n, err = b.NWaiting(ctx); err != nil {
				t.Fatal(err)
			}
		}
		if err := end(ctx); err != nil {
			t.Fatal(err)
		}
		if err := <-got; !errors.Is(err, mp.ErrBrokenBarrier) {
			t.Fatalf("Wait ended by Abort or Reset = %v, want ErrBrokenBarrier", err)
		}
		if err := b.Reset(ctx); err != nil {
			t.Fatal(err)
		}
	}
	if b.Parties() != 2 {
		t.Fatalf("Parties() = %d", b.Parties())
	}
}
