package cluster_test

import (
	"context"
	"errors"
	"fmt"
	"os"
	"slices"
	"testing"
	"time"

	"github.com/mpgo/mp"
	"github.com/mpgo/mp/cluster"
)

var (
	// lockCount adds 1 to the value "count" N times, each time by a load
	// and a store under the lock, and returns its fencing tokens.
	lockCount = mp.Register("cluster.test.lockCount", func(ctx context.Context, j dictJob) ([]uint64, error) {
		c, err := cluster.Connect(ctx, j.URL, nil)
		if err != nil {
			return nil, err
		}
		defer c.Close()
		l, err := cluster.NewLock(ctx, c, j.Name, nil)
		if err != nil {
			return nil, err
		}
		v, err := cluster.NewValue(ctx, c, "count", 0)
		if err != nil {
			return nil, err
		}
		var tokens []uint64
		for range j.N {
			token, err := l.Lock(ctx)
			if err != nil {
				return nil, err
			}
			tokens = append(tokens, token)
			n, err := v.Load(ctx)
			if err != nil {
				return nil, err
			}
			if err := v.Store(ctx, n+1); err != nil {
				return nil, err
			}
			if err := l.Unlock(ctx); err != nil {
				return nil, err
			}
		}
		return tokens, nil
	})
	// lockHold takes the lock, reports its token on "held", and holds it.
	lockHold = mp.Register("cluster.test.lockHold", func(ctx context.Context, j dictJob) (int, error) {
		c, err := cluster.Connect(ctx, j.URL, nil)
		if err != nil {
			return 0, err
		}
		defer c.Close()
		l, err := cluster.NewLock(ctx, c, j.Name, &cluster.LockOptions{TTL: 500 * time.Millisecond})
		if err != nil {
			return 0, err
		}
		held, err := cluster.NewQueue[uint64](ctx, c, "held", nil)
		if err != nil {
			return 0, err
		}
		token, err := l.Lock(ctx)
		if err != nil {
			return 0, err
		}
		if err := held.Put(ctx, token); err != nil {
			return 0, err
		}
		<-ctx.Done()
		return 0, ctx.Err()
	})
)

// TestLockAcrossProcesses has processes increment a counter by load and
// store under the lock: no increment is lost, and the fencing tokens of
// all acquisitions are distinct and grow in each process.
func TestLockAcrossProcesses(t *testing.T) {
	c := start(t, nil)
	ctx := testContext(t)
	const procs, each = 3, 30
	var ps []*mp.Process
	for range procs {
		ps = append(ps, startChild(t, mp.Command(lockCount, dictJob{URL: c.URL(), Name: "counter", N: each})))
	}
	var all []uint64
	for _, p := range ps {
		tokens := childResult[[]uint64](t, ctx, p)
		if !slices.IsSorted(tokens) {
			t.Errorf("tokens of one process not increasing: %v", tokens)
		}
		all = append(all, tokens...)
	}
	slices.Sort(all)
	if len(slices.Compact(all)) != procs*each {
		t.Errorf("%d distinct tokens, want %d", len(all), procs*each)
	}
	v, err := cluster.NewValue(ctx, c, "count", 0)
	if err != nil {
		t.Fatal(err)
	}
	if n, err := v.Load(ctx); err != nil || n != procs*each {
		t.Fatalf("count = %d, %v; want %d", n, err, procs*each)
	}
}

