package cluster_test

import (
	"context"
	"syscall"
	"testing"
	"time"

	"github.com/mpgo/mp/cluster"
	"github.com/nats-io/nats.go"
)

// deafLimit bounds how long a waiter may take to see a change made after
// the engine came back. It is a liveness check, not a speed goal: a
// waiter hears a change in milliseconds, and the watch of a waiter that
// missed the restart stays deaf for about twenty seconds.
const deafLimit = 5 * time.Second

// killEngineUnderWatch waits until n watches of the state bucket are in place
// (each is a consumer of its stream), then SIGKILLs the engine's process,
// and returns once c's connection is back: the engine restarts on the
// same store and port.
func killEngineUnderWatch(t *testing.T, ctx context.Context, c *cluster.Cluster, n int) {
	t.Helper()
	back := c.NATS().StatusChanged(nats.CONNECTED)
	defer c.NATS().RemoveStatusListener(back)
	s, err := c.JetStream().Stream(ctx, "KV_MP_STATE")
	if err != nil {
		t.Fatal(err)
	}
	for {
		info, err := s.Info(ctx)
		if err != nil {
			t.Fatal(err)
		}
		if info.State.Consumers >= n {
			break
		}
		select {
		case <-time.After(10 * time.Millisecond):
		case <-ctx.Done():
			t.Fatalf("%d watches, want %d", info.State.Consumers, n)
		}
	}
	pid := cluster.EnginePID(c)
	if pid == 0 {
		t.Fatal("the engine runs in this process")
	}
	if err := syscall.Kill(pid, syscall.SIGKILL); err != nil {
		t.Fatal(err)
	}
	select {
	case <-back:
	case <-ctx.Done():
		t.Fatal("the connection did not come back")
	}
}

// again calls fn until it succeeds, each call with its own short
// deadline: the engine may take a moment after its return to serve
// requests.
func again(ctx context.Context, fn func(ctx context.Context) error) error {
	return retry(ctx, func() error {
		actx, cancel := context.WithTimeout(ctx, time.Second)
		defer cancel()
		return fn(actx)
	})
}

// TestEventWaitAcrossEngineRestart has a Wait under way while the
// engine's process is killed, and Sets the event once the engine is
// back: the Wait, whose watch the engine forgot, returns at once.
func TestEventWaitAcrossEngineRestart(t *testing.T) {
	ctx := bounded(t, 30*time.Second)
	c := start(t, &cluster.Options{Process: true})
	e, err := cluster.NewEvent(ctx, c, "restart")
	if err != nil {
		t.Fatal(err)
	}
	done := make(chan error, 1)
	go func() { done <- e.Wait(ctx) }()
	killEngineUnderWatch(t, ctx, c, 1)
	if err := again(ctx, e.Set); err != nil {
		t.Fatal(err)
	}
	select {
	case err := <-done:
		if err != nil {
			t.Fatal(err)
		}
	case <-time.After(deafLimit):
		t.Fatalf("Wait still waiting %v after a Set made once the engine was back", deafLimit)
	}
}

// TestLockWaiterAcrossEngineRestart has a Lock waiting for another proxy's
// hold while the engine's process is killed; the holder Unlocks once the
// engine is back, and the waiter, whose watch the engine forgot, takes
// the lock at once, with no ErrOwnerDead: the outage did not count
// against the holder's lease.
func TestLockWaiterAcrossEngineRestart(t *testing.T) {
	ctx := bounded(t, 30*time.Second)
	c := start(t, &cluster.Options{Process: true})
	opts := &cluster.LockOptions{TTL: time.Second}
	holder, err := cluster.NewLock(ctx, c, "restart", opts)
	if err != nil {
		t.Fatal(err)
	}
	waiter, err := cluster.NewLock(ctx, c, "restart", opts)
	if err != nil {
		t.Fatal(err)
	}
	first, err := holder.Lock(ctx)
	if err != nil {
		t.Fatal(err)
	}
	type result struct {
		token uint64
		err   error
	}
	done := make(chan result, 1)
	go func() {
		token, err := waiter.Lock(ctx)
		done <- result{token, err}
	}()
	killEngineUnderWatch(t, ctx, c, 1)
	// Unlock is not one to call twice: wait until the engine serves.
	if err := again(ctx, func(ctx context.Context) error { _, err := holder.Locked(ctx); return err }); err != nil {
		t.Fatal(err)
	}
	if err := holder.Unlock(ctx); err != nil {
		t.Fatal(err)
	}
	select {
	case r := <-done:
		if r.err != nil {
			t.Fatal(r.err)
		}
		if r.token <= first {
			t.Fatalf("token %d after %d", r.token, first)
		}
	case <-time.After(deafLimit):
		t.Fatalf("Lock still waiting %v after an Unlock made once the engine was back", deafLimit)
	}
	if err := waiter.Unlock(ctx); err != nil {
		t.Fatal(err)
	}
}

// TestCondWaitAcrossEngineRestart has a Cond.Wait asleep while the
// engine's process is killed; another proxy Notifies once the engine is
// back, and the Wait, whose watch the engine forgot, wakes at once.
func TestCondWaitAcrossEngineRestart(t *testing.T) {
	ctx := bounded(t, 30*time.Second)
	c := start(t, &cluster.Options{Process: true})
	open := func() (*cluster.Lock, *cluster.Cond) {
		l, err := cluster.NewLock(ctx, c, "restart", &cluster.LockOptions{TTL: time.Second})
		if err != nil {
			t.Fatal(err)
		}
		cd, err := cluster.NewCond(ctx, c, "restart", l)
		if err != nil {
			t.Fatal(err)
		}
		return l, cd
	}
	wl, wc := open()
	nl, nc := open()
	if _, err := wl.Lock(ctx); err != nil {
		t.Fatal(err)
	}
	done := make(chan error, 1)
	go func() {
		err := wc.Wait(ctx)
		if err == nil {
			err = wc.Unlock(ctx)
		}
		done <- err
	}()
	// The Wait releases the lock once it has registered and watches.
	for {
		locked, err := nl.Locked(ctx)
		if err != nil {
			t.Fatal(err)
		}
		if !locked {
			break
		}
		select {
		case <-time.After(10 * time.Millisecond):
		case <-ctx.Done():
			t.Fatal("the Wait did not release the lock")
		}
	}
	killEngineUnderWatch(t, ctx, c, 1)
	if err := again(ctx, func(ctx context.Context) error { _, err := nl.Locked(ctx); return err }); err != nil {
		t.Fatal(err)
	}
	if _, err := nl.Lock(ctx); err != nil {
		t.Fatal(err)
	}
	if err := nc.Notify(ctx, 1); err != nil {
		t.Fatal(err)
	}
	if err := nl.Unlock(ctx); err != nil {
		t.Fatal(err)
	}
	select {
	case err := <-done:
		if err != nil {
			t.Fatal(err)
		}
	case <-time.After(deafLimit):
		t.Fatalf("Wait still waiting %v after a Notify made once the engine was back", deafLimit)
	}
}