// TestLockHolderKilled kills the process holding the lock: the next Lock
// takes it after the TTL with ErrOwnerDead and a greater token.
func TestLockHolderKilled(t *testing.T) {
	c := start(t, nil)
	ctx := testContext(t)
	l, err := cluster.NewLock(ctx, c, "guard", &cluster.LockOptions{TTL: 500 * time.Millisecond})
	if err != nil {
		t.Fatal(err)
	}
	held, err := cluster.NewQueue[uint64](ctx, c, "held", nil)
	if err != nil {
		t.Fatal(err)
	}
	p := startChild(t, mp.Command(lockHold, dictJob{URL: c.URL(), Name: "guard"}))
	old, err := held.Get(ctx)
	if err != nil {
		t.Fatal(err)
	}
	if _, ok, err := l.TryLock(ctx); err != nil || ok {
		t.Fatalf("TryLock while another holds it = %v, %v; want false", ok, err)
	}
	if err := l.Unlock(ctx); !errors.Is(err, mp.ErrNotOwner) {
		t.Fatalf("Unlock by a proxy that does not hold it = %v, want ErrNotOwner", err)
	}
	// The living holder keeps the lock past several TTLs.
	short, cancel := context.WithTimeout(ctx, 1500*time.Millisecond)
	_, err = l.Lock(short)
	cancel()
	if !errors.Is(err, mp.ErrTimeout) || !errors.Is(err, context.DeadlineExceeded) {
		t.Fatalf("Lock while a living process holds it = %v, want ErrTimeout and DeadlineExceeded", err)
	}
	// Two waiters, in separate proxies, when the holder is killed: one
	// takes the lock over, the other gets it when that one unlocks.
	other, err := cluster.NewLock(ctx, c, "guard", nil)
	if err != nil {
		t.Fatal(err)
	}
	type result struct {
		token uint64
		err   error
	}
	second := make(chan result, 1)
	go func() {
		token, err := other.Lock(ctx)
		if err == nil || errors.Is(err, mp.ErrOwnerDead) {
			err = errors.Join(err, other.Unlock(ctx))
		}
		second <- result{token, err}
	}()
	if err := p.Kill(); err != nil {
		t.Fatal(err)
	}
	token, err := l.Lock(ctx)
	if err != nil && !errors.Is(err, mp.ErrOwnerDead) {
		t.Fatal(err)
	}
	if token <= old {
		t.Fatalf("token %d after the kill, not greater than the dead holder's %d", token, old)
	}
	if errors.Is(err, mp.ErrOwnerDead) {
		// This waiter took over; the other waits for this Unlock.
		if err := l.Unlock(ctx); err != nil {
			t.Fatal(err)
		}
		r := recv(t, ctx, second)
		if r.err != nil || r.token <= token {
			t.Fatalf("the other waiter got %d, %v; want a token over %d without error", r.token, r.err, token)
		}
		if token, err = l.Lock(ctx); err != nil {
			t.Fatal(err)
		}
	} else {
		// The other took over, with ErrOwnerDead, and unlocked.
		r := recv(t, ctx, second)
		if !errors.Is(r.err, mp.ErrOwnerDead) || r.token <= old || r.token >= token {
			t.Fatalf("the other waiter got %d, %v; want ErrOwnerDead and a token between %d and %d", r.token, r.err, old, token)
		}
	}
	if locked, err := l.Locked(ctx); err != nil || !locked {
		t.Fatalf("Locked() = %v, %v; want true", locked, err)
	}
	if err := l.Unlock(ctx); err != nil {
		t.Fatal(err)
	}
	if err := l.Unlock(ctx); !errors.Is(err, mp.ErrNotOwner) {
		t.Fatalf("second Unlock = %v, want ErrNotOwner", err)
	}
	next, ok, err := l.TryLock(ctx)
	if err != nil || !ok || next <= token {
		t.Fatalf("TryLock of a released lock = %d, %v, %v; want a token over %d", next, ok, err, token)
	}
	if err := l.Unlock(ctx); err != nil {
		t.Fatal(err)
	}
}

func ExampleLock() {
	dir, err := os.MkdirTemp("", "example")
	if err != nil {
		panic(err)
	}
	defer os.RemoveAll(dir)
	ctx := context.Background()
	c, err := cluster.Start(ctx, &cluster.Options{Dir: dir})
	if err != nil {
		panic(err)
	}
	defer c.Close()

	// Every process that opens "reports" on the engine shares the lock.
	l, err := cluster.NewLock(ctx, c, "reports", nil)
	if err != nil {
		panic(err)
	}
	first, err := l.Lock(ctx)
	if err != nil {
		panic(err)
	}
	// ... work, passing first to the storage it writes to ...
	if err := l.Unlock(ctx); err != nil {
		panic(err)
	}
	second, err := l.Lock(ctx)
	if err != nil {
		panic(err)
	}
	defer l.Unlock(ctx)
	fmt.Println("tokens grow:", second > first)
	// Output:
	// tokens grow: true
}
